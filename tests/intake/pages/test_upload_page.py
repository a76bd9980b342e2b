"""The upload page (/leveranser/skicka/): a reporter sends a file as their organisation."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from inuk.accounts.models import Role, User
from inuk.audit.models import Entry
from inuk.format.writers import Kommun, Person
from inuk.intake.models import Delivery
from inuk.intake.worker import process_pending
from inuk.ledger.models import Transaction
from inuk.organisations.models import DeliveryAuthorisation, Municipality, Organisation
from inuk.vault.models import FileChunk
from tests.conftest import (
    ANNA,
    ANNA_MISTYPED,
    BO,
    SUPPLIER_ORGNR,
    VALLENTUNA_CODE,
    VALLENTUNA_ORGNR,
    VASBY_CODE,
    VASBY_ORGNR,
    delivery_file,
    insats,
)
from tests.intake.pages.conftest import file_with_errors, good_file

pytestmark = pytest.mark.django_db(databases=["default", "vault"])

URL = "/leveranser/skicka/"


def send(client, data: bytes, name: str = "leverans.xml", **options):
    return client.post(URL, {"file": SimpleUploadedFile(name, data), **options})


def test_a_reporter_gets_the_form_with_drop_zone_dry_run_and_all_or_nothing(cast, client_as):
    response = client_as(cast.vasby_reporter).get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="dropzone"' in page and 'type="file"' in page
    assert "Provkör: validera utan att spara" in page
    assert "Allt eller inget" in page
    assert "Du levererar som Upplands Väsby kommun" in page


@pytest.mark.parametrize(
    "member",
    [
        "vasby_analyst",
        "vasby_admin",
        "vallentuna_analyst",
        "af_admin",
        "af_analyst",
        "identity_officer",
    ],
)
def test_only_reporters_may_open_it(cast, client_as, member):
    assert client_as(getattr(cast, member)).get(URL).status_code == 403


def test_a_visitor_who_is_not_logged_in_is_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/konto/logga-in/")


def test_an_upload_creates_a_delivery_and_leads_to_its_receipt(cast, client_as):
    response = send(client_as(cast.vasby_reporter), good_file())
    delivery = Delivery.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/leveranser/{delivery.public_id}/"
    assert delivery.organisation == cast.vasby
    assert (delivery.submitted_by, delivery.channel, delivery.filename) == (
        cast.vasby_reporter.email,
        "web",
        "leverans.xml",
    )
    assert (delivery.status, delivery.accepted) == (Delivery.Status.APPLIED, 2)
    assert Transaction.objects.count() == 2
    receipt = client_as(cast.vasby_reporter).get(response["Location"])
    assert receipt.status_code == 200
    assert receipt.context["receipt"]["counts"]["accepted"] == 2


def test_a_reporter_delivers_as_their_own_organisation_only(cast, client_as):
    # Vallentuna's reporter sends Upplands Väsby's records: the file is refused whole.
    send(client_as(cast.vallentuna_reporter), good_file(VASBY_ORGNR, VASBY_CODE))
    delivery = Delivery.objects.get()
    assert delivery.organisation == cast.vallentuna
    assert delivery.status == Delivery.Status.REFUSED
    assert delivery.refusal_code == "ORG_NOT_SENDER"
    assert Transaction.objects.count() == 0


def test_all_or_nothing_rejects_the_whole_file_when_one_transaction_is_wrong(cast, client_as):
    send(client_as(cast.vasby_reporter), file_with_errors(), strict="on")
    delivery = Delivery.objects.get()
    assert delivery.strict is True
    assert (delivery.status, delivery.accepted, delivery.rejected) == (
        Delivery.Status.REJECTED,
        0,
        2,
    )
    assert Transaction.objects.count() == 0


def test_a_dry_run_shows_the_report_in_place_and_stores_nothing(cast, client_as):
    client = client_as(cast.vasby_reporter)
    audited = Entry.objects.count()
    response = send(client, file_with_errors(), dry_run="on")
    assert response.status_code == 200
    report = response.context["report"]
    assert report["status"] == "dry_run"
    assert (report["counts"]["transactions"], report["counts"]["rejected"]) == (3, 2)
    page = response.content.decode()
    assert "Provkörning: inget sparades" in page
    assert "PNR_CHECKSUM" in page and "CODE_UNKNOWN" in page
    assert ANNA_MISTYPED[:8] + "-****" in page
    assert Delivery.objects.count() == 0
    assert Transaction.objects.count() == 0
    assert FileChunk.objects.count() == 0
    assert Entry.objects.count() == audited


def test_a_dry_run_never_shows_a_whole_personnummer(cast, client_as):
    response = send(client_as(cast.vasby_reporter), file_with_errors(), dry_run="on")
    page = response.content.decode()
    for number in (ANNA, ANNA_MISTYPED, BO):
        assert number not in page and number[2:] not in page


def test_a_dry_run_says_that_all_or_nothing_would_reject_the_file(cast, client_as):
    response = send(client_as(cast.vasby_reporter), file_with_errors(), dry_run="on", strict="on")
    assert "skulle hela leveransen avvisas" in response.content.decode()


def test_a_dry_run_of_a_file_for_another_municipality_says_it_would_be_refused(cast, client_as):
    response = send(
        client_as(cast.vasby_reporter), good_file(VALLENTUNA_ORGNR, VALLENTUNA_CODE), dry_run="on"
    )
    assert response.context["report"]["refusal"]["code"] == "ORG_NOT_SENDER"
    assert "Filen kunde inte tas emot." in response.content.decode()


def test_the_same_file_again_leads_to_the_first_receipt(cast, client_as):
    client = client_as(cast.vasby_reporter)
    first = send(client, good_file())
    again = send(client, good_file(), name="igen.xml")
    assert again["Location"] == first["Location"]
    assert Delivery.objects.count() == 1
    page = client.get(again["Location"]).content.decode()
    assert "Filen har levererats tidigare" in page


def test_a_large_file_waits_for_a_worker(cast, client_as, settings):
    settings.INUK_INLINE_MAX_BYTES = 0
    response = send(client_as(cast.vasby_reporter), good_file())
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.RECEIVED
    page = client_as(cast.vasby_reporter).get(response["Location"]).content.decode()
    assert "Filen väntar på att bearbetas." in page
    assert f"/leveranser/{delivery.public_id}/status.json" in page


def test_a_large_dry_run_leads_to_its_receipt_and_a_worker_checks_it(cast, client_as, settings):
    client = client_as(cast.vasby_reporter)
    inline = send(client, file_with_errors(), dry_run="on").context["report"]
    settings.INUK_INLINE_MAX_BYTES = 0
    response = send(client, file_with_errors(), dry_run="on")
    tried = Delivery.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/leveranser/{tried.public_id}/"
    assert (tried.status, tried.dry_run) == (Delivery.Status.RECEIVED, True)
    waiting = client.get(response["Location"]).content.decode()
    assert "Provkörning: inget sparas" in waiting
    assert "Filen väntar på att bearbetas." in waiting
    assert process_pending("test") == 1
    page = client.get(response["Location"])
    shown = page.context["receipt"]
    assert shown["status"] == "checked"
    assert (shown["counts"], shown["errors"]) == (inline["counts"], inline["errors"])
    text = page.content.decode()
    assert "Provkörning: inget sparas" in text
    assert "Filen har fel." in text and "Skulle godkännas" in text
    assert ANNA_MISTYPED not in text
    assert Transaction.objects.count() == 0
    assert not FileChunk.objects.exists()
    listing = client.get("/leveranser/").content.decode()
    assert "Kontrollerad (provkörning)" in listing and "Provkörning: inget sparas" in listing


def test_a_post_without_a_file_says_what_is_missing(cast, client_as):
    response = client_as(cast.vasby_reporter).post(URL, {"dry_run": "on"})
    assert response.status_code == 400
    assert response.context["form"].errors["file"]
    assert 'aria-invalid="true"' in response.content.decode()
    assert Delivery.objects.count() == 0


def test_the_page_speaks_english_when_asked(cast, client_as):
    client = client_as(cast.vasby_reporter)
    client.cookies["django_language"] = "en"
    page = client.get(URL).content.decode()
    assert "Dry run: validate without storing" in page
    assert "All or nothing" in page


@pytest.fixture
def supplier_reporter(cast) -> User:
    """A reporter of a supplier that Upplands Väsby and Vallentuna have both registered."""
    supplier = Organisation.objects.create(
        orgnr=SUPPLIER_ORGNR, name="System AB", kind=Organisation.Kind.SUPPLIER
    )
    for code in (VASBY_CODE, VALLENTUNA_CODE):
        DeliveryAuthorisation.objects.create(
            deliverer=supplier,
            municipality=Municipality.objects.get(code=code),
            valid_from=dt.date(2020, 1, 1),
        )
    return User.objects.create_user(
        "reporter@system.example", organisation=supplier, roles=[Role.REPORTER]
    )


def test_a_supplier_delivers_for_the_municipalities_that_registered_it(
    client_as, supplier_reporter
):
    client = client_as(supplier_reporter)
    assert "System AB får leverera för de kommuner" in client.get(URL).content.decode()
    kommuner = [
        Kommun(SUPPLIER_ORGNR, VASBY_CODE, [Person(ANNA, [insats()])]),
        Kommun(SUPPLIER_ORGNR, VALLENTUNA_CODE, [Person(BO, [insats()])]),
    ]
    send(client, delivery_file(kommuner=kommuner))
    delivery = Delivery.objects.get()
    assert delivery.organisation == supplier_reporter.organisation
    assert (delivery.status, delivery.accepted) == (Delivery.Status.APPLIED, 2)
