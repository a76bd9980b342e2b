"""``inuk agreement``: onboarding by script, every change audited, bad input changing nothing."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from inuk.audit.log import Event, verify
from inuk.audit.models import Entry
from inuk.organisations.models import (
    Agreement,
    ContactPerson,
    DeliveryAuthorisation,
    Organisation,
    Party,
)
from tests.conftest import (
    AF_ORGNR,
    FEDERATION_ORGNR,
    SUPPLIER_ORGNR,
    VALLENTUNA_CODE,
    VASBY_CODE,
    VASBY_ORGNR,
)

pytestmark = pytest.mark.django_db

D = dt.date


def agreement(*args: str) -> str:
    out = io.StringIO()
    call_command("agreement", *args, "--actor", "anna@af.se", stdout=out)
    return out.getvalue()


def listing(*args: str) -> str:
    out = io.StringIO()
    call_command("agreement", "list", *args, stdout=out)
    return out.getvalue()


def audit_entries() -> list[Entry]:
    return list(Entry.objects.filter(event=Event.AGREEMENT_CHANGED).order_by("id"))


@pytest.fixture
def snapshot():
    """What the command may change, to prove a refused command changed none of it."""

    def take() -> tuple:
        return (
            list(Agreement.objects.order_by("id").values()),
            list(ContactPerson.objects.order_by("id").values()),
            list(DeliveryAuthorisation.objects.order_by("id").values()),
            list(Organisation.objects.order_by("id").values()),
            Entry.objects.count(),
        )

    return take


@pytest.fixture
def in_force(db) -> Agreement:
    agreement(
        "add", "--org", VASBY_ORGNR, "--signed-af", "2024-01-02", "--signed-municipality",
        "2024-01-03", "--af-dnr", "Af-2024/17", "--municipality-dnr", "KS 2023/456",
    )  # fmt: skip
    return Agreement.objects.get()


# --- add and sign -----------------------------------------------------------------------


def test_add_registers_a_signed_agreement_in_force_from_the_later_signature(in_force):
    assert in_force.municipality_id == VASBY_CODE
    assert in_force.af_case_number == "Af-2024/17"
    assert in_force.municipality_case_number == "KS 2023/456"
    assert in_force.in_force_from == D(2024, 1, 3)
    assert in_force.is_in_force(D(2024, 1, 3))


def test_add_is_audited_with_who_did_it_and_for_which_municipality(in_force):
    (entry,) = audit_entries()

    assert entry.actor == "anna@af.se"
    assert entry.organisation == VASBY_ORGNR
    assert entry.target == f"agreement:{in_force.pk}"
    assert entry.details["change"] == "added"
    assert entry.details["signed_by_municipality"] == "2024-01-03"
    assert verify().ok


@pytest.mark.parametrize(
    "written", ["212000-0019", "162120000019", "16212000-0019", " 2120000019 "]
)
def test_add_accepts_the_organisation_number_as_people_write_it(written):
    agreement("add", "--org", written, "--signed-af", "2024-01-02")

    assert Agreement.objects.get().municipality_id == VASBY_CODE


def test_a_signature_can_follow_later_and_puts_the_agreement_in_force():
    agreement("add", "--org", VASBY_ORGNR, "--signed-municipality", "2024-01-03")
    assert not Agreement.objects.get().is_in_force(D(2024, 6, 1))

    output = agreement("sign", "--org", VASBY_ORGNR, "--party", "af", "--date", "2024-02-01")

    assert Agreement.objects.get().in_force_from == D(2024, 2, 1)
    assert "in force from 2024-02-01" in output
    assert [e.details["change"] for e in audit_entries()] == ["added", "signed"]


def test_sign_without_an_agreement_awaiting_signature_is_refused(in_force, snapshot):
    before = snapshot()

    with pytest.raises(CommandError, match="no agreement awaiting signature"):
        agreement("sign", "--org", VASBY_ORGNR, "--party", "af", "--date", "2024-02-01")
    assert snapshot() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--org", "2120000018"], "not a valid organisation number"),  # check digit
        (["--org", "212000001"], "not a valid organisation number"),
        (["--org", "21200-00019"], "not a valid organisation number"),
        (["--org", VASBY_ORGNR, "--signed-af", "2024-02-30"], "not a date"),
        (["--org", VASBY_ORGNR, "--signed-af", "1/2/2024"], "not a date"),
        (["--org", VASBY_ORGNR, "--signed-af", "2205-01-01"], "future"),
        (["--org", AF_ORGNR], "not a municipality"),  # AF
        (["--org", SUPPLIER_ORGNR], "no municipality"),
    ],
)
def test_add_with_bad_input_is_refused_and_changes_nothing(args, message, snapshot):
    before = snapshot()

    with pytest.raises(CommandError, match=message):
        agreement("add", *args)
    assert snapshot() == before


def test_add_while_an_agreement_is_in_force_is_refused_and_changes_nothing(in_force, snapshot):
    before = snapshot()

    with pytest.raises(CommandError, match="at most one agreement in force"):
        agreement("add", "--org", VASBY_ORGNR, "--signed-af", "2025-01-02",
                  "--signed-municipality", "2025-01-02")  # fmt: skip
    assert snapshot() == before


# --- notice and ending ---------------------------------------------------------------------


def test_notice_records_who_gave_it_and_ends_three_calendar_months_later(in_force):
    output = agreement("notice", "--org", VASBY_ORGNR, "--date", "2025-01-31", "--by", "kommun")

    in_force.refresh_from_db()
    assert in_force.notice_given_on == D(2025, 1, 31)
    assert in_force.notice_given_by == Party.MUNICIPALITY
    assert in_force.last_day == D(2025, 4, 30)
    assert "last day 2025-04-30" in output
    assert audit_entries()[-1].details["last_day"] == "2025-04-30"


def test_notice_with_an_agreed_end_uses_that_day(in_force):
    agreement("notice", "--org", VASBY_ORGNR, "--date", "2025-01-31", "--end", "2025-02-28")

    in_force.refresh_from_db()
    assert in_force.last_day == D(2025, 2, 28)
    assert in_force.notice_given_by == ""


def test_notice_without_an_agreement_in_force_is_refused(snapshot):
    before = snapshot()

    with pytest.raises(CommandError, match="no agreement in force on 2025-01-31"):
        agreement("notice", "--org", VASBY_ORGNR, "--date", "2025-01-31")
    assert snapshot() == before


def test_notice_with_an_end_before_it_is_refused_and_changes_nothing(in_force, snapshot):
    before = snapshot()

    with pytest.raises(CommandError, match="before the notice"):
        agreement("notice", "--org", VASBY_ORGNR, "--date", "2025-01-31", "--end", "2025-01-01")
    assert snapshot() == before


def test_end_ends_the_agreement_at_once_with_a_reference_to_the_decision(in_force):
    agreement("end", "--org", VASBY_ORGNR, "--date", "2025-03-10", "--decision", "Dom 123-25")

    in_force.refresh_from_db()
    assert in_force.ended_by_decision_on == D(2025, 3, 10)
    assert in_force.decision_reference == "Dom 123-25"
    assert not in_force.is_in_force(D(2025, 3, 10))
    assert audit_entries()[-1].details["change"] == "ended_by_decision"


def test_end_without_a_decision_reference_is_refused(in_force, snapshot):
    before = snapshot()

    with pytest.raises(CommandError, match="decision"):
        agreement("end", "--org", VASBY_ORGNR, "--date", "2025-03-10")
    with pytest.raises(CommandError, match="reference"):
        agreement("end", "--org", VASBY_ORGNR, "--date", "2025-03-10", "--decision", " ")
    assert snapshot() == before


def test_a_new_agreement_can_be_added_once_the_first_has_ended(in_force):
    agreement("notice", "--org", VASBY_ORGNR, "--date", "2025-01-31")

    agreement("add", "--org", VASBY_ORGNR, "--signed-af", "2025-05-01",
              "--signed-municipality", "2025-04-20", "--af-dnr", "Af-2025/3")  # fmt: skip

    second = Agreement.objects.get(af_case_number="Af-2025/3")
    in_force.refresh_from_db()
    assert second.is_in_force(D(2025, 5, 1))
    assert not in_force.is_in_force(D(2025, 5, 1))


# --- list ----------------------------------------------------------------------------------


def test_list_shows_each_agreement_with_its_dnr_dates_and_state(in_force, cast):
    agreement("add", "--org", cast.vallentuna.orgnr, "--signed-af", "2025-01-02")
    agreement("notice", "--org", VASBY_ORGNR, "--date", "2025-01-31")

    lines = listing("--on", "2025-02-01").splitlines()

    assert lines[0].split() == [
        "municipality", "dnr", "signed", "in", "force", "from", "last", "day", "state"
    ]  # fmt: skip
    assert "0114 Upplands Väsby" in lines[1]
    assert "Af-2024/17" in lines[1] and "KS 2023/456" in lines[1]
    assert "2024-01-03" in lines[1] and "2025-04-30" in lines[1]
    assert lines[1].endswith("in force, notice given")
    assert "0115 Vallentuna" in lines[2] and lines[2].endswith("awaiting signature")


def test_list_in_force_shows_only_those_in_force_on_the_day(in_force, cast):
    agreement("add", "--org", cast.vallentuna.orgnr, "--signed-af", "2025-01-02")

    output = listing("--in-force", "--on", "2025-02-01")

    assert "Upplands Väsby" in output
    assert "Vallentuna" not in output
    assert "Upplands Väsby" not in listing("--in-force", "--on", "2023-12-31")


# --- contacts ------------------------------------------------------------------------------


def test_contact_add_attaches_a_contact_person_to_the_current_agreement(in_force):
    agreement("contact", "add", "--org", VASBY_ORGNR, "--party", "kommun", "--name", "Eva Ek",
              "--role", "Arbetsmarknadschef", "--email", "eva.ek@vasby.se")  # fmt: skip

    contact = ContactPerson.objects.get()
    assert (contact.agreement, contact.party, contact.name) == (in_force, "kommun", "Eva Ek")
    assert audit_entries()[-1].details["change"] == "contact_added"


def test_contact_add_with_a_bad_email_is_refused(in_force, snapshot):
    before = snapshot()

    with pytest.raises(CommandError, match="email: Enter a valid email address"):
        agreement("contact", "add", "--org", VASBY_ORGNR, "--party", "af", "--name", "Per",
                  "--email", "per-at-af")  # fmt: skip
    assert snapshot() == before


# --- suppliers -----------------------------------------------------------------------------


def test_supplier_add_registers_a_supplier_or_a_federation():
    agreement("supplier", "add", "--orgnr", SUPPLIER_ORGNR, "--name", "System AB")
    agreement("supplier", "add", "--orgnr", FEDERATION_ORGNR, "--name", "Norrort", "--federation")

    assert Organisation.objects.get(orgnr=SUPPLIER_ORGNR).kind == Organisation.Kind.SUPPLIER
    assert Organisation.objects.get(orgnr=FEDERATION_ORGNR).kind == Organisation.Kind.FEDERATION
    assert [e.organisation for e in audit_entries()] == [SUPPLIER_ORGNR, FEDERATION_ORGNR]


@pytest.mark.parametrize(
    ("orgnr", "message"),
    [(VASBY_ORGNR, "already registered"), ("5566778890", "not a valid organisation number")],
)
def test_supplier_add_with_a_taken_or_bad_number_is_refused(orgnr, message, snapshot):
    before = snapshot()

    with pytest.raises(CommandError, match=message):
        agreement("supplier", "add", "--orgnr", orgnr, "--name", "X AB")
    assert snapshot() == before


def test_supplier_authorise_lets_the_supplier_deliver_for_the_municipality(in_force, supplier):
    agreement("supplier", "authorise", "--supplier", SUPPLIER_ORGNR, "--kommunkod", "114",
              "--from", "2024-06-01")  # fmt: skip

    authorisation = DeliveryAuthorisation.objects.get()
    assert (authorisation.deliverer, authorisation.municipality_id) == (supplier, VASBY_CODE)
    assert authorisation.valid_from == D(2024, 6, 1)
    assert authorisation.valid_until is None
    entry = audit_entries()[-1]
    assert (entry.organisation, entry.details["deliverer"]) == (VASBY_ORGNR, SUPPLIER_ORGNR)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--supplier", FEDERATION_ORGNR, "--kommunkod", VASBY_CODE], "no supplier"),
        (["--supplier", VASBY_ORGNR, "--kommunkod", VALLENTUNA_CODE], "not a supplier"),
        (["--supplier", SUPPLIER_ORGNR, "--kommunkod", "01145"], "not a municipality code"),
        (["--supplier", SUPPLIER_ORGNR, "--kommunkod", "0100"], "no municipality has the code"),
    ],
)
def test_supplier_authorise_with_bad_input_is_refused(args, message, supplier, snapshot):
    before = snapshot()

    with pytest.raises(CommandError, match=message):
        agreement("supplier", "authorise", *args, "--from", "2024-06-01")
    assert snapshot() == before


def test_supplier_revoke_ends_the_registration_before_the_given_day(in_force, supplier):
    agreement("supplier", "authorise", "--supplier", SUPPLIER_ORGNR, "--kommunkod", VASBY_CODE,
              "--from", "2024-06-01")  # fmt: skip

    agreement("supplier", "revoke", "--supplier", SUPPLIER_ORGNR, "--kommunkod", VASBY_CODE,
              "--date", "2025-02-15")  # fmt: skip

    assert DeliveryAuthorisation.objects.get().valid_until == D(2025, 2, 14)
    assert audit_entries()[-1].details["change"] == "supplier_revoked"


def test_supplier_list_shows_whom_each_supplier_delivers_for(in_force, supplier):
    agreement("supplier", "authorise", "--supplier", SUPPLIER_ORGNR, "--kommunkod", VASBY_CODE,
              "--from", "2024-06-01")  # fmt: skip
    out = io.StringIO()

    call_command("agreement", "supplier", "list", stdout=out)

    assert "System AB" in out.getvalue()
    assert "0114 2024-06-01..-" in out.getvalue()


# --- from the shell ------------------------------------------------------------------------


@pytest.mark.slow  # `inuk agreement` run as a process
def test_from_the_shell_bad_input_exits_non_zero_with_a_reason(tmp_path):
    # A fresh embedded service: the test databases belong to this process.
    environment = {k: v for k, v in os.environ.items() if not k.endswith("DATABASE_URL")}
    environment["INUK_DATA_DIR"] = str(tmp_path)
    command = [sys.executable, "-m", "inuk", "agreement", "add", "--org", "212000-0018"]

    result = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=60)

    assert result.returncode != 0
    assert "not a valid organisation number" in result.stderr
