"""After a full round of the identity officer's work, no personnummer is where it must not be.

The audit log holds an entry for each look-up, link and extract, and neither
it, nor the log lines, nor any table of the statistics database holds a
personnummer in any written form, even one typed into a reason.
"""

from __future__ import annotations

import logging

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse

from inuk.audit.log import Event
from inuk.audit.models import Entry
from inuk.vault.pseudonymize import find
from tests.conftest import ANNA, ANNA_SAMORDNING, BO, insats
from tests.identity.conftest import PURPOSE, found_in

pytestmark = pytest.mark.django_db(databases=["default", "vault"])


def statistics_database() -> str:
    """Every cell of every table of the default database, as text."""
    connection = connections["default"]
    parts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        value = bytes(value).decode("latin-1")
                    parts.append(str(value))
    return "\n".join(parts)


def api(client: Client, name: str, **body) -> None:
    response = client.post(reverse(name), {**body, **PURPOSE}, content_type="application/json")
    assert response.status_code == 200, response.content


def test_no_personnummer_in_the_audit_log_the_logs_or_the_statistics_database(
    officer: Client, deliver_person, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    deliver_person(ANNA_SAMORDNING, insats("SYV"))
    deliver_person(ANNA, insats("KAR", start="20240301", at="2024-03-01 10:00:00"))
    deliver_person(BO)
    pseudonym = find(BO)
    pages = [
        (reverse("identity:lookup"), {"subject": ANNA}),
        (reverse("identity:lookup"), {"subject": pseudonym}),
        (reverse("identity:link"), {"old": ANNA_SAMORDNING, "new": ANNA}),
        (reverse("identity:extract"), {"personnummer": ANNA, "format": "html"}),
        (reverse("identity:extract"), {"personnummer": ANNA_SAMORDNING, "format": "pdf"}),
        (reverse("identity:extract"), {"personnummer": BO, "format": "json"}),
    ]
    for url, data in pages:
        response = officer.post(url, {**data, **PURPOSE, "reason": f"fråga om {BO}"})
        assert response.status_code == 200, url
    api(officer, "api-1:identity-pseudonym", personnummer=BO)
    api(officer, "api-1:identity-personnummer", pseudonym=pseudonym)
    api(officer, "api-1:identity-extract", personnummer=BO)
    # A wrong number, refused, leaves no trace either.
    wrong = BO[:-1] + str((int(BO[-1]) + 1) % 10)
    assert (
        officer.post(reverse("identity:lookup"), {"subject": wrong, **PURPOSE}).status_code == 400
    )

    entries = Entry.objects.filter(
        event__in=[Event.IDENTITY_LOOKUP, Event.IDENTITY_LINKED, Event.IDENTITY_EXTRACT]
    )
    assert [entry.event for entry in entries].count(Event.IDENTITY_LOOKUP) == 4
    assert [entry.event for entry in entries].count(Event.IDENTITY_EXTRACT) == 4
    assert [entry.event for entry in entries].count(Event.IDENTITY_LINKED) == 1
    assert found_in(statistics_database()) == []  # the audit log lives there too
    assert found_in(caplog.text) == []


def test_the_scan_would_find_one(officer: Client, deliver_person) -> None:
    """The check above looks in the right places: a number written there is found."""
    deliver_person(ANNA)
    assert found_in(statistics_database()) == []
    with connections["default"].cursor() as cursor:
        cursor.execute("UPDATE ledger_person SET pseudonym = %s", [ANNA[:12]])
    assert found_in(statistics_database()) != []
