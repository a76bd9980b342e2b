"""The API docs page runs Swagger UI under the service's Content Security Policy."""

from __future__ import annotations

import pytest

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,  # a browser process
    pytest.mark.django_db(transaction=True),
]


def test_swagger_ui_runs_without_a_policy_violation(page, live_server):
    # The page fixture fails the test on any violation the browser reports.
    page.goto(f"{live_server.url}/api/v1/docs")
    page.wait_for_selector("#swagger-ui .swagger-ui")  # drawn by the bundle's script
    page.wait_for_load_state("networkidle")  # and the description fetched
