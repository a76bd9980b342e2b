"""Swedish first: every string the service shows has its Swedish translation."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

import inuk

CATALOGUES = sorted(Path(inuk.__file__).parent.glob("**/locale/sv/LC_MESSAGES/django.po"))


def entries(path: Path) -> list[tuple[str, str, bool]]:
    """(msgid, msgstr, fuzzy) of each entry but the header."""
    text = path.read_text(encoding="utf-8")
    result = []
    for block in text.split("\n\n"):
        msgid = re.search(r'^msgid ((?:".*"\n)+)', block + "\n", re.M)
        msgstr = re.search(r'^msgstr(?:\[0\])? ((?:".*"\n?)+)', block + "\n", re.M)
        if not msgid or not msgstr:
            continue
        ident = "".join(re.findall(r'"(.*)"', msgid.group(1)))
        if ident:
            value = "".join(re.findall(r'"(.*)"', msgstr.group(1)))
            result.append((ident, value, "#, fuzzy" in block))
    return result


def test_there_are_catalogues():
    assert CATALOGUES


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: p.parts[-5])
def test_every_string_has_a_swedish_translation(path):
    missing = [msgid for msgid, msgstr, fuzzy in entries(path) if not msgstr or fuzzy]
    assert missing == []


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: p.parts[-5])
@pytest.mark.slow  # msgfmt, a process
def test_the_compiled_catalogue_is_up_to_date(path, tmp_path):
    compiled = path.with_suffix(".mo")
    assert compiled.exists()
    fresh = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "-o", str(fresh), str(path)], check=True)
    assert fresh.read_bytes() == compiled.read_bytes()
