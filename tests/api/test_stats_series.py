"""A series of periods in one answer: what the explorer's exports and JSON twin ask for."""

from __future__ import annotations

import csv
import io
import json

import pytest

from inuk.stats import render
from tests.api.test_stats import BOTH, _index_of, ask, logged_in, world  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db(databases=["default", "vault"])

SERIES = ["2024-02", "2024-03", "2024-04"]


def test_each_period_of_a_series_has_the_rows_it_has_alone(world):  # noqa: F811
    client = logged_in(world.vasby_analyst)
    body = ask(client, period=SERIES, geography=BOTH, by="sex").json()
    assert body["period"] == ",".join(SERIES)
    assert body["first_day"] == "2024-02-01" and body["last_day"] == "2024-04-30"
    alone = []
    for period in SERIES:
        alone += ask(client, period=period, geography=BOTH, by="sex").json()["rows"]
    assert body["rows"] == alone
    assert {row["period"] for row in body["rows"]} == set(SERIES)


def test_a_comma_separated_series_is_the_same_as_a_repeated_one(world):  # noqa: F811
    client = logged_in(world.vasby_analyst)
    repeated = ask(client, period=SERIES).json()["rows"]
    assert ask(client, period=",".join(SERIES)).json()["rows"] == repeated


def test_the_csv_of_a_series_holds_every_period(world):  # noqa: F811
    client = logged_in(world.vasby_analyst)
    rows = ask(client, period=SERIES, by="sex").json()["rows"]
    text = ask(client, period=SERIES, by="sex", format="csv").content.decode("utf-8-sig")
    lines = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert [(line["period"], line["sex"], line["status"] or line["value"]) for line in lines] == [
        (row["period"], row["sex"], row["status"] or str(row["value"])) for row in rows
    ]


def test_json_stat_of_a_series_has_a_period_dimension_and_reads_back(world):  # noqa: F811
    from jsonstat_validator import validate_jsonstat
    from pyjstat import pyjstat

    client = logged_in(world.vasby_analyst)
    rows = ask(client, "results", period=SERIES, geography=BOTH).json()["rows"]
    dataset = ask(client, "results", period=SERIES, geography=BOTH, format="json-stat").json()
    assert validate_jsonstat(dataset)
    assert dataset["dimension"]["period"]["category"]["index"] == SERIES
    frame = pyjstat.Dataset.read(json.dumps(dataset)).write("dataframe", naming="id")
    read_back = {
        (line["geography"], line["period"], line["measure"]): line["value"]
        for line in frame.to_dict("records")
    }
    for row in rows:
        for measure, status in render.STATUS_KEYS.items():
            if measure not in row:
                continue
            got = read_back[(row["geography"], row["period"], measure)]
            if row[status]:
                index = _index_of(dataset, (row["geography"], row["period"], measure))
                assert dataset["status"][str(index)] == row[status]
            else:
                assert got == pytest.approx(row[measure])


def test_more_than_36_periods_is_a_clear_400(world):  # noqa: F811
    client = logged_in(world.vasby_analyst)
    months = [f"{year}-{month:02d}" for year in (2021, 2022, 2023, 2024) for month in range(1, 13)]
    response = ask(client, period=months)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "PERIOD_INVALID"
    assert "36" in error["message_sv"] and "36" in error["message_en"]
