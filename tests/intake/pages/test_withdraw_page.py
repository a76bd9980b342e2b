"""Withdrawing a delivery from its receipt page (/leveranser/<id>/aterkalla/), as AF's admin."""

from __future__ import annotations

import pytest

from inuk.audit.models import Entry
from inuk.intake.models import Delivery
from inuk.ledger.models import Intervention, Transaction
from tests.intake.pages.conftest import good_file

pytestmark = pytest.mark.django_db(databases=["default", "vault"])


def url(delivery: Delivery) -> str:
    return f"/leveranser/{delivery.public_id}/aterkalla/"


@pytest.fixture
def applied(cast, deliver) -> Delivery:
    delivery = deliver(cast.vasby, good_file(), submitted_by=cast.vasby_reporter.email)
    assert delivery.status == Delivery.Status.APPLIED
    return delivery


def test_af_admin_withdraws_a_delivery_and_its_records_stop_counting(cast, applied, client_as):
    assert Intervention.objects.current().count() == 2

    response = client_as(cast.af_admin).post(url(applied), {"reason": "Fel kommun i filen"})

    assert response.status_code == 302
    assert response.url == f"/leveranser/{applied.public_id}/"
    assert Intervention.objects.current().count() == 0
    assert Transaction.objects.counting().filter(delivery=applied).count() == 0
    entry = Entry.objects.get(event="delivery.withdrawn")
    assert entry.actor == cast.af_admin.email
    assert entry.target == str(applied.public_id)
    assert entry.details == {"transactions": 2, "reason": "Fel kommun i filen"}


def test_the_municipality_sees_the_withdrawal_and_its_reason_on_the_receipt(
    cast, applied, client_as, settings
):
    client_as(cast.af_admin).post(url(applied), {"reason": "Fel kommun i filen"})

    page = client_as(cast.vasby_reporter).get(f"/leveranser/{applied.public_id}/")

    body = page.content.decode()
    assert page.status_code == 200
    assert 'id="withdrawal"' in body
    assert "Fel kommun i filen" in body
    assert 'id="withdraw"' not in body  # no form for a reporter, nor a second time


def test_the_receipt_page_offers_the_form_to_af_admin_only(cast, applied, client_as):
    for name, user in cast.users().items():
        page = client_as(user).get(f"/leveranser/{applied.public_id}/")
        if page.status_code != 200:
            continue
        offered = 'id="withdraw"' in page.content.decode()
        assert offered == (name == "af_admin"), name


@pytest.mark.parametrize(
    "name",
    [
        "vasby_reporter",
        "vasby_analyst",
        "vasby_admin",
        "vallentuna_reporter",
        "af_analyst",
        "identity_officer",
    ],
)
def test_every_other_role_is_refused_and_nothing_changes(name, cast, applied, client_as):
    response = client_as(getattr(cast, name)).post(url(applied), {"reason": "Prov"})

    assert response.status_code in (403, 404)
    assert Intervention.objects.current().count() == 2
    assert not Entry.objects.filter(event="delivery.withdrawn").exists()


def test_a_reason_is_required(cast, applied, client_as):
    response = client_as(cast.af_admin).post(url(applied), {"reason": "  "})

    assert response.status_code == 400
    assert Intervention.objects.current().count() == 2
    assert 'aria-invalid="true"' in response.content.decode()


def test_a_delivery_is_withdrawn_only_once(cast, applied, client_as):
    client = client_as(cast.af_admin)
    client.post(url(applied), {"reason": "Första"})

    again = client.post(url(applied), {"reason": "Andra"})

    assert again.status_code == 400
    assert "redan återkallad" in again.content.decode()
    assert Entry.objects.filter(event="delivery.withdrawn").count() == 1


def test_a_rejected_delivery_cannot_be_withdrawn(cast, deliver, client_as):
    from tests.intake.pages.conftest import file_with_errors

    rejected = deliver(cast.vasby, file_with_errors(), strict=True)
    assert rejected.status == Delivery.Status.REJECTED

    response = client_as(cast.af_admin).post(url(rejected), {"reason": "Prov"})

    assert response.status_code == 400
    assert not Entry.objects.filter(event="delivery.withdrawn").exists()


def test_the_page_answers_get_with_405(cast, applied, client_as):
    assert client_as(cast.af_admin).get(url(applied)).status_code == 405


def test_the_deliveries_list_marks_a_withdrawn_delivery(cast, applied, client_as):
    before = client_as(cast.vasby_reporter).get("/leveranser/").content.decode()
    client_as(cast.af_admin).post(url(applied), {"reason": "Fel kommun i filen"})

    after = client_as(cast.vasby_reporter).get("/leveranser/").content.decode()

    assert "Återkallad" not in before
    assert "Återkallad" in after
