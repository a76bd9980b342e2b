"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os

import pytest

CHROMIUM = "/usr/bin/chromium"

# Playwright's sync API runs an event loop in the test's thread; the tests'
# own database calls stay synchronous, so Django's async guard is lifted here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def browser(monkeypatch):
    """Debian's chromium, driven by Playwright (no browser download), started and stopped
    with each test, so that no Playwright event loop is left running into the next."""
    from django.db import connections
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    )
    yield browser
    # Queries made while the live server ran opened connections of their own; closed,
    # or PostgreSQL refuses to drop the test database at the end.
    connections.close_all()
    browser.close()
    playwright.stop()


@pytest.fixture
def page(browser):
    """A fresh page; the test fails if the page broke the Content Security Policy."""
    context = browser.new_context(locale="sv-SE", accept_downloads=True)
    page = context.new_page()
    violations = watch_policy(page)
    yield page
    context.close()
    assert violations == []


def watch_policy(page) -> list[str]:
    """The Content Security Policy violations the page reports, filled as it runs.

    Both the browser's console message ("Refused to execute inline script
    because it violates ...") and the page's own securitypolicyviolation
    events are caught; the listener is added by the browser, not the page, so
    the policy does not stop it.
    """
    violations: list[str] = []
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', (e) =>"
        " console.error('CSP violation: ' + e.effectiveDirective + ' ' + e.blockedURI));"
    )

    def seen(message) -> None:
        if "Content Security Policy" in message.text or message.text.startswith("CSP violation"):
            violations.append(message.text)

    page.on("console", seen)
    return violations


def axe_violations(page) -> list[dict]:
    """Accessibility problems axe-core finds on the page (WCAG 2.1 A and AA rules)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(
        page,
        options={
            "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}
        },
    )
    return results.response["violations"]


@pytest.fixture(autouse=True)
def reference_data(request):
    """The shipped municipalities, AF and code list, in every test that uses the database.

    Migrations load them once; a test with real transactions empties the
    tables when it ends, so they are put back for the tests after it.
    """
    uses_db = request.node.get_closest_marker("django_db") is not None or any(
        name in request.fixturenames for name in ("db", "transactional_db", "live_server")
    )
    if not uses_db:
        return
    if request.node.get_closest_marker("django_db") is not None:
        request.getfixturevalue("_django_db_helper")
    elif "transactional_db" in request.fixturenames or "live_server" in request.fixturenames:
        request.getfixturevalue("transactional_db")
    else:
        request.getfixturevalue("db")
    from inuk.codes import reference as codes
    from inuk.codes.models import Code
    from inuk.organisations import reference as organisations
    from inuk.organisations.models import Municipality, Organisation

    if Municipality.objects.count() < 290:
        organisations.load(Organisation, Municipality)
    if not Code.objects.exists():
        codes.load(Code)


@pytest.fixture(autouse=True)
def audit_anchor(settings, tmp_path):
    """Each test its own audit anchor: the log is emptied after a test, a shared file is not."""
    settings.INUK_AUDIT_ANCHOR = tmp_path / "audit-anchor"
    return settings.INUK_AUDIT_ANCHOR


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test starts with an empty cache: kept statistics answers belong to one test's data."""
    from django.core.cache import cache

    cache.clear()
