"""Every page forbids inline scripts and eval, and refuses to be framed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import inuk

pytestmark = pytest.mark.django_db

TEMPLATES = sorted(Path(inuk.__file__).parent.glob("**/templates/**/*.html"))


def _directives(header: str) -> dict[str, list[str]]:
    parts = (part.split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in parts}


@pytest.mark.parametrize("url", ["/konto/logga-in/", "/format/", "/api/v1/docs", "/no-such-page/"])
def test_a_page_allows_scripts_only_from_the_service_s_own_files(client, url):
    response = client.get(url)
    policy = _directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.name)
def test_no_template_has_an_inline_script_or_event_handler(template):
    text = template.read_text(encoding="utf-8")
    inline = [
        tag
        for tag in re.findall(r"<script\b[^>]*>", text)
        if "src=" not in tag and 'type="application/json"' not in tag
    ]
    assert inline == []
    assert re.findall(r"\son[a-z]+\s*=", text) == []
