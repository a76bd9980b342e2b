"""Property-based tests from the OpenAPI description: whatever is sent, no 5xx.

Schemathesis generates requests (valid and invalid) for every operation and
sends them through the WSGI application with a valid token; the answers must
never be a server error and must match what the description promises.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from inuk.api.api import api
from inuk.wsgi import application
from tests.conftest import Cast

pytestmark = [pytest.mark.slow, pytest.mark.django_db(databases=["default", "vault"])]

schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
schema.app = application  # requests go through the WSGI application, in this process


@pytest.fixture
def in_process():
    # As Django's test client does: a request must not close the test's database
    # connection, which holds the test's transaction.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def bearer(cast: Cast, agreements, settings, in_process) -> dict[str, str]:
    settings.INUK_API_RATE_PER_MINUTE = 100_000
    return {"Authorization": f"Bearer {cast.token(cast.vasby, 'deliver', 'read')}"}


@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_request_makes_the_api_fail(case, bearer):
    response = case.call(headers=bearer)
    case.validate_response(
        response,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
