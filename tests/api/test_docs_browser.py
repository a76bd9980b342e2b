"""The API docs page runs Swagger UI under the service's Content Security Policy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connections
from playwright.sync_api import Browser, sync_playwright

from tests.conftest import CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def browser() -> Iterator[Browser]:
    """A browser of this test's own, as the other apps' browser tests have, closed at its end."""
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    )
    yield browser
    connections.close_all()
    browser.close()
    playwright.stop()


def test_swagger_ui_runs_without_a_policy_violation(page, live_server):
    # The page fixture fails the test on any violation the browser reports.
    page.goto(f"{live_server.url}/api/v1/docs")
    page.wait_for_selector("#swagger-ui .swagger-ui")  # drawn by the bundle's script
    page.wait_for_load_state("networkidle")  # and the description fetched
