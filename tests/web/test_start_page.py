"""The start page, /oversikt/: what each role sees first after logging in."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from inuk.intake.models import Delivery
from inuk.stats.disclosure import Audience, protect
from inuk.stats.engine import compute
from inuk.stats.explorer import last_complete_month
from inuk.stats.query import Indicator, Period, Query
from tests.conftest import PASSWORD, VALLENTUNA_CODE, VASBY_CODE, Cast
from tests.stats.conftest import Book
from tests.stats.pages import load


@pytest.fixture
def figures(agreements: None) -> Book:
    book = Book()
    load(book)
    return book


def month() -> str:
    year, number = last_complete_month()
    return f"{year:04d}-{number:02d}"


def test_logging_in_leads_to_the_start_page(client: Client, cast: Cast) -> None:
    response = client.post(
        reverse("login"), {"username": cast.vasby_analyst.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("web:start")


def test_a_municipal_analyst_sees_the_latest_month_beside_county_and_country(
    client: Client, cast: Cast, figures: Book
) -> None:
    client.force_login(cast.vasby_analyst)
    response = client.get(reverse("web:start"))
    own = response.context["own"]
    assert [g.code for g in own["geographies"]] == [VASBY_CODE, "01", "SE"]
    cards = own["cards"]
    assert [c.definition.slug for c in cards] == [
        "participants", "started", "ended", "results", "collaboration",
    ]  # fmt: skip
    for card in cards:
        if card.definition.slug == "results":  # the latest month all its results can be in
            # The latest month all of whose results can have been reported: its 90
            # days after the end have passed, the next month's have not.
            after = card.month.last + dt.timedelta(days=1)
            following = Period.month(after.year, after.month)
            today = timezone.localdate()
            assert card.month.last + dt.timedelta(days=90) <= today
            assert following.last + dt.timedelta(days=90) > today
        else:
            assert card.month.label == month()
        assert len(card.trend) == 24
        # Each figure is the protected one, as the API gives it to this analyst.
        query = Query.parse(
            indicator=card.definition.slug,
            period=card.month.label,
            geographies=[VASBY_CODE, "01", "SE"],
        )
        published = protect(compute(query), Audience.PROTECTED)
        expected = [row.share if row.share is not None else row.value for row in published.rows]
        assert card.figures == expected
    assert own["follow_up"].kommunkod == VASBY_CODE
    assert "reporter" not in response.context and "regions" not in response.context


def test_the_change_from_a_year_earlier_is_of_published_figures(
    client: Client, cast: Cast, figures: Book
) -> None:
    client.force_login(cast.af_analyst)
    response = client.get(reverse("web:start"))
    [participants, *_] = response.context["national"]["cards"]
    now, before = participants.figures[0], participants.year_before
    # True figures for the national analyst: Anna, Bo, Cilla and David (Eva ended before).
    assert now.value == 4 and not now.mark
    assert participants.change == now.value - before.value


def test_a_reporter_sees_deliveries_and_the_month_due(
    client: Client, cast: Cast, figures: Book
) -> None:
    client.force_login(cast.vasby_reporter)
    response = client.get(reverse("web:start"))
    reporter = response.context["reporter"]
    assert reporter["deliveries"]
    assert all(d.organisation == cast.vasby for d in reporter["deliveries"])
    assert reporter["due"].month >= month()
    assert "own" not in response.context


def test_a_reporter_s_latest_deliveries_and_receipt_leave_out_dry_runs(
    client: Client, cast: Cast, figures: Book
) -> None:
    client.force_login(cast.vasby_reporter)
    before = client.get(reverse("web:start")).context["reporter"]
    Delivery.objects.create(
        organisation=cast.vasby,
        received_at=timezone.now(),
        finished_at=timezone.now(),
        checksum="0" * 64,
        size=1,
        status=Delivery.Status.CHECKED,
        dry_run=True,
    )
    after = client.get(reverse("web:start")).context["reporter"]
    assert after["deliveries"] == before["deliveries"]
    assert after["latest_final"] == before["latest_final"]


def test_af_s_administrator_sees_the_follow_up_late_municipalities_first(
    client: Client, cast: Cast, figures: Book
) -> None:
    client.force_login(cast.af_admin)
    response = client.get(reverse("web:start"))
    lines = response.context["follow_up"]
    assert {line.kommunkod for line in lines} >= {VASBY_CODE, VALLENTUNA_CODE}
    lates = [line.late for line in lines]
    assert lates == sorted(lates, reverse=True)
    # AF's administrator is no national analyst: the national figures are protected.
    [participants, *_] = response.context["national"]["cards"]
    query = Query.parse(indicator="participants", period=month(), geographies=["SE"])
    assert participants.figures == [protect(compute(query), Audience.PROTECTED).rows[0].value]


def test_af_s_national_analyst_sees_counties_and_groups_side_by_side(
    client: Client, cast: Cast, figures: Book
) -> None:
    from inuk.organisations.models import Municipality, MunicipalityGroup

    group = MunicipalityGroup.objects.create(name="Storstockholm", slug="storstockholm")
    group.municipalities.set(Municipality.objects.filter(code__in=[VASBY_CODE, VALLENTUNA_CODE]))
    client.force_login(cast.af_analyst)
    response = client.get(reverse("web:start"))
    regions = response.context["regions"]
    codes = [geography.code for geography, _ in regions["rows"]]
    assert "01" in codes and "g:storstockholm" in codes and len(codes) == 22
    stockholm = dict((g.code, figures) for g, figures in regions["rows"])["01"]
    assert stockholm[0][1].value == 4  # participants in Stockholm county, true figures
    html = response.content.decode()
    assert "Storstockholm" in html and "Stockholms län" in html


def test_the_counties_show_results_for_the_same_settled_month_as_the_cards(
    client: Client, cast: Cast, figures: Book
) -> None:
    """A month whose 90-day window is still open would show a share that is still growing."""
    client.force_login(cast.af_analyst)
    response = client.get(reverse("web:start"))
    [results] = [card for card in response.context["national"]["cards"] if card.is_share]
    headings = dict(
        (definition.id, other_month)
        for definition, other_month in response.context["regions"]["indicators"]
    )
    assert results.month != response.context["month"]
    assert headings[Indicator.RESULTS] == results.month
    assert headings[Indicator.PARTICIPANTS] is None
    stockholm = dict(response.context["regions"]["rows"])
    query = Query.parse(indicator="results", period=results.month.label, geographies=["01"])
    shown_share = [
        f
        for d, f in next(v for g, v in stockholm.items() if g.code == "01")
        if d.id is Indicator.RESULTS
    ]
    assert shown_share == [protect(compute(query), Audience.TRUE).rows[0].share]
    assert f'<span class="period">{results.month.label}</span>' in response.content.decode()
