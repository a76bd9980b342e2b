"""After withdrawal, erasure, retention and key rotation, no personnummer is where it must not be.

A round of the removals (SPEC §11), each through the door a user or cron
uses, with personnummer typed into every reason: AF's administrator withdraws
a delivery, the identity officer erases a person, the retention command runs,
and the vault's encryption key and look-up key are rotated by command. Each
is in the audit log, and neither the audit log, nor the log lines, nor the
commands' output, nor any table of the statistics database holds a
personnummer in any written form. The erased person's number is in no kept
delivery file either.
"""

from __future__ import annotations

import io
import logging

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from inuk.audit.log import Event
from inuk.audit.models import Entry
from inuk.format.writers import Person
from inuk.ledger.models import Withdrawal
from inuk.vault.files import open_file, stored_delivery_ids
from inuk.vault.keys import generate
from inuk.vault.pseudonymize import find
from tests.conftest import ANNA, BO, delivery_file, insats, log_in, receive_file
from tests.identity.conftest import PURPOSE, forms, found_in
from tests.identity.test_no_personnummer import statistics_database

pytestmark = pytest.mark.django_db(databases=["default", "vault"])


def command(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_every_removal_is_audited_and_leaves_no_number(
    officer: Client, cast, deliver_person, settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings.INUK_VAULT_KEY = generate()
    deliver_person(ANNA, insats("SYV"))
    both = receive_file(
        cast.vasby,
        delivery_file([Person(ANNA, [insats("KAR", start="20240301")]), Person(BO, [insats()])]),
        submitted_by="test",
        channel="api",
    )
    withdrawn = deliver_person(BO, insats("PRA", start="20240401"))
    printed = []

    response = log_in(Client(), cast.af_admin).post(
        f"/leveranser/{withdrawn.public_id}/aterkalla/", {"reason": f"Fel person, {BO}"}
    )
    assert response.status_code == 302
    # Kept in the ledger and shown on the receipt, masked as in the audit log.
    assert Withdrawal.objects.get().reason == f"Fel person, {BO[:8]}-****"
    response = officer.post(
        reverse("erasure"),
        {
            "personnummer": ANNA,
            "case_number": PURPOSE["case_number"],
            "reason": f"Beslut om radering av {ANNA}",
            "confirm": "on",
        },
    )
    assert response.status_code == 302
    assert find(ANNA) is None
    kept = stored_delivery_ids()
    assert both.pk in kept
    for delivery_id in kept:
        with open_file(delivery_id) as stream:
            text = stream.read().decode()
        assert not [form for form in forms(ANNA) if form in text], delivery_id
    settings.INUK_RETENTION_YEARS = 1  # every transaction delivered is older
    printed.append(command("retention"))
    assert find(BO) is None
    settings.INUK_VAULT_KEY = command("vault", "add-key")
    printed.append(command("vault", "reencrypt"))
    settings.INUK_VAULT_KEY = command("vault", "add-lookup-key")
    printed.append(command("vault", "rehash"))

    events = list(Entry.objects.values_list("event", flat=True))
    assert events.count(Event.DELIVERY_WITHDRAWN) == 1
    assert events.count(Event.PERSON_ERASED) == 1
    assert events.count(Event.RETENTION_APPLIED) == 1
    rotations = Entry.objects.filter(event=Event.KEY_ROTATED)
    assert sorted(entry.details["key"] for entry in rotations) == ["encryption", "lookup"]
    assert found_in(statistics_database()) == []  # the audit log lives there too
    assert found_in(caplog.text) == []
    assert found_in("\n".join(printed)) == []
