"""The validator page in a real browser, and its accessibility."""

from __future__ import annotations

import pytest

from inuk.format.writers import Person
from tests.conftest import ANNA, ANNA_MISTYPED, axe_violations, delivery_file, insats

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,  # a browser process
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def open_validator(settings):
    settings.INUK_VALIDATOR_REQUIRES_LOGIN = False


def test_a_user_validates_a_file_and_reads_the_errors(page, live_server, tmp_path):
    path = tmp_path / "leverans.xml"
    path.write_bytes(
        delivery_file([Person(ANNA_MISTYPED, [insats()]), Person(ANNA, [insats("NOPE")])])
    )
    page.goto(live_server.url + "/")
    assert page.locator("h1").inner_text() == "Validera en leveransfil"
    page.set_input_files("input[type=file]", str(path))
    page.get_by_role("button", name="Validera", exact=True).click()
    page.wait_for_selector("#result")
    assert "Filen har fel." in page.locator(".verdict").inner_text()
    table = page.locator("table#errors")
    assert table.locator("tbody tr").count() == 2
    text = table.inner_text()
    assert (
        "PNR_CHECKSUM" in text and ANNA_MISTYPED[:8] + "-****" in text and ANNA_MISTYPED not in text
    )
    # Sorting by code puts CODE_UNKNOWN first.
    page.get_by_role("button", name="Kod").click()
    assert "CODE_UNKNOWN" in table.locator("tbody tr").first.inner_text()
    page.screenshot(path=str(tmp_path / "validator.png"), full_page=True)
    assert axe_violations(page) == []


def test_the_page_switches_to_english(page, live_server):
    page.goto(live_server.url + "/")
    page.get_by_role("button", name="English").click()
    page.wait_for_selector("html[lang=en]")
    assert page.locator("h1").inner_text() == "Validate a delivery file"
    assert axe_violations(page) == []


def test_the_format_page_is_accessible(page, live_server):
    page.goto(live_server.url + "/format/")
    assert "PNR_CHECKSUM" in page.content()
    assert axe_violations(page) == []
