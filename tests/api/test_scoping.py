"""Every endpoint as every member of the cast and with tokens of two municipalities.

The table says what each may see and do; the test fails if any endpoint shows
anyone another organisation's delivery, or takes a delivery in as another
organisation's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.test import Client

from inuk.format.synthetic import personnummer
from inuk.format.writers import Person
from inuk.intake.models import Delivery
from inuk.ledger.models import Transaction
from tests.api.conftest import API, fresh_delivery
from tests.conftest import (
    VALLENTUNA_CODE,
    VALLENTUNA_ORGNR,
    VASBY_CODE,
    VASBY_ORGNR,
    Cast,
    delivery_file,
    insats,
    log_in,
)

pytestmark = [
    pytest.mark.slow,  # two deliveries applied for every caller: seconds each
    pytest.mark.django_db(databases=["default", "vault"]),
]

VASBY_ONLY = {VASBY_ORGNR}
VALLENTUNA_ONLY = {VALLENTUNA_ORGNR}
BOTH = VASBY_ONLY | VALLENTUNA_ONLY
SENDERS = [(VASBY_ORGNR, VASBY_CODE), (VALLENTUNA_ORGNR, VALLENTUNA_CODE)]


@dataclass(frozen=True)
class Expected:
    sees: set[str] | None  # organisations whose receipts it reads; None: the list is 403
    delivers_as: str | None  # the organisation it delivers as; None: 403


TABLE: dict[str, Expected] = {
    "vasby_reporter": Expected(VASBY_ONLY, VASBY_ORGNR),
    "vasby_analyst": Expected(VASBY_ONLY, None),
    "vasby_admin": Expected(None, None),
    "vallentuna_reporter": Expected(VALLENTUNA_ONLY, VALLENTUNA_ORGNR),
    "vallentuna_analyst": Expected(VALLENTUNA_ONLY, None),
    "vallentuna_admin": Expected(None, None),
    "af_admin": Expected(BOTH, None),
    "af_analyst": Expected(None, None),
    "identity_officer": Expected(BOTH, None),
    # Tokens: (organisation, scopes). A deliver-only token reads only what it sent itself.
    "token vasby deliver": Expected(set(), VASBY_ORGNR),
    "token vasby read": Expected(VASBY_ONLY, None),
    "token vasby deliver+read": Expected(VASBY_ONLY, VASBY_ORGNR),
    "token vallentuna deliver": Expected(set(), VALLENTUNA_ORGNR),
    "token vallentuna read": Expected(VALLENTUNA_ONLY, None),
    "token vallentuna deliver+read": Expected(VALLENTUNA_ONLY, VALLENTUNA_ORGNR),
}


class Caller:
    def __init__(self, client: Client, token: str | None = None) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str, **params):
        return self.client.get(API + path, params, headers=self.headers)

    def post(self, path: str, data: bytes):
        return self.client.post(
            API + path, data, content_type="application/xml", headers=self.headers
        )


@pytest.fixture
def world(cast: Cast, agreements) -> dict[str, Delivery]:
    return {
        VASBY_ORGNR: fresh_delivery(cast.vasby, bad=1),
        VALLENTUNA_ORGNR: fresh_delivery(cast.vallentuna, bad=1),
    }


def caller_for(name: str, cast: Cast) -> Caller:
    if not name.startswith("token "):
        client = Client()
        log_in(client, cast.users()[name])
        return Caller(client)
    _, place, scopes = name.split()
    organisation = cast.vasby if place == "vasby" else cast.vallentuna
    return Caller(Client(), cast.token(organisation, *scopes.split("+")))


def a_file(orgnr: str, kommunkod: str, serial: int) -> bytes:
    person = Person(personnummer(dt.date(1985, 5, 5), serial), [insats("KAR", "20240301")])
    return delivery_file([person], orgnr=orgnr, kommunkod=kommunkod)


@pytest.mark.parametrize("name", list(TABLE))
def test_every_endpoint_keeps_to_the_callers_own_organisation(name, cast, world):
    expected = TABLE[name]
    caller = caller_for(name, cast)

    listed = caller.get("/deliveries")
    if expected.sees is None:
        assert listed.status_code == 403, listed.content
    else:
        assert listed.status_code == 200
        assert {item["organisation"] for item in listed.json()["items"]} == expected.sees
        for status in ("applied", "refused"):
            for month in ("2026-11", None):
                params = {"status": status} | ({"month": month} if month else {})
                for item in caller.get("/deliveries", **params).json()["items"]:
                    assert item["organisation"] in expected.sees

    for orgnr, delivery in world.items():
        visible = expected.sees is not None and orgnr in expected.sees
        for path in (
            f"/deliveries/{delivery.public_id}",
            f"/deliveries/{delivery.public_id}/errors.csv",
        ):
            response = caller.get(path)
            # Never 403 for a receipt: whether it exists is not told.
            assert response.status_code == (200 if visible else 404), (path, response.status_code)
        if visible:
            assert caller.get(f"/deliveries/{delivery.public_id}").json()["organisation"] == orgnr

    for path in ("/organisations", "/codes"):
        assert caller.get(path).status_code == 200


@pytest.mark.parametrize("name", list(TABLE))
def test_no_one_delivers_as_another_organisation(name, cast, world):
    expected = TABLE[name]
    caller = caller_for(name, cast)
    before = set(Delivery.objects.values_list("pk", flat=True))
    for serial, (orgnr, kommunkod) in enumerate(SENDERS, start=501):
        response = caller.post("/deliveries", a_file(orgnr, kommunkod, serial))
        if expected.delivers_as is None:
            assert response.status_code == 403
            assert response.json()["error"]["code"] == "NOT_ALLOWED_TO_DELIVER"
            continue
        assert response.status_code == 201, response.content
        body = response.json()
        # The sender is always the caller's own organisation...
        assert body["organisation"] == expected.delivers_as
        # ...and a file in another organisation's name is refused whole.
        if orgnr == expected.delivers_as:
            assert body["status"] == "applied"
        else:
            assert body["status"] == "refused"
            assert body["refusal"]["code"] == "ORG_NOT_SENDER"
    new = Delivery.objects.exclude(pk__in=before)
    assert {d.organisation.orgnr for d in new} <= ({expected.delivers_as} - {None})
    # What was recorded is the sender's own, for its own municipality only.
    recorded = Transaction.objects.filter(delivery__in=new)
    assert recorded.count() == (1 if expected.delivers_as else 0)
    for transaction in recorded:
        assert transaction.organisation.orgnr == expected.delivers_as
        assert transaction.kommunkod == (
            VASBY_CODE if expected.delivers_as == VASBY_ORGNR else VALLENTUNA_CODE
        )
