"""Receiving a delivery (SPEC §4), through the same path as every channel."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from inuk.format.writers import Kommun, Person
from inuk.intake import receipts
from inuk.intake.models import Delivery
from inuk.intake.receive import Submission, dry_run
from inuk.ledger.models import Intervention, Result, Transaction
from inuk.vault.models import FileChunk
from tests.conftest import (
    ANNA,
    BO,
    SOLNA_CODE,
    VALLENTUNA_CODE,
    VALLENTUNA_ORGNR,
    VASBY_CODE,
    VASBY_ORGNR,
    delivery_file,
    insats,
    resultat,
)

pytestmark = pytest.mark.django_db(databases=["default", "vault"])


def two_people() -> bytes:
    return delivery_file(
        [
            Person(ANNA, [insats("SYV", "20240105", "20240301")], [resultat("ARB", "20240310")]),
            Person(BO, [insats("PRA", "20240201")]),
        ],
    )


def test_a_valid_delivery_is_applied_and_counted(cast, agreements, deliver):
    delivery = deliver(cast.vasby, two_people())
    assert delivery.status == Delivery.Status.APPLIED
    assert (delivery.persons, delivery.transactions, delivery.accepted, delivery.rejected) == (
        2,
        3,
        3,
        0,
    )
    assert Transaction.objects.count() == 3
    assert Intervention.objects.filter(removed=False).count() == 2
    assert Result.objects.count() == 1


def test_the_same_bytes_again_return_the_first_receipt_and_change_nothing(
    cast, agreements, deliver
):
    first = deliver(cast.vasby, two_people())
    again = deliver(cast.vasby, two_people())
    assert again.pk == first.pk
    assert Delivery.objects.count() == 1
    assert Transaction.objects.count() == 3


def test_the_same_history_in_new_bytes_is_already_known(cast, agreements, deliver):
    deliver(cast.vasby, two_people())
    second = deliver(cast.vasby, two_people() + b"\n")
    assert second.status == Delivery.Status.APPLIED
    assert (second.accepted, second.already_known) == (0, 3)
    assert Transaction.objects.count() == 3


def test_a_transaction_breaking_a_rule_is_rejected_and_the_rest_accepted(cast, agreements, deliver):
    data = delivery_file([Person(ANNA, [insats("SYV"), insats("NOPE", "20240110")])])
    delivery = deliver(cast.vasby, data)
    assert delivery.status == Delivery.Status.APPLIED
    assert (delivery.accepted, delivery.rejected) == (1, 1)
    [error] = receipts.receipt(delivery)["errors"]
    assert error["code"] == "CODE_UNKNOWN"
    assert error["field"] == "Insatskod"
    assert error["path"].endswith("/Insats[2]/Insatskod")


def test_a_strict_delivery_with_an_error_applies_nothing(cast, agreements, deliver):
    data = delivery_file([Person(ANNA, [insats("SYV"), insats("NOPE", "20240110")])])
    delivery = deliver(cast.vasby, data, strict=True)
    assert delivery.status == Delivery.Status.REJECTED
    assert delivery.accepted == 0 and delivery.rejected == 1
    assert Transaction.objects.count() == 0


def test_a_dry_run_stores_nothing(cast, agreements):
    result = dry_run(io.BytesIO(two_people()), Submission(organisation=cast.vasby))
    assert result["status"] == "dry_run"
    assert result["counts"]["transactions"] == 3
    assert Delivery.objects.count() == 0
    assert Transaction.objects.count() == 0
    assert FileChunk.objects.count() == 0


def test_a_delivery_for_another_municipality_is_refused_whole(cast, agreements, deliver):
    data = delivery_file(
        kommuner=[
            Kommun(VASBY_ORGNR, VASBY_CODE, [Person(ANNA, [insats()])]),
            Kommun(VASBY_ORGNR, VALLENTUNA_CODE, [Person(BO, [insats()])]),
        ]
    )
    delivery = deliver(cast.vasby, data)
    assert delivery.status == Delivery.Status.REFUSED
    assert delivery.refusal_code in ("KOMMUNKOD_NOT_OWN", "KOMMUNKOD_NOT_AUTHORISED")
    assert Transaction.objects.count() == 0


def test_a_file_naming_another_organisation_is_refused(cast, agreements, deliver):
    data = delivery_file(
        [Person(ANNA, [insats()])], orgnr=VALLENTUNA_ORGNR, kommunkod=VALLENTUNA_CODE
    )
    delivery = deliver(cast.vasby, data)
    assert delivery.status == Delivery.Status.REFUSED
    assert delivery.refusal_code == "ORG_NOT_SENDER"


def test_a_municipality_without_an_agreement_in_force_is_refused(db, deliver):
    from inuk.organisations.models import Organisation

    solna = Organisation.objects.get(municipality__code=SOLNA_CODE)
    data = delivery_file([Person(ANNA, [insats()])], orgnr=solna.orgnr, kommunkod=SOLNA_CODE)
    delivery = deliver(solna, data)
    assert delivery.status == Delivery.Status.REFUSED
    assert delivery.refusal_code == "AGREEMENT_NOT_IN_FORCE"


def test_a_file_that_is_not_well_formed_is_refused_and_only_the_receipt_kept(
    cast, agreements, deliver
):
    delivery = deliver(cast.vasby, two_people()[:-40])
    assert delivery.status == Delivery.Status.REFUSED
    assert delivery.refusal_code in ("FILE_NOT_WELL_FORMED", "FILE_TRUNCATED")
    assert FileChunk.objects.filter(delivery_id=delivery.pk).count() == 0
    assert Transaction.objects.count() == 0


def test_a_refused_file_may_be_sent_again(cast, agreements, deliver):
    data = two_people()[:-40]
    first = deliver(cast.vasby, data)
    second = deliver(cast.vasby, data)
    assert first.pk != second.pk


def test_a_file_rejected_as_strict_is_received_anew_when_sent_again(cast, agreements, deliver):
    data = delivery_file([Person(ANNA, [insats("SYV"), insats("NOPE", "20240110")])])
    rejected = deliver(cast.vasby, data, strict=True)
    assert rejected.status == Delivery.Status.REJECTED

    again = deliver(cast.vasby, data)

    assert again.pk != rejected.pk
    assert again.strict is False
    assert again.status == Delivery.Status.APPLIED
    assert (again.accepted, again.rejected) == (1, 1)
    assert Transaction.objects.count() == 1
    rejected.refresh_from_db()
    assert rejected.status == Delivery.Status.REJECTED


def test_a_file_sent_again_after_it_was_received_anew_returns_the_new_receipt(
    cast, agreements, deliver
):
    data = delivery_file([Person(ANNA, [insats("SYV"), insats("NOPE", "20240110")])])
    deliver(cast.vasby, data, strict=True)
    applied = deliver(cast.vasby, data)

    assert deliver(cast.vasby, data).pk == applied.pk
    assert deliver(cast.vasby, data, strict=True).pk == applied.pk
    assert Delivery.objects.count() == 2


def test_a_delivery_that_failed_does_not_block_its_bytes(cast, agreements, deliver):
    delivery = deliver(cast.vasby, two_people(), process_inline=False)
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.FAILED)

    again = deliver(cast.vasby, two_people())

    assert again.pk != delivery.pk
    assert again.status == Delivery.Status.APPLIED


def test_an_empty_file_is_refused_on_arrival(cast, agreements, deliver):
    delivery = deliver(cast.vasby, b"")
    assert delivery.status == Delivery.Status.REFUSED
    assert delivery.refusal_code == "FILE_EMPTY"


def test_a_removal_of_an_unknown_record_is_accepted_with_a_warning(cast, agreements, deliver):
    data = delivery_file([Person(ANNA, [insats(status="Borttag")])])
    delivery = deliver(cast.vasby, data)
    assert delivery.status == Delivery.Status.APPLIED
    assert delivery.accepted == 1 and delivery.warnings == 1
    [warning] = receipts.receipt(delivery)["warnings"]
    assert warning["code"] == "IDENTITY_UNKNOWN"
    assert warning["line"] is not None


def test_a_large_delivery_waits_for_a_worker(cast, agreements, deliver):
    from inuk.intake.worker import process_pending

    delivery = deliver(cast.vasby, two_people(), process_inline=False)
    assert delivery.status == Delivery.Status.RECEIVED
    assert process_pending("test") == 1
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.APPLIED


def test_the_receipt_downloads_as_csv(cast, agreements, deliver):
    data = delivery_file(
        [Person(ANNA, [insats("NOPE"), insats(status="Ändring", start="20230101")])]
    )
    delivery = deliver(cast.vasby, data)
    lines = "".join(receipts.messages_csv(delivery)).removeprefix("\ufeff").splitlines()
    assert lines[0] == "severity;code;field;line;path;message_sv;message_en;value"
    assert any(line.startswith("error;CODE_UNKNOWN;Insatskod;") for line in lines)
    assert any(line.startswith("warning;IDENTITY_UNKNOWN;") for line in lines)


def test_a_personnummer_in_an_error_is_masked(cast, agreements, deliver):
    bad = ANNA[:-1] + str((int(ANNA[-1]) + 1) % 10)
    delivery = deliver(cast.vasby, delivery_file([Person(bad, [insats()])]))
    [error] = receipts.receipt(delivery)["errors"]
    assert error["code"] == "PNR_CHECKSUM"
    assert error["value"] == bad[:8] + "-****"


def test_the_receipt_names_the_format_found_in_the_file(cast, agreements, deliver):
    delivery = deliver(cast.vasby, two_people())
    assert delivery.format == "xml"
    assert receipts.receipt(delivery)["format"] == "xml"


def test_a_file_loaded_with_its_arrival_time_is_checked_as_of_then(cast, agreements, deliver):
    arrived = dt.datetime(2024, 2, 5, 9, 0, tzinfo=dt.UTC)
    data = delivery_file(
        [
            Person(
                ANNA,
                [insats("SYV", at="2024-02-01 10:00:00"), insats("KAR", at="2024-02-06 10:00:00")],
            )
        ],
    )
    delivery = deliver(cast.vasby, data, received_at=arrived)
    assert delivery.received_at == arrived
    assert (delivery.accepted, delivery.rejected) == (1, 1)
    assert delivery.messages.get().code == "TIMESTAMP_FUTURE"
