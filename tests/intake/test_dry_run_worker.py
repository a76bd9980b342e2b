"""A large dry run: kept for a worker instead of being read in the web process,
reported as the inline dry run of the same file would be, and nothing stored."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from inuk.audit.models import Entry
from inuk.format.writers import Person as FilePerson
from inuk.intake import processing, receipts
from inuk.intake.models import Delivery
from inuk.intake.receive import Submission, dry_run
from inuk.intake.worker import process_pending
from inuk.ledger.models import Intervention, Person, Result, Transaction
from inuk.vault.models import FileChunk, Identity
from tests.conftest import (
    ANNA,
    ANNA_MISTYPED,
    BO,
    VALLENTUNA_CODE,
    VALLENTUNA_ORGNR,
    VASBY_CODE,
    VASBY_ORGNR,
    delivery_file,
    insats,
    resultat,
)

pytestmark = pytest.mark.django_db(databases=["default", "vault"])


def file_with_errors(orgnr: str = VASBY_ORGNR, kommunkod: str = VASBY_CODE) -> bytes:
    """Four transactions of three persons: two accepted, a bad personnummer, an unknown code."""
    return delivery_file(
        [
            FilePerson(ANNA, [insats("SYV"), insats("NOPE", "20240110")]),
            FilePerson(ANNA_MISTYPED, [insats("PRA", "20240201")]),
            FilePerson(BO, [], [resultat("ARB", "20240301")]),
        ],
        orgnr=orgnr,
        kommunkod=kommunkod,
    )


def try_out(organisation, data: bytes, **options) -> dict | Delivery:
    submission = Submission(organisation=organisation, filename="prov.xml", **options)
    return dry_run(io.BytesIO(data), submission)


def checked_by_a_worker(organisation, data: bytes, settings, **options) -> Delivery:
    """A dry run of ``data`` too large to check at once, after a worker has taken it."""
    settings.INUK_INLINE_MAX_BYTES = len(data) - 1
    waiting = try_out(organisation, data, **options)
    assert isinstance(waiting, Delivery)
    assert process_pending("test") == 1
    waiting.refresh_from_db()
    return waiting


def report(outcome: dict) -> dict:
    """What a dry run says of the file, whichever way it was checked."""
    names = ("organisation", "checksum", "refusal", "counts", "errors", "errors_total")
    return {name: outcome[name] for name in names} | {"warnings_total": outcome["warnings_total"]}


def test_a_large_dry_run_is_kept_for_a_worker_and_not_read_in_the_request(
    cast, agreements, settings, monkeypatch
):
    def reading(*args, **kwargs):
        raise AssertionError("the file was read in the request")

    monkeypatch.setattr(processing, "checked_items", reading)
    settings.INUK_INLINE_MAX_BYTES = 100
    waiting = try_out(cast.vasby, file_with_errors())
    assert isinstance(waiting, Delivery)
    assert (waiting.status, waiting.dry_run) == (Delivery.Status.RECEIVED, True)
    assert waiting.transactions == 0
    assert FileChunk.objects.filter(delivery_id=waiting.pk).exists()  # encrypted, for the worker


def test_a_small_dry_run_is_still_answered_at_once_and_keeps_nothing(cast, agreements):
    answer = try_out(cast.vasby, file_with_errors())
    assert isinstance(answer, dict)
    assert (answer["id"], answer["status"], answer["dry_run"]) == (None, "dry_run", True)
    assert not Delivery.objects.exists()
    assert not FileChunk.objects.exists()


def test_the_worker_reports_what_the_inline_dry_run_of_the_same_file_says(
    cast, agreements, settings
):
    inline = try_out(cast.vasby, file_with_errors())
    assert isinstance(inline, dict)
    checked = checked_by_a_worker(cast.vasby, file_with_errors(), settings)
    assert checked.status == Delivery.Status.CHECKED
    stored = receipts.receipt(checked)
    assert stored["dry_run"] is True
    assert report(stored) == report(inline)
    assert stored["counts"] == {
        "persons": 3,
        "transactions": 4,
        "accepted": 2,
        "rejected": 2,
        "already_known": 0,
        "warnings": 0,
    }
    assert {error["code"] for error in stored["errors"]} == {"PNR_CHECKSUM", "CODE_UNKNOWN"}


def test_a_dry_run_checked_by_a_worker_stores_nothing_in_the_ledger_or_the_vault(
    cast, agreements, settings
):
    checked = checked_by_a_worker(cast.vasby, file_with_errors(), settings)
    assert checked.status == Delivery.Status.CHECKED
    assert not Transaction.objects.exists()
    assert not Intervention.objects.exists() and not Result.objects.exists()
    assert not Person.objects.exists()
    assert not Identity.objects.exists()
    assert not FileChunk.objects.exists()  # the file went once it was checked
    assert Entry.objects.filter(event="delivery.checked", target=str(checked.public_id)).exists()


def test_a_strict_dry_run_with_errors_is_checked_not_rejected(cast, agreements, settings):
    checked = checked_by_a_worker(cast.vasby, file_with_errors(), settings, strict=True)
    assert checked.status == Delivery.Status.CHECKED
    assert (checked.accepted, checked.rejected) == (2, 2)
    assert not Transaction.objects.exists()


def test_a_dry_run_a_worker_finds_unauthorised_is_refused_as_the_inline_one_is(
    cast, agreements, settings
):
    inline = try_out(cast.vasby, file_with_errors(VALLENTUNA_ORGNR, VALLENTUNA_CODE))
    assert isinstance(inline, dict)
    checked = checked_by_a_worker(
        cast.vasby, file_with_errors(VALLENTUNA_ORGNR, VALLENTUNA_CODE), settings
    )
    assert (checked.status, checked.dry_run) == (Delivery.Status.REFUSED, True)
    stored = receipts.receipt(checked)
    assert stored["refusal"] == inline["refusal"]
    assert stored["refusal"]["code"] == "ORG_NOT_SENDER"
    assert not FileChunk.objects.exists()
    assert not Identity.objects.exists()


def test_the_same_bytes_sent_for_real_after_a_dry_run_are_received_anew_and_applied(
    cast, agreements, settings, deliver
):
    checked = checked_by_a_worker(cast.vasby, file_with_errors(), settings)
    delivery = deliver(cast.vasby, file_with_errors(), process_inline=True)
    assert delivery.pk != checked.pk
    assert (delivery.status, delivery.dry_run) == (Delivery.Status.APPLIED, False)
    assert delivery.accepted == 2
    assert Transaction.objects.count() == 2
    assert Identity.objects.count() == 2  # Anna and Bo; the bad number is no one


def test_a_dry_run_while_the_same_bytes_wait_as_a_delivery_is_a_dry_run_of_its_own(
    cast, agreements, settings, deliver
):
    waiting = deliver(cast.vasby, file_with_errors(), process_inline=False)
    settings.INUK_INLINE_MAX_BYTES = 0
    first = try_out(cast.vasby, file_with_errors())
    again = try_out(cast.vasby, file_with_errors())
    assert isinstance(first, Delivery) and isinstance(again, Delivery)
    assert len({waiting.pk, first.pk, again.pk}) == 3
    assert (first.dry_run, again.dry_run, waiting.dry_run) == (True, True, False)
    assert process_pending("test") == 3
    assert Transaction.objects.count() == 2  # the delivery's, once
    statuses = sorted(Delivery.objects.values_list("status", flat=True))
    assert statuses == ["applied", "checked", "checked"]


def test_inuk_ingest_checks_a_large_dry_run_itself_as_it_has_no_worker_to_wait_for(
    cast, agreements, settings, tmp_path
):
    settings.INUK_INLINE_MAX_BYTES = 0
    path = tmp_path / "prov.xml"
    path.write_bytes(delivery_file([FilePerson(ANNA, [insats("SYV")])]))
    out = io.StringIO()
    call_command("ingest", str(path), "--org", VASBY_ORGNR, "--dry-run", "--json", stdout=out)
    answer = json.loads(out.getvalue())
    assert (answer["status"], answer["counts"]["accepted"]) == ("dry_run", 1)
    assert not Delivery.objects.exists()
    assert not FileChunk.objects.exists()
