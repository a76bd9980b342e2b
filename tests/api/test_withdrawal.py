"""``POST /api/v1/deliveries/{id}/withdrawal``: AF's administrator withdraws a delivery."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from inuk.audit.models import Entry
from inuk.ledger.models import Intervention
from tests.api.conftest import fresh_delivery
from tests.conftest import Cast, log_in

pytestmark = pytest.mark.django_db(databases=["default", "vault"])


def path(delivery) -> str:
    return f"/api/v1/deliveries/{delivery.public_id}/withdrawal"


def post_as(user, delivery, body: dict) -> tuple[int, dict]:
    client = log_in(Client(), user)
    response = client.post(path(delivery), json.dumps(body), content_type="application/json")
    return response.status_code, response.json()


@pytest.fixture
def applied(cast: Cast, agreements):
    return fresh_delivery(cast.vasby)


def test_af_admin_withdraws_and_gets_the_receipt_showing_it(cast, applied):
    status, body = post_as(cast.af_admin, applied, {"reason": "Dubblett av annan leverans"})

    assert status == 200
    assert body["id"] == str(applied.public_id)
    assert body["withdrawal"]["reason"] == "Dubblett av annan leverans"
    assert body["withdrawal"]["withdrawn_at"]
    assert not Intervention.objects.current().exists()
    assert Entry.objects.filter(event="delivery.withdrawn", target=str(applied.public_id)).exists()


def test_the_municipalitys_token_reads_the_withdrawal_on_its_receipt(cast, applied, api_as):
    post_as(cast.af_admin, applied, {"reason": "Fel period"})

    body = api_as(cast.token(cast.vasby, "read")).get(f"/deliveries/{applied.public_id}").json()

    assert body["withdrawal"]["reason"] == "Fel period"


def test_a_second_withdrawal_is_409(cast, applied):
    post_as(cast.af_admin, applied, {"reason": "Första"})

    status, body = post_as(cast.af_admin, applied, {"reason": "Andra"})

    assert status == 409
    assert body["error"]["code"] == "DELIVERY_ALREADY_WITHDRAWN"
    assert body["error"]["message_sv"] and body["error"]["message_en"]


def test_an_empty_reason_is_400_and_changes_nothing(cast, applied):
    status, body = post_as(cast.af_admin, applied, {"reason": " "})

    assert status == 400
    assert body["error"]["code"] == "WITHDRAWAL_REASON_MISSING"
    assert Intervention.objects.current().exists()


@pytest.mark.parametrize(
    "name", ["vasby_reporter", "vasby_analyst", "identity_officer", "af_analyst"]
)
def test_every_other_user_is_refused(name, cast, applied):
    status, _body = post_as(getattr(cast, name), applied, {"reason": "Prov"})

    assert status in (403, 404)
    assert Intervention.objects.current().exists()
    assert not Entry.objects.filter(event="delivery.withdrawn").exists()


def test_no_token_may_withdraw_not_even_the_municipalitys_own(cast, applied, api_as):
    api = api_as(cast.token(cast.vasby, "deliver", "read"))

    response = api.post(
        f"/deliveries/{applied.public_id}/withdrawal",
        json.dumps({"reason": "Prov"}).encode(),
        content_type="application/json",
    )

    assert response.status_code == 403
    assert Intervention.objects.current().exists()
