"""The deliveries page and ``/api/v1/deliveries`` answer alike: the same deliveries for the
same user and filters, and a receipt's CSV with the same audit entry.

Both ask ``inuk.intake.listing`` and ``inuk.intake.receipts.export_messages_csv``;
these tests catch either channel taking a way of its own again. Each member of
the cast asks both, the API with the same logged-in session as the page.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from inuk.audit.log import Event
from inuk.audit.models import Entry
from inuk.intake.models import Delivery
from tests.conftest import VALLENTUNA_ORGNR, VASBY_ORGNR
from tests.intake.pages.test_receipt_page import with_messages

pytestmark = pytest.mark.django_db(databases=["default", "vault"])

PAGE = "/leveranser/"
API = "/api/v1/deliveries"

Status = Delivery.Status


def stockholm(month: int, day: int, hour: int = 12) -> dt.datetime:
    return timezone.make_aware(dt.datetime(2026, month, day, hour))


@pytest.fixture
def on_record(cast, on_file) -> list[Delivery]:
    """Both municipalities' deliveries over three months, in several states.

    One was received half an hour into November in Swedish time, still October in UTC.
    """
    made = []
    for organisation in (cast.vasby, cast.vallentuna):
        for received, status in [
            (stockholm(9, 15), Status.APPLIED),
            (stockholm(10, 2), Status.REJECTED),
            (stockholm(10, 20), Status.APPLIED),
            (stockholm(11, 1, hour=0), Status.APPLIED),
            (stockholm(11, 5), Status.REFUSED),
        ]:
            made.append(on_file(organisation, received_at=received, status=status))
    return made


def from_page(client: Client, filters: dict[str, str]) -> list[str]:
    response = client.get(PAGE, filters)
    assert response.status_code == 200
    return [str(delivery.public_id) for delivery, _ in response.context["rows"]]


def from_api(client: Client, filters: dict[str, str]) -> list[str]:
    query = {"organisation" if name == "org" else name: value for name, value in filters.items()}
    response = client.get(API, query)
    assert response.status_code == 200
    assert response.json()["count"] == len(response.json()["items"])
    return [item["id"] for item in response.json()["items"]]


# The page offers only the months that have deliveries, and the organisation
# filter only to those who see more than one organisation; these are filters
# both channels take.
FILTERS = [
    {},
    {"month": "2026-10"},
    {"month": "2026-11"},
    {"status": "applied"},
    {"status": "refused"},
    {"month": "2026-10", "status": "applied"},
]
OVERVIEW_FILTERS = [
    {"org": VASBY_ORGNR},
    {"org": VALLENTUNA_ORGNR, "month": "2026-11"},
    {"org": VALLENTUNA_ORGNR, "status": "rejected"},
]
LISTERS = ["vasby_reporter", "vasby_analyst", "vallentuna_reporter", "af_admin", "identity_officer"]
CASES = [(name, filters) for name in LISTERS for filters in FILTERS] + [
    (name, filters) for name in ("af_admin", "identity_officer") for filters in OVERVIEW_FILTERS
]


@pytest.mark.parametrize(("name", "filters"), CASES, ids=str)
def test_the_page_and_the_api_list_the_same_deliveries(cast, client_as, on_record, name, filters):
    client = client_as(cast.users()[name])

    listed = from_page(client, filters)

    assert listed == from_api(client, filters)
    assert listed  # every case finds something, so an empty answer on both sides fails


def test_november_in_swedish_time_holds_the_delivery_of_half_past_midnight(
    cast, client_as, on_record
):
    client = client_as(cast.vasby_reporter)
    november = from_page(client, {"month": "2026-11"})
    assert len(november) == 2 and november == from_api(client, {"month": "2026-11"})


@pytest.mark.parametrize("name", ["vasby_admin", "af_analyst"])
def test_whoever_may_not_list_deliveries_is_refused_by_both(cast, client_as, on_record, name):
    client = client_as(cast.users()[name])
    assert client.get(PAGE).status_code == 403
    assert client.get(API).status_code == 403


@pytest.mark.parametrize("name", ["vasby_reporter", "af_admin", "identity_officer"])
def test_the_page_and_the_api_export_the_same_csv_with_the_same_audit_entry(
    cast, client_as, on_file, name
):
    delivery = with_messages(on_file(cast.vasby), errors=7, warnings=2)
    client = client_as(cast.users()[name])

    page = client.get(f"{PAGE}{delivery.public_id}/fel.csv")
    api = client.get(f"{API}/{delivery.public_id}/errors.csv")

    assert page.status_code == api.status_code == 200
    assert b"".join(page.streaming_content) == b"".join(api.streaming_content)
    for header in ("Content-Type", "Content-Disposition"):
        assert page[header] == api[header]
    by_page, by_api = Entry.objects.filter(event=Event.EXPORT).order_by("id")
    recorded = ("event", "actor", "organisation", "target", "remote_addr", "details")
    assert [getattr(by_page, f) for f in recorded] == [getattr(by_api, f) for f in recorded]
    assert by_page.actor == cast.users()[name].email
    assert by_page.details == {"export": "receipt_messages", "rows": 9}


def test_another_municipality_s_csv_is_found_by_neither(cast, client_as, on_file):
    delivery = with_messages(on_file(cast.vallentuna), errors=1)
    client = client_as(cast.vasby_reporter)
    assert client.get(f"{PAGE}{delivery.public_id}/fel.csv").status_code == 404
    assert client.get(f"{API}/{delivery.public_id}/errors.csv").status_code == 404
    assert not Entry.objects.filter(event=Event.EXPORT).exists()
