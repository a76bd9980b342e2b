"""The deliveries list (/leveranser/): an organisation's deliveries, and AF's overview of all."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from inuk.intake.models import Delivery
from inuk.intake.views import PAGE_SIZE

pytestmark = pytest.mark.django_db(databases=["default", "vault"])

URL = "/leveranser/"
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def shown(response) -> list[str]:
    """The file names in the list, top to bottom."""
    return [delivery.filename for delivery, _ in response.context["rows"]]


@pytest.fixture
def two_municipalities(cast, on_file) -> tuple[Delivery, Delivery]:
    return on_file(cast.vasby, filename="vasby.xml"), on_file(cast.vallentuna, filename="vt.xml")


@pytest.mark.parametrize(
    ("member", "status", "files"),
    [
        ("vasby_reporter", 200, ["vasby.xml"]),
        ("vasby_analyst", 200, ["vasby.xml"]),
        ("vallentuna_reporter", 200, ["vt.xml"]),
        ("vallentuna_analyst", 200, ["vt.xml"]),
        ("af_admin", 200, ["vt.xml", "vasby.xml"]),
        ("identity_officer", 200, ["vt.xml", "vasby.xml"]),
        ("vasby_admin", 403, None),
        ("vallentuna_admin", 403, None),
        ("af_analyst", 403, None),
    ],
)
def test_each_member_of_the_cast_sees_only_the_deliveries_scoping_allows(
    cast, client_as, two_municipalities, member, status, files
):
    response = client_as(getattr(cast, member)).get(URL)
    assert response.status_code == status
    if files is not None:
        assert shown(response) == files
        page = response.content.decode()
        for delivery in two_municipalities:
            assert (delivery.filename in files) == (str(delivery.public_id) in page)


def test_a_visitor_who_is_not_logged_in_is_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/konto/logga-in/")


def test_it_shows_status_and_counts_newest_first(cast, client_as, on_file):
    now = dt.datetime(2025, 3, 10, 12, tzinfo=STOCKHOLM)
    on_file(cast.vasby, filename="old.xml", received_at=now - dt.timedelta(days=2))
    on_file(
        cast.vasby,
        filename="new.xml",
        received_at=now,
        status=Delivery.Status.APPLIED,
        transactions=120,
        accepted=100,
        rejected=15,
        already_known=5,
        warnings=3,
    )
    response = client_as(cast.vasby_reporter).get(URL)
    assert shown(response) == ["new.xml", "old.xml"]
    page = response.content.decode()
    row = page[page.index("new.xml") :]
    row = row[: row.index("</tr>")]
    assert '<span class="status applied">Tillämpad</span>' in row
    counts = re.findall(r'data-count="(\w+)">(\d+)<', row)
    assert counts == [
        ("transactions", "120"),
        ("accepted", "100"),
        ("rejected", "15"),
        ("already_known", "5"),
        ("warnings", "3"),
    ]
    assert "2025-03-10 12:00" in page
    assert "Organisation</th>" not in page


def test_a_reporter_finds_the_way_to_send_a_delivery_and_an_analyst_does_not(cast, client_as):
    assert 'href="/leveranser/skicka/"' in client_as(cast.vasby_reporter).get(URL).content.decode()
    page = client_as(cast.vasby_analyst).get(URL).content.decode()
    assert 'class="button" href="/leveranser/skicka/"' not in page


def test_a_delivery_in_progress_shows_its_progress_and_polls(cast, client_as, on_file):
    delivery = on_file(cast.vasby, status=Delivery.Status.PROCESSING, size=800, bytes_read=200)
    waiting = on_file(cast.vasby, status=Delivery.Status.RECEIVED)
    page = client_as(cast.vasby_reporter).get(URL).content.decode()
    assert f'data-status-url="/leveranser/{delivery.public_id}/status.json"' in page
    assert f'data-status-url="/leveranser/{waiting.public_id}/status.json"' in page
    assert 'value="25"' in page and "25&nbsp;%" in page
    assert f'aria-label="Förlopp för {delivery.filename}"' in page
    assert "Mottagen, väntar" in page


def test_finished_deliveries_are_not_polled(cast, client_as, on_file):
    on_file(cast.vasby)
    page = client_as(cast.vasby_reporter).get(URL).content.decode()
    assert "data-status-url" not in page and "<progress" not in page


def test_it_is_paginated_and_the_pages_keep_the_filter(cast, client_as, on_file):
    start = dt.datetime(2025, 3, 1, 8, tzinfo=STOCKHOLM)
    for n in range(PAGE_SIZE + 1):
        on_file(cast.vasby, received_at=start + dt.timedelta(minutes=n), filename=f"f{n}.xml")
    client = client_as(cast.vasby_reporter)
    first = client.get(URL, {"status": "applied"})
    assert len(shown(first)) == PAGE_SIZE
    assert shown(first)[0] == f"f{PAGE_SIZE}.xml"
    assert 'href="?status=applied&amp;page=2"' in first.content.decode()
    second = client.get(URL, {"status": "applied", "page": 2})
    assert shown(second) == ["f0.xml"]
    assert "Sida 2 av 2" in second.content.decode()


def test_it_filters_by_month_in_swedish_time(cast, client_as, on_file):
    # 00:30 on 1 April in Stockholm is still 31 March in UTC: it belongs to April.
    on_file(
        cast.vasby,
        filename="april.xml",
        received_at=dt.datetime(2025, 4, 1, 0, 30, tzinfo=STOCKHOLM),
    )
    on_file(
        cast.vasby,
        filename="march.xml",
        received_at=dt.datetime(2025, 3, 31, 23, 30, tzinfo=STOCKHOLM),
    )
    client = client_as(cast.vasby_reporter)
    page = client.get(URL).content.decode()
    assert '<option value="2025-04">april 2025</option>' in page
    assert shown(client.get(URL, {"month": "2025-04"})) == ["april.xml"]
    assert shown(client.get(URL, {"month": "2025-03"})) == ["march.xml"]


def test_it_filters_by_status(cast, client_as, on_file):
    on_file(cast.vasby, filename="ok.xml")
    on_file(cast.vasby, filename="bad.xml", status=Delivery.Status.REFUSED)
    response = client_as(cast.vasby_reporter).get(URL, {"status": "refused"})
    assert shown(response) == ["bad.xml"]
    assert response.context["filtered"] is True


def test_a_filter_value_it_does_not_offer_is_ignored(cast, client_as, on_file):
    on_file(cast.vasby, filename="ok.xml")
    response = client_as(cast.vasby_reporter).get(URL, {"status": "nope", "month": "2025-13"})
    assert shown(response) == ["ok.xml"]


def test_af_sees_every_organisations_deliveries_with_an_organisation_filter(
    cast, client_as, two_municipalities
):
    client = client_as(cast.af_admin)
    page = client.get(URL).content.decode()
    assert "<h1>Alla leveranser</h1>" in page
    assert "Organisation</th>" in page
    assert "Upplands Väsby kommun</td>" in page and "Vallentuna kommun</td>" in page
    assert f'<option value="{cast.vasby.orgnr}">' in page
    assert shown(client.get(URL, {"org": cast.vasby.orgnr})) == ["vasby.xml"]


def test_a_municipality_cannot_filter_its_way_to_another(cast, client_as, two_municipalities):
    response = client_as(cast.vasby_reporter).get(URL, {"org": cast.vallentuna.orgnr})
    assert shown(response) == ["vasby.xml"]


def test_the_page_speaks_english_when_asked(cast, client_as, two_municipalities):
    client = client_as(cast.vasby_reporter)
    client.cookies["django_language"] = "en"
    page = client.get(URL).content.decode()
    assert "<h1>Deliveries</h1>" in page and "Already known" in page
