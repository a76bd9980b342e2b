"""``inuk ingest FILE --org ORGNR``: an administrator's files received as an upload would be.

A month's files of a directory go in one after another, each answered with
its receipt; the ledger then holds what they say. Bad input is named in both
languages and changes nothing.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from inuk.format.writers import Person
from inuk.intake.models import Delivery
from inuk.ledger.models import Intervention, Result, Transaction
from inuk.organisations.models import Organisation
from inuk.vault.models import FileChunk, Identity
from tests.conftest import (
    AF_ORGNR,
    ANNA,
    BO,
    CECILIA,
    SOLNA_CODE,
    SUPPLIER_ORGNR,
    VASBY_CODE,
    VASBY_ORGNR,
    delivery_file,
    insats,
    resultat,
)

pytestmark = pytest.mark.django_db(databases=["default", "vault"])


def ingest(path: Path, *options: str, org: str = VASBY_ORGNR) -> tuple[int, str]:
    """The command's exit status and what it printed."""
    out = io.StringIO()
    try:
        call_command("ingest", str(path), "--org", org, *options, stdout=out)
    except SystemExit as exit:
        return int(exit.code or 0), out.getvalue()
    return 0, out.getvalue()


def receipt(path: Path, *options: str, org: str = VASBY_ORGNR) -> tuple[int, dict]:
    status, printed = ingest(path, "--json", *options, org=org)
    return status, json.loads(printed)


def nothing_stored() -> bool:
    return not (
        Transaction.objects.exists()
        or Intervention.objects.exists()
        or Result.objects.exists()
        or Identity.objects.exists()
    )


