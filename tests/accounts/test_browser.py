"""In a real browser: log in, create a token and see it once, revoke it; pages pass axe.

Runs Debian's chromium through Playwright against the live test server.
"""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page

from inuk.accounts.models import ApiToken
from tests.conftest import PASSWORD, Cast, watch_policy

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,  # a browser process
    pytest.mark.django_db(transaction=True, databases=["default", "vault"]),
]

TOKEN = re.compile(r"inuk_[a-z2-7]{8}_[a-z2-7]{32}")


def assert_accessible(page: Page) -> None:
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def test_an_administrator_creates_sees_once_and_revokes_a_token(
    live_server, browser: Browser, cast: Cast, tmp_path
) -> None:
    page = browser.new_page(locale="sv-SE")  # the service speaks Swedish first
    violations = watch_policy(page)
    page.goto(f"{live_server.url}/konto/logga-in/")
    assert_accessible(page)

    page.fill("input[name=username]", cast.vasby_admin.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    assert "logga-in" not in page.url

    page.goto(f"{live_server.url}/konto/api-nycklar/")
    assert_accessible(page)
    page.click("a[href$='/api-nycklar/ny/']")
    page.fill("input[name=name]", "Procapita export")
    page.click("main button[type=submit]")
    page.wait_for_load_state()

    raw = page.input_value("#token")
    assert TOKEN.fullmatch(raw)
    assert ApiToken.objects.get().public_id == raw.split("_")[1]
    assert_accessible(page)
    page.screenshot(path=str(tmp_path / "token.png"), full_page=True)

    page.goto(f"{live_server.url}/konto/api-nycklar/")
    assert "Procapita export" in page.content()
    assert raw not in page.content() and raw.split("_")[2] not in page.content()
    page.click("a[href*='/aterkalla/']")
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    assert ApiToken.objects.get().revoked_at is not None
    assert page.locator("a[href*='/aterkalla/']").count() == 0
    assert_accessible(page)
    assert violations == []
