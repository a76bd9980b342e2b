"""The delivery pages in a real browser: upload, a receipt that completes by itself, AF's overview.

Debian's chromium through Playwright against the live test server; axe checks
each page against WCAG 2.1 A and AA. Screenshots of the receipt and the list
are left in /tmp for people to look at.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import Page, expect

from inuk.intake.erasure import erase_person
from inuk.intake.models import Delivery
from inuk.intake.worker import process_pending
from tests.conftest import ANNA, ANNA_MISTYPED, PASSWORD, Cast, axe_violations
from tests.intake.pages.conftest import file_with_errors, good_file

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,  # a browser process
    pytest.mark.django_db(transaction=True, databases=["default", "vault"]),
]


@pytest.fixture(autouse=True)
def close_connections():
    yield
    # Queries made while the browser ran opened connections of their own; closed,
    # PostgreSQL lets the test databases be dropped at the end.
    connections.close_all()


def log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/konto/logga-in/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    assert "logga-in" not in page.url


def test_a_reporter_sends_a_file_with_errors_and_watches_the_receipt_complete(
    page: Page, live_server, cast: Cast, settings, tmp_path
):
    settings.INUK_INLINE_MAX_BYTES = 0  # every file goes to the worker
    path = tmp_path / "mars.xml"
    path.write_bytes(file_with_errors())
    log_in(page, live_server.url, cast.vasby_reporter.email)

    page.get_by_role("link", name="Skicka en leverans").first.click()
    expect(page.locator("h1")).to_have_text("Skicka en leverans")
    assert axe_violations(page) == []
    page.set_input_files("input[type=file]", str(path))
    expect(page.locator("#chosen")).to_have_text("mars.xml")
    page.get_by_role("button", name="Skicka", exact=True).click()

    page.wait_for_url("**/leveranser/*-*-*-*-*/")
    expect(page.locator("#status")).to_have_text("Mottagen, väntar")
    expect(page.locator("#progress-text")).to_have_text("Filen väntar på att bearbetas.")
    assert axe_violations(page) == []

    assert process_pending("test") == 1
    # The page notices by itself, without a reload, and says so politely.
    expect(page.locator("#status")).to_have_text("Tillämpad", timeout=10_000)
    expect(page.locator("#announce")).to_have_text("Bearbetningen är klar: Tillämpad.")
    expect(page.locator(".verdict")).to_contain_text("Leveransen togs emot, med fel.")

    errors = page.locator("table#errors")
    expect(errors.locator("tbody tr")).to_have_count(2)
    assert (
        ANNA_MISTYPED[:8] + "-****" in errors.inner_text() and ANNA_MISTYPED not in page.content()
    )
    # The table sorts by a column's button; the heading tells screen readers the order.
    errors.get_by_role("button", name="Kod").click()
    expect(errors.locator("tbody tr").first).to_contain_text("CODE_UNKNOWN")
    expect(errors.locator("th").nth(3)).to_have_attribute("aria-sort", "ascending")
    errors.get_by_role("button", name="Kod").click()
    expect(errors.locator("tbody tr").first).to_contain_text("PNR_CHECKSUM")

    with page.expect_download() as download:
        page.get_by_role("link", name="Ladda ner alla fel och varningar (CSV)").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    codes = sorted(row[1] for row in list(csv.reader(io.StringIO(text), delimiter=";"))[1:])
    assert codes == ["CODE_UNKNOWN", "PNR_CHECKSUM"]

    assert axe_violations(page) == []
    page.screenshot(path=str(tmp_path / "receipt.png"), full_page=True)

    page.get_by_role("link", name="Alla leveranser").click()
    row = page.locator("table#deliveries tbody tr").first
    expect(row).to_contain_text("mars.xml")
    expect(row.locator(".status")).to_have_text("Tillämpad")
    assert axe_violations(page) == []


def test_the_list_follows_a_delivery_in_progress_and_af_sees_every_organisation(
    page: Page, live_server, cast: Cast, on_file, tmp_path
):
    on_file(cast.vallentuna, filename="vallentuna-feb.xml", transactions=40, accepted=40)
    on_file(cast.vasby, filename="vasby-jan.xml", transactions=12, accepted=10, rejected=2)
    running = on_file(
        cast.vasby,
        filename="vasby-mars.xml",
        status=Delivery.Status.PROCESSING,
        size=10_000,
        bytes_read=3_000,
    )
    log_in(page, live_server.url, cast.af_admin.email)
    page.get_by_role("link", name="Leveranser", exact=True).click()
    expect(page.locator("h1")).to_have_text("Alla leveranser")
    table = page.locator("table#deliveries")
    expect(table.locator("thead")).to_contain_text("Organisation")
    expect(table.locator("tbody tr")).to_have_count(3)
    expect(table).to_contain_text("Vallentuna kommun")
    row = table.locator("tbody tr", has_text="vasby-mars.xml")
    expect(row.locator("progress")).to_have_attribute("value", "30")

    Delivery.objects.filter(pk=running.pk).update(bytes_read=6_000)
    expect(row.locator(".percent")).to_have_text("60\u00a0%", timeout=10_000)
    assert axe_violations(page) == []
    page.screenshot(path=str(tmp_path / "list.png"), full_page=True)

    Delivery.objects.filter(pk=running.pk).update(
        status=Delivery.Status.APPLIED, transactions=7, accepted=7
    )
    expect(row.locator(".status")).to_have_text("Tillämpad", timeout=10_000)
    expect(row.locator("progress")).to_have_count(0)
    expect(row.locator('[data-count="accepted"]')).to_have_text("7")
    expect(page.locator("#announce")).to_have_text("vasby-mars.xml: Tillämpad.")

    page.select_option("select[name=org]", cast.vallentuna.orgnr)
    page.get_by_role("button", name="Visa", exact=True).click()
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).to_contain_text("vallentuna-feb.xml")
    assert axe_violations(page) == []


def test_a_dry_run_in_the_browser_shows_the_report_and_is_accessible(
    page: Page, live_server, cast: Cast, tmp_path
):
    path = tmp_path / "prov.xml"
    path.write_bytes(file_with_errors())
    log_in(page, live_server.url, cast.vasby_reporter.email)
    page.goto(f"{live_server.url}/leveranser/skicka/")
    page.set_input_files("input[type=file]", str(path))
    page.get_by_label("Provkör: validera utan att spara").check()
    page.get_by_role("button", name="Skicka", exact=True).click()
    expect(page.locator("#result-heading")).to_have_text("Provkörning: inget sparades")
    expect(page.locator("#result-heading")).to_be_focused()
    expect(page.locator("table#errors tbody tr")).to_have_count(2)
    assert Delivery.objects.count() == 0
    assert axe_violations(page) == []


def test_the_receipt_of_a_delivery_a_person_was_erased_from_says_so_and_not_who(
    page: Page, live_server, cast: Cast, deliver, tmp_path
):
    delivery = deliver(cast.vasby, good_file())
    erase_person(ANNA, reason="Beslut", case_number="Af-2026/7", actor="officer")
    log_in(page, live_server.url, cast.vasby_reporter.email)

    page.goto(f"{live_server.url}/leveranser/{delivery.public_id}/")

    expect(page.locator("#erasure-heading")).to_have_text("Radering ur den sparade filen")
    expect(page.locator("#erasure")).to_contain_text("har raderat en person ur den här leveransen")
    assert ANNA[:8] not in page.content()
    assert axe_violations(page) == []
    page.screenshot(path=str(tmp_path / "receipt-erasure.png"), full_page=True)
