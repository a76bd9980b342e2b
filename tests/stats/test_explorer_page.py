"""The indicator explorer, /statistik/: the same figures as the API, its state in the URL."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from inuk.stats.explorer import last_complete_month
from tests.conftest import VALLENTUNA_CODE, VASBY_CODE, Cast
from tests.stats.conftest import Book
from tests.stats.pages import load


@pytest.fixture
def figures(book: Book) -> Book:
    load(book)
    return book


def last_month() -> str:
    year, month = last_complete_month()
    return f"{year:04d}-{month:02d}"


def table_cells(html: str) -> list[str]:
    """The texts of the figures table's number cells, in order."""
    table = re.search(r'<table class="figures" id="figures">(.*?)</table>', html, re.S)
    assert table, "the page has no figures table"
    body = table.group(1).split("<tbody>")[1]
    return [
        re.sub(r"<.*?>", "", cell).strip()
        for cell in re.findall(r'<td class="num">(.*?)</td>', body, re.S)
    ]


def shown(value, status) -> str:
    """A value as the page writes it: a mark, or the number with a space between thousands."""
    if status:
        return status
    return f"{value:,}".replace(",", "\xa0")


def test_it_asks_an_anonymous_visitor_to_log_in(client: Client, db) -> None:
    response = client.get(reverse("stats:explorer"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_it_is_closed_to_users_without_statistics(client: Client, cast: Cast) -> None:
    client.force_login(cast.vasby_reporter)
    assert client.get(reverse("stats:explorer")).status_code == 403


def test_a_municipal_analyst_first_sees_own_municipality_county_and_country(
    client: Client, cast: Cast, figures: Book
) -> None:
    client.force_login(cast.vasby_analyst)
    response = client.get(reverse("stats:explorer"))
    assert response.status_code == 200
    view = response.context["view"]
    assert [g.code for g in view.query.geographies] == [VASBY_CODE, "01", "SE"]
    assert len(view.periods) == 24
    assert view.periods[-1].label == last_month()


def test_the_page_shows_the_api_s_figures_protected_for_a_municipal_analyst(
    client: Client, cast: Cast, figures: Book, settings
) -> None:
    settings.INUK_STATS_PROTECTION = "threshold"
    client.force_login(cast.vasby_analyst)
    params = {
        "indicator": "participants",
        "period_type": "month",
        "from": last_month(),
        "to": last_month(),
        "geography": [VASBY_CODE, VALLENTUNA_CODE, "SE"],
        "by": ["sex"],
    }
    page = client.get(reverse("stats:explorer"), params)
    api = client.get(
        reverse("api-1:stats", args=["participants"]),
        {"period": last_month(), "geography": [VASBY_CODE, VALLENTUNA_CODE, "SE"], "by": "sex"},
    ).json()
    # Table: a row per category, a column per geography; the API: a row per cell.
    by_cell = {
        (row["sex"], row["geography"]): shown(row["value"], row["status"]) for row in api["rows"]
    }
    expected = [
        by_cell[(sex, geo)]
        for sex in ("K", "M", "total")
        for geo in (VASBY_CODE, VALLENTUNA_CODE, "SE")
    ]
    assert table_cells(page.content.decode()) == expected
    # Under threshold protection no count from 1 to 4 is shown, here or in the API.
    assert not any(value in {"1", "2", "3", "4"} for value in expected)
    assert ".." in expected


def test_the_chart_carries_the_same_numbers_as_the_table(
    client: Client, cast: Cast, figures: Book
) -> None:
    client.force_login(cast.af_analyst)
    response = client.get(
        reverse("stats:explorer"),
        {
            "indicator": "started",
            "from": "2025-12",
            "to": last_month(),
            "geography": [VASBY_CODE, "SE"],
        },
    )
    html = response.content.decode()
    island = re.search(
        r'<script id="chart-data" type="application/json">(.*?)</script>', html, re.S
    )
    chart = json.loads(island.group(1))
    assert chart["kind"] == "line"
    assert [trace["name"] for trace in chart["data"]] == ["Upplands Väsby", "Riket"]
    cells = table_cells(html)
    vasby, country = cells[0::2], cells[1::2]
    assert [str(y) for y in chart["data"][0]["y"]] == vasby
    assert [str(y) for y in chart["data"][1]["y"]] == [c.replace("\xa0", "") for c in country]


def test_its_state_lives_in_the_url(client: Client, cast: Cast, figures: Book) -> None:
    client.force_login(cast.vasby_analyst)
    url = (
        reverse("stats:explorer")
        + "?indicator=ended&period_type=quarter&from=2025-01&to=2025-12"
        + "&geography=0114&geography=0180&by=age&source=municipal"
    )
    response = client.get(url)
    html = response.content.decode()
    assert '<option value="ended" selected>' in html
    assert 'value="quarter" checked' in html
    assert '<option value="age" selected>' in html
    assert '<option value="municipal" selected>' in html
    assert '<option value="0180" selected>' in html
    view = response.context["view"]
    assert [p.label for p in view.periods] == ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"]
    assert [g.code for g in view.query.geographies] == [VASBY_CODE, "0180"]


def test_a_bad_question_is_a_clear_error_in_swedish_and_english(
    client: Client, cast: Cast, figures: Book
) -> None:
    client.force_login(cast.vasby_analyst)
    response = client.get(reverse("stats:explorer"), {"geography": "9999"})
    assert response.status_code == 400
    assert "Geografin &#x27;9999&#x27; finns inte" in response.content.decode()
    client.cookies["django_language"] = "en"
    response = client.get(reverse("stats:explorer"), {"from": "2026-13"})
    assert response.status_code == 400
    assert "cannot be read" in response.content.decode()


def test_too_long_a_series_is_refused(client: Client, cast: Cast, figures: Book) -> None:
    client.force_login(cast.vasby_analyst)
    response = client.get(reverse("stats:explorer"), {"from": "2020-01", "to": "2026-01"})
    assert response.status_code == 400
    assert "36" in response.content.decode()


def test_the_export_links_ask_the_api_the_same_question(
    client: Client, cast: Cast, figures: Book
) -> None:
    client.force_login(cast.vasby_analyst)
    response = client.get(
        reverse("stats:explorer"),
        {"from": "2026-09", "to": "2026-10", "geography": [VASBY_CODE, "SE"], "by": "sex"},
    )
    exports = response.context["exports"]
    assert exports["csv"].startswith(reverse("api-1:stats", args=["participants"]))
    for link in exports.values():
        assert "period=2026-09" in link and "period=2026-10" in link
        assert "geography=0114" in link and "geography=SE" in link and "by=sex" in link


def test_the_methods_page_defines_every_indicator_and_the_protection(client: Client, db) -> None:
    response = client.get(reverse("stats:methods"))
    assert response.status_code == 200
    html = response.content.decode()
    for slug in (
        "participants",
        "started",
        "ended",
        "results",
        "collaboration",
        "delivery-follow-up",
    ):
        assert f'id="{slug}"' in html
    assert "cell key" in html.lower() or "cellnyckel" in html.lower()
    assert "..</dt>" in html
