"""The identity officer in a real browser: logs in with the code, looks up, extracts; axe passes."""

from __future__ import annotations

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from inuk.vault.pseudonymize import find
from tests.accounts.test_second_factor import code_for
from tests.conftest import ANNA, PASSWORD, Cast, axe_violations
from tests.identity.conftest import PURPOSE

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,  # a browser process
    pytest.mark.django_db(transaction=True, databases=["default", "vault"]),
]


def test_the_officer_logs_in_with_the_code_and_looks_a_person_up(
    page, live_server, cast: Cast, deliver_person, tmp_path
) -> None:
    deliver_person(ANNA)
    device = TOTPDevice.objects.create(user=cast.identity_officer, name="INUK", confirmed=True)
    page.goto(f"{live_server.url}/identitet/")
    page.fill("input[name=username]", cast.identity_officer.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.fill("input[name=code]", code_for(device))
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(f"{live_server.url}/identitet/")
    assert page.locator("h1").inner_text() == "Identitetsuppslag"
    assert axe_violations(page) == []

    page.get_by_label("Personnummer eller pseudonym").fill(ANNA[:8] + "-" + ANNA[8:])
    page.get_by_label("Diarienummer").fill(PURPOSE["case_number"])
    page.get_by_label("Skäl").fill(PURPOSE["reason"])
    page.get_by_role("button", name="Slå upp").click()
    page.wait_for_selector("#answer")
    assert page.locator("#pseudonym").inner_text() == find(ANNA)
    assert ANNA not in page.url
    page.screenshot(path=str(tmp_path / "identity-lookup.png"), full_page=True)
    assert axe_violations(page) == []

    page.get_by_role("link", name="Registerutdrag").click()
    page.fill("input[name=personnummer]", ANNA)
    page.get_by_label("Diarienummer").fill(PURPOSE["case_number"])
    page.get_by_label("Skäl").fill(PURPOSE["reason"])
    page.get_by_role("button", name="Visa registerutdraget").click()
    page.wait_for_selector("text=Levererade transaktioner")
    assert ANNA in page.content()
    page.screenshot(path=str(tmp_path / "extract.png"), full_page=True)
    assert axe_violations(page) == []


def test_an_officer_without_a_second_factor_is_sent_to_enrol_on_log_in(
    page, live_server, cast: Cast
) -> None:
    page.goto(f"{live_server.url}/identitet/")
    page.fill("input[name=username]", cast.identity_officer.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(f"{live_server.url}/konto/tvastegsverifiering/")
    assert "Din roll kräver tvåstegsverifiering" in page.content()
