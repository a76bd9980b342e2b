"""A receipt's messages: each made from a problem found in the file, as the format words it."""

from __future__ import annotations

import pytest
from django.utils import timezone

from inuk.format.errors import RULES, FileRefused, Problem
from inuk.format.records import INTERVENTION, Location
from inuk.format.writers import Person
from inuk.intake import receipts
from inuk.intake.models import Delivery, Message
from inuk.organisations.models import Organisation
from tests.conftest import ANNA, VASBY_ORGNR, delivery_file, insats

pytestmark = pytest.mark.django_db(databases=["default", "vault"])


@pytest.fixture
def delivery(db) -> Delivery:
    return Delivery.objects.create(
        organisation=Organisation.objects.get(orgnr=VASBY_ORGNR),
        received_at=timezone.now(),
        checksum="0" * 64,
        size=1000,
    )


def test_a_problem_becomes_a_message_with_its_rule_in_both_languages(delivery):
    where = Location("xml", 7, 0, 0, INTERVENTION, 0)
    problem = Problem("CODE_UNKNOWN", "Insatskod", where, "NOPE")

    message = Message.from_problem(delivery.pk, problem)
    message.save()

    message.refresh_from_db()
    assert (message.severity, message.code, message.field) == ("error", "CODE_UNKNOWN", "Insatskod")
    assert (message.line, message.path, message.value) == (7, problem.path, "NOPE")
    assert message.path.endswith("/Insats[1]/Insatskod")
    assert message.message_sv == RULES["CODE_UNKNOWN"].sv
    assert message.message_en == RULES["CODE_UNKNOWN"].en


def test_a_warning_stays_a_warning(delivery):
    problem = Problem("IDENTITY_UNKNOWN", "Status", None, severity=Message.Severity.WARNING)

    message = Message.from_problem(delivery.pk, problem)

    assert message.severity == Message.Severity.WARNING
    assert (message.line, message.path) == (None, "")


def test_a_refusal_becomes_a_message_about_the_whole_file(delivery):
    message = Message.from_problem(delivery.pk, FileRefused("FILE_NO_TRANSACTIONS").as_problem())

    assert (message.code, message.line, message.path) == ("FILE_NO_TRANSACTIONS", None, "")


def test_values_from_the_file_are_cut_to_fit_the_receipt(delivery):
    name = "Okänt" + "x" * 200
    problem = Problem("ELEMENT_UNKNOWN", name, None, "y" * 500, explicit_path="/" + name * 3)

    message = Message.from_problem(delivery.pk, problem)
    message.save()

    for field in ("field", "value", "path"):
        limit = Message._meta.get_field(field).max_length
        assert getattr(message, field) == getattr(problem, field)[:limit]


def test_an_unknown_identity_is_reported_at_its_transaction(cast, agreements, deliver):
    data = delivery_file([Person(ANNA, [insats(status="Borttag")])])

    delivery = deliver(cast.vasby, data)

    [warning] = receipts.receipt(delivery)["warnings"]
    assert (warning["code"], warning["field"]) == ("IDENTITY_UNKNOWN", "Status")
    assert warning["path"].endswith("/Insatslista/Insats[1]")
    assert warning["line"] is not None