@pytest.fixture
def month(tmp_path: Path) -> Path:
    """Upplands Väsby's files of a month in a directory, one in each format.

    January starts Anna's and Bo's interventions; February ends Anna's (an
    Ändring) and gives her a result; March starts Cecilia's.
    """
    folder = tmp_path / "leveranser"
    folder.mkdir()
    files = {
        "1-januari.xml": delivery_file(
            [Person(ANNA, [insats("SYV", "20240105")]), Person(BO, [insats("PRA", "20240110")])]
        ),
        "2-februari.csv": delivery_file(
            [
                Person(
                    ANNA,
                    [
                        insats(
                            "SYV",
                            "20240105",
                            "20240220",
                            status="Ändring",
                            at="2024-02-21 08:00:00",
                        )
                    ],
                    [resultat("STU", "20240226", at="2024-02-26 09:00:00")],
                )
            ],
            format="csv",
        ),
        "3-mars.json": delivery_file(
            [Person(CECILIA, [insats("KAR", "20240304", at="2024-03-04 10:00:00")])],
            format="json",
        ),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def test_each_file_of_a_directory_is_received_applied_and_answered_with_its_receipt(
    cast, agreements, month
):
    receipts = [receipt(path) for path in sorted(month.iterdir())]

    assert [status for status, _ in receipts] == [0, 0, 0]
    assert [answer["status"] for _, answer in receipts] == ["applied"] * 3
    assert [answer["counts"]["accepted"] for _, answer in receipts] == [2, 2, 1]
    deliveries = Delivery.objects.order_by("received_at")
    assert [d.filename for d in deliveries] == ["1-januari.xml", "2-februari.csv", "3-mars.json"]
    assert [d.format for d in deliveries] == ["xml", "csv", "json"]
    assert [str(d.public_id) for d in deliveries] == [answer["id"] for _, answer in receipts]
    assert {(d.organisation, d.channel, d.submitted_by) for d in deliveries} == {
        (cast.vasby, "cli", "inuk ingest")
    }
    assert Transaction.objects.count() == 5
    current = set(Intervention.objects.current().values_list("code", "start", "end"))
    assert {(code, start.isoformat(), end and end.isoformat()) for code, start, end in current} == {
        ("SYV", "2024-01-05", "2024-02-20"),
        ("PRA", "2024-01-10", None),
        ("KAR", "2024-03-04", None),
    }
    assert list(Result.objects.values_list("code", flat=True)) == ["STU"]
    assert set(Intervention.objects.values_list("kommunkod", flat=True)) == {VASBY_CODE}


def test_the_receipt_is_printed_for_a_person_to_read(cast, agreements, month):
    status, printed = ingest(month / "1-januari.xml")

    assert status == 0
    delivery = Delivery.objects.get()
    assert f"Kvittens / Receipt: {delivery.public_id}" in printed
    assert "Status: applied" in printed
    assert "godtagna/accepted 2" in printed


def test_a_file_ingested_again_gives_the_first_receipt_and_changes_nothing(cast, agreements, month):
    path = month / "1-januari.xml"
    _, first = receipt(path)
    status, again = receipt(path)

    assert status == 0
    assert again["id"] == first["id"]
    assert Delivery.objects.count() == 1
    assert Transaction.objects.count() == 2


def test_rejected_transactions_exit_1_and_are_named_with_the_number_masked(
    cast, agreements, tmp_path
):
    path = tmp_path / "fel.xml"
    path.write_bytes(delivery_file([Person(ANNA, [insats("SYV"), insats("NOPE", "20240110")])]))

    status, printed = ingest(path)

    assert status == 1
    assert "CODE_UNKNOWN" in printed
    assert ANNA not in printed
    assert Transaction.objects.count() == 1


def test_a_strict_file_with_an_error_exits_1_and_applies_nothing(cast, agreements, tmp_path):
    path = tmp_path / "fel.xml"
    path.write_bytes(delivery_file([Person(ANNA, [insats("SYV"), insats("NOPE", "20240110")])]))

    status, answer = receipt(path, "--strict")

    assert (status, answer["status"]) == (1, "rejected")
    assert nothing_stored()


def test_a_dry_run_reports_and_stores_nothing(cast, agreements, month):
    status, answer = receipt(month / "1-januari.xml", "--dry-run")

    assert (status, answer["status"], answer["counts"]["accepted"]) == (0, "dry_run", 2)
    assert not Delivery.objects.exists()
    assert not FileChunk.objects.exists()
    assert nothing_stored()


def test_af_ingests_for_a_municipality(cast, tmp_path):
    path = tmp_path / "af.xml"
    path.write_bytes(delivery_file([Person(BO, [insats("JSA")])], orgnr=AF_ORGNR))

    status, answer = receipt(path, org=AF_ORGNR)

    assert (status, answer["status"]) == (0, "applied")
    assert Delivery.objects.get().organisation == cast.af


# --- bad input -------------------------------------------------------------------------


def test_a_missing_file_is_named_and_nothing_is_received(cast, agreements, tmp_path):
    with pytest.raises(CommandError, match="Filen finns inte / No such file"):
        ingest(tmp_path / "saknas.xml")
    assert not Delivery.objects.exists()


def test_a_directory_is_not_taken_for_a_file(cast, agreements, month):
    with pytest.raises(CommandError, match="No such file"):
        ingest(month)
    assert not Delivery.objects.exists()


@pytest.mark.parametrize("orgnr", ["123", "2120000018", "kommunen"])
def test_an_invalid_organisation_number_is_named_and_nothing_is_received(
    cast, agreements, month, orgnr
):
    with pytest.raises(
        CommandError, match="ogiltigt organisationsnummer / not a valid organisation number"
    ):
        ingest(month / "1-januari.xml", org=orgnr)
    assert not Delivery.objects.exists()


def test_an_organisation_that_is_not_registered_is_named_and_nothing_is_received(
    cast, agreements, month
):
    with pytest.raises(
        CommandError, match=r"Ingen organisation har organisationsnumret .* / No organisation has"
    ):
        ingest(month / "1-januari.xml", org=SUPPLIER_ORGNR)
    assert not Delivery.objects.exists()


def test_the_organisation_number_may_be_written_with_a_dash(cast, agreements, month):
    status, answer = receipt(month / "1-januari.xml", org=f"{VASBY_ORGNR[:6]}-{VASBY_ORGNR[6:]}")
    assert (status, answer["status"]) == (0, "applied")


def test_a_file_that_is_not_a_delivery_is_refused_exit_2_and_stores_nothing(
    cast, agreements, tmp_path
):
    path = tmp_path / "trasig.xml"
    path.write_bytes(b"<Leverans><Kommunlista>")

    status, answer = receipt(path)

    assert status == 2
    assert answer["status"] == "refused"
    assert answer["refusal"]["code"] in ("FILE_NOT_WELL_FORMED", "FILE_TRUNCATED")
    assert answer["refusal"]["message_sv"] and answer["refusal"]["message_en"]
    assert nothing_stored()
    assert not FileChunk.objects.exists()


def test_a_file_in_another_organisations_name_is_refused_and_stores_nothing(
    cast, agreements, month
):
    status, answer = receipt(month / "1-januari.xml", org=cast.vallentuna.orgnr)

    assert (status, answer["refusal"]["code"]) == (2, "ORG_NOT_SENDER")
    assert nothing_stored()


def test_a_municipality_without_an_agreement_is_refused_and_nothing_is_stored(cast, tmp_path):
    solna = Organisation.objects.get(municipality__code=SOLNA_CODE)
    path = tmp_path / "solna.xml"
    path.write_bytes(
        delivery_file([Person(ANNA, [insats()])], orgnr=solna.orgnr, kommunkod=SOLNA_CODE)
    )

    status, answer = receipt(path, org=solna.orgnr)

    assert (status, answer["refusal"]["code"]) == (2, "AGREEMENT_NOT_IN_FORCE")
    assert nothing_stored()


@pytest.mark.slow  # `inuk ingest` as an administrator runs it: a process, its schema made first
def test_from_the_shell_bad_input_is_named_without_a_traceback(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INUK_", "DJANGO_"))}
    env["INUK_DATA_DIR"] = str(tmp_path / "data")
    path = tmp_path / "leverans.xml"
    path.write_bytes(delivery_file([Person(ANNA, [insats()])]))

    def inuk(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "inuk", "ingest", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    unknown = inuk(str(path), "--org", SUPPLIER_ORGNR)
    assert unknown.returncode != 0
    assert (
        "No organisation has the organisation number" in unknown.stderr
        and "Traceback" not in unknown.stderr
    )
    refused = inuk(str(path), "--org", VASBY_ORGNR, "--json")  # no agreement in a new service
    assert refused.returncode == 2, refused.stderr
    assert json.loads(refused.stdout)["refusal"]["code"] == "AGREEMENT_NOT_IN_FORCE"
