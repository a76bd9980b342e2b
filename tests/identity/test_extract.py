"""The register extract: everything stored about one personnummer, as a page, a PDF and JSON."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from inuk.audit.log import Event
from inuk.audit.models import Entry
from inuk.ledger.withdrawal import withdraw
from inuk.vault.pseudonymize import find
from tests.conftest import ANNA, ANNA_SAMORDNING, BO, VASBY_CODE, VASBY_ORGNR, insats, resultat
from tests.identity.conftest import PURPOSE, found_in

pytestmark = pytest.mark.django_db(databases=["default", "vault"])

URL = reverse("identity:extract")


def extract(client: Client, number: str, form: str = "html"):
    return client.post(URL, {"personnummer": number, "format": form, **PURPOSE})


def as_json(client: Client, number: str) -> dict:
    response = extract(client, number, "json")
    assert response.status_code == 200
    return json.loads(response.content)


def test_the_extract_holds_every_transaction_the_state_the_person_and_the_look_ups(
    officer: Client, deliver_person
) -> None:
    first = deliver_person(
        ANNA, insats("SYV", start="20240105"), results=[resultat("STU", start="20240110")]
    )
    officer.post(reverse("identity:lookup"), {"subject": ANNA, **PURPOSE})
    data = as_json(officer, ANNA)
    assert data["known"] and data["pseudonym"] == find(ANNA)
    assert [n["personnummer"] for n in data["numbers"]] == [ANNA]
    assert data["person"] == {"birth_year": 1999, "sex": "woman", "coordination_number": False}
    assert [(t["code"], t["delivery"]) for t in data["transactions"]] == [
        ("SYV", str(first.public_id)),
        ("STU", str(first.public_id)),
    ]
    transaction = data["transactions"][0]
    assert transaction["organisation_number"] == VASBY_ORGNR
    assert (transaction["kommunkod"], transaction["start"]) == (VASBY_CODE, "2024-01-05")
    assert transaction["counts"] is True
    assert [i["code"] for i in data["interventions"]] == ["SYV"]
    assert [r["code"] for r in data["results"]] == ["STU"]
    assert [entry["event"] for entry in data["lookups"]] == ["identity.lookup"]
    assert data["lookups"][0]["case_number"] == PURPOSE["case_number"]


def test_a_withdrawn_deliverys_transactions_are_shown_as_not_counting(
    officer: Client, deliver_person
) -> None:
    delivery = deliver_person(ANNA, insats("SYV"))
    with transaction.atomic():
        withdraw(delivery.pk, reason="fel fil")
    data = as_json(officer, ANNA)
    assert [t["counts"] for t in data["transactions"]] == [False]
    assert data["interventions"] == []


def test_an_extract_of_either_linked_number_shows_both(officer: Client, deliver_person) -> None:
    old = deliver_person(ANNA_SAMORDNING, insats("SYV"))
    new = deliver_person(ANNA, insats("KAR", start="20240301", at="2024-03-01 10:00:00"))
    officer.post(reverse("identity:link"), {"old": ANNA_SAMORDNING, "new": ANNA, **PURPOSE})
    for number in (ANNA_SAMORDNING, ANNA):
        data = as_json(officer, number)
        assert sorted(n["personnummer"] for n in data["numbers"]) == sorted([ANNA_SAMORDNING, ANNA])
        deliveries = {t["delivery"] for t in data["transactions"]}
        assert deliveries == {str(old.public_id), str(new.public_id)}
        assert "identity.linked" in [entry["event"] for entry in data["lookups"]]


def test_the_page_shows_the_extract_readably(officer: Client, deliver_person) -> None:
    delivery = deliver_person(ANNA, insats("SYV"))
    response = extract(officer, ANNA)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.text
    assert ANNA in page and str(delivery.public_id) in page
    assert "Upplands Väsby" in page and "SYV" in page


@pytest.mark.slow  # pdftotext reads the document
def test_the_pdf_is_a_document_with_the_extract(officer: Client, deliver_person, tmp_path) -> None:
    delivery = deliver_person(ANNA, insats("SYV"))
    response = extract(officer, ANNA, "pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert found_in(response["Content-Disposition"]) == []
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "extract.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    assert "Registerutdrag" in text
    assert ANNA in text and str(delivery.public_id)[:8] in text


def test_an_unknown_personnummer_gives_an_extract_saying_nothing_is_stored(
    officer: Client,
) -> None:
    data = as_json(officer, BO)
    assert (data["known"], data["transactions"], data["numbers"]) == (False, [], [])


def test_each_extract_is_audited_with_its_form_and_purpose(officer: Client, deliver_person) -> None:
    deliver_person(ANNA)
    for form in ("html", "pdf", "json"):
        extract(officer, ANNA, form)
    entries = Entry.objects.filter(event=Event.IDENTITY_EXTRACT)
    assert [entry.details["format"] for entry in entries] == ["html", "pdf", "json"]
    assert {entry.target for entry in entries} == {find(ANNA)}
    assert all(e.details["case_number"] == PURPOSE["case_number"] for e in entries)


def test_the_api_gives_the_same_extract(officer: Client, deliver_person) -> None:
    deliver_person(ANNA, insats("SYV"))
    response = officer.post(
        reverse("api-1:identity-extract"),
        {"personnummer": ANNA, **PURPOSE},
        content_type="application/json",
    )
    assert response.status_code == 200
    data = response.json()
    assert data["pseudonym"] == find(ANNA)
    assert [t["code"] for t in data["transactions"]] == ["SYV"]
