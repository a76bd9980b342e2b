"""The validator page: drop a file, see the same report as ``inuk validate``."""

from __future__ import annotations

import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from inuk.format.writers import Person
from tests.conftest import ANNA, ANNA_MISTYPED, delivery_file, insats

pytestmark = pytest.mark.django_db


def upload(client, data: bytes, name: str = "leverans.xml", **extra):
    return client.post("/", {"file": SimpleUploadedFile(name, data)}, **extra)


@pytest.fixture(autouse=True)
def open_validator(settings):
    settings.INUK_VALIDATOR_REQUIRES_LOGIN = False


def test_the_page_offers_a_file_field_and_links_to_the_format(client):
    response = client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'type="file"' in page
    assert 'href="/format/"' in page
    assert 'lang="sv"' in page


def test_a_valid_file_is_reported_valid(client):
    response = upload(client, delivery_file([Person(ANNA, [insats()])]))
    assert response.status_code == 200
    assert response.context["report"]["valid"] is True


def test_errors_are_listed_with_masked_personnummer(client):
    response = upload(client, delivery_file([Person(ANNA_MISTYPED, [insats()])]))
    page = response.content.decode()
    assert "PNR_CHECKSUM" in page
    assert ANNA_MISTYPED[:8] + "-****" in page
    assert ANNA_MISTYPED not in page and ANNA_MISTYPED[2:] not in page


def test_the_report_has_a_json_twin(client):
    response = upload(
        client, delivery_file([Person(ANNA_MISTYPED, [insats()])]), HTTP_ACCEPT="application/json"
    )
    assert response["Content-Type"] == "application/json"
    report = response.json()
    assert report["valid"] is False
    assert report["errors"][0]["code"] == "PNR_CHECKSUM"


def test_the_page_speaks_english_when_asked(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    response = upload(client, delivery_file([Person(ANNA_MISTYPED, [insats()])]))
    page = response.content.decode()
    assert "identity number&#x27;s check digit is wrong." in page


def test_a_post_without_a_file_says_what_is_missing(client):
    response = client.post("/", {})
    assert response.status_code == 400
    assert response.context["form"].errors["file"]


def test_nothing_of_the_file_is_logged(client, caplog):
    caplog.set_level(logging.DEBUG)
    upload(
        client, delivery_file([Person(ANNA_MISTYPED, [insats()]), Person(ANNA, [insats("NOPE")])])
    )
    assert ANNA_MISTYPED not in caplog.text and ANNA not in caplog.text
    assert ANNA[2:] not in caplog.text


def test_it_requires_login_when_configured(client):
    with override_settings(INUK_VALIDATOR_REQUIRES_LOGIN=True):
        response = client.get("/")
    assert response.status_code == 302
    assert "login" in response["Location"] or "logga-in" in response["Location"]


def test_a_file_above_the_inline_limit_is_refused_unread_with_the_way_to_check_it(
    client, settings, monkeypatch
):
    def reading(*args, **kwargs):
        raise AssertionError("the file was read in the request")

    monkeypatch.setattr("inuk.web.views.validate_stream", reading)
    data = delivery_file([Person(ANNA, [insats()])])
    settings.INUK_INLINE_MAX_BYTES = len(data) - 1
    response = upload(client, data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Filen är större än vad den här sidan kontrollerar" in page
    assert "inuk validate FIL" in page
    as_json = upload(client, data, HTTP_ACCEPT="application/json")
    assert as_json.status_code == 400
    assert as_json.json()["errors"]["file"][0]["code"] == "too_large"


def test_every_page_names_an_icon_the_service_serves(client):
    """Browsers ask for one on every page; without it each visit logs a 404."""
    page = client.get("/").content.decode()
    assert '<link rel="icon" href="/static/web/favicon.svg"' in page
    response = client.get("/static/web/favicon.svg")
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body.startswith(b"<svg")
