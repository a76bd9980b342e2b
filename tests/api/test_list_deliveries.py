"""``GET /api/v1/deliveries``: the caller's deliveries, newest first, paginated and filtered."""

from __future__ import annotations

import pytest

from inuk.intake.models import Delivery
from tests.api.conftest import fresh_delivery, stockholm
from tests.conftest import VALLENTUNA_ORGNR, VASBY_ORGNR, Cast

pytestmark = pytest.mark.django_db(databases=["default", "vault"])


@pytest.fixture
def vasby_reader(cast: Cast, agreements, api_as):
    return api_as(cast.token(cast.vasby, "read"))


def ids(response) -> list[str]:
    return [item["id"] for item in response.json()["items"]]


def test_it_lists_the_own_organisations_deliveries_newest_first(cast, vasby_reader):
    older = fresh_delivery(cast.vasby, received=stockholm(2026, 10, 3))
    newer = fresh_delivery(cast.vasby, received=stockholm(2026, 11, 3))
    fresh_delivery(cast.vallentuna)
    response = vasby_reader.get("/deliveries")
    assert response.status_code == 200
    assert ids(response) == [str(newer.public_id), str(older.public_id)]
    item = response.json()["items"][0]
    assert item["organisation"] == VASBY_ORGNR
    assert item["status"] == "applied"
    assert item["counts"]["accepted"] == 1
    assert item["url"].endswith(f"/api/v1/deliveries/{newer.public_id}")
    assert response.json()["count"] == 2


def test_it_pages_through_the_deliveries(cast, vasby_reader):
    made = [fresh_delivery(cast.vasby, received=stockholm(2026, 11, day)) for day in range(1, 6)]
    newest_first = [str(d.public_id) for d in reversed(made)]
    first = vasby_reader.get("/deliveries", {"page_size": 2})
    second = vasby_reader.get("/deliveries", {"page_size": 2, "page": 2})
    third = vasby_reader.get("/deliveries", {"page_size": 2, "page": 3})
    beyond = vasby_reader.get("/deliveries", {"page_size": 2, "page": 4})
    assert ids(first) + ids(second) + ids(third) == newest_first
    assert ids(beyond) == []
    assert {r.json()["count"] for r in (first, second, third, beyond)} == {5}
    assert (second.json()["page"], second.json()["page_size"]) == (2, 2)


def test_it_filters_by_the_month_received_in_swedish_time(cast, vasby_reader):
    fresh_delivery(cast.vasby, received=stockholm(2026, 10, 31, hour=23))
    # Midnight on 1 November in Stockholm is still 31 October in UTC.
    november = fresh_delivery(cast.vasby, received=stockholm(2026, 11, 1, hour=0))
    fresh_delivery(cast.vasby, received=stockholm(2026, 12, 1, hour=0))
    response = vasby_reader.get("/deliveries", {"month": "2026-11"})
    assert ids(response) == [str(november.public_id)]


def test_it_filters_by_status(cast, vasby_reader):
    applied = fresh_delivery(cast.vasby)
    waiting = fresh_delivery(cast.vasby)
    Delivery.objects.filter(pk=waiting.pk).update(status=Delivery.Status.RECEIVED)
    assert ids(vasby_reader.get("/deliveries", {"status": "received"})) == [str(waiting.public_id)]
    assert ids(vasby_reader.get("/deliveries", {"status": "applied"})) == [str(applied.public_id)]


@pytest.mark.parametrize(
    "params",
    [
        {"month": "2026-13"},
        {"month": "november"},
        {"status": "done"},
        {"page": 0},
        {"page": "x"},
        {"page_size": 100000},
        {"organisation": "abc"},
    ],
)
def test_a_bad_filter_is_400_and_names_the_parameter(vasby_reader, params):
    response = vasby_reader.get("/deliveries", params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "INVALID_REQUEST"
    [name] = params
    assert any(name in detail["where"] for detail in error["details"])


def test_an_af_administrator_sees_every_organisation_and_can_narrow_to_one(cast, client):
    fresh_delivery(cast.vasby)
    theirs = fresh_delivery(cast.vallentuna)
    client.force_login(cast.af_admin)
    everything = client.get("/api/v1/deliveries").json()
    assert {item["organisation"] for item in everything["items"]} == {VASBY_ORGNR, VALLENTUNA_ORGNR}
    one = client.get("/api/v1/deliveries", {"organisation": VALLENTUNA_ORGNR}).json()
    assert [item["id"] for item in one["items"]] == [str(theirs.public_id)]


def test_the_organisation_filter_never_widens_what_is_visible(cast, vasby_reader):
    fresh_delivery(cast.vallentuna)
    response = vasby_reader.get("/deliveries", {"organisation": VALLENTUNA_ORGNR})
    assert response.json() == {"items": [], "count": 0, "page": 1, "page_size": 50}


def test_someone_who_sees_no_deliveries_is_403(cast, client):
    client.force_login(cast.vasby_admin)
    response = client.get("/api/v1/deliveries")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "NOT_ALLOWED"
