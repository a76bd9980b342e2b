"""The statistics API: indicators, figures as JSON, CSV, Excel and JSON-stat, scoped and protected.

The ledger: Upplands Väsby has nine persons (six women, three men) in an
intervention during March 2024, Vallentuna three, and AF one in Väsby. The
figures every test compares with are the engine's reference (``compute_straight``,
while the API answers from the rollups where they cover the question) passed
through ``protect()``: the API must show exactly those, for the caller's
audience, by every route and in every format.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.test import Client
from openpyxl import load_workbook

from inuk.audit.log import Event
from inuk.audit.models import Entry
from inuk.ledger.bulk import PersonRow
from inuk.organisations.groups import import_groups
from inuk.organisations.models import MunicipalityGroup
from inuk.stats import engine, render, rollups
from inuk.stats.disclosure import Audience, protect
from inuk.stats.query import Query
from tests.api.conftest import API
from tests.conftest import VALLENTUNA_CODE, VASBY_CODE, log_in
from tests.ledger.conftest import Ledger, tx

pytestmark = pytest.mark.django_db(databases=["default", "vault"])

MARCH = dt.date(2024, 3, 1)
BOTH = f"{VASBY_CODE},{VALLENTUNA_CODE}"  # the two municipalities as a geography


def person(n: int) -> str:
    return f"{n:032x}"


@pytest.fixture
def world(cast):
    ledger = Ledger()
    vasby = [person(n) for n in range(1, 10)]
    vallentuna = [person(n) for n in range(20, 23)]
    persons = [PersonRow(p, 2004, "K" if i % 3 else "M", False) for i, p in enumerate(vasby)]
    persons += [PersonRow(p, 1990, "M", False) for p in vallentuna]
    ledger.apply(
        *[
            tx("R", person=p, code="SYV" if i < 6 else "KAR", start=MARCH, end=dt.date(2024, 3, 20))
            for i, p in enumerate(vasby)
        ],
        persons=[p for p in persons if p.pseudonym in vasby],
    )
    ledger.apply(
        *[
            tx("R", person=p, kommunkod=VALLENTUNA_CODE, start=MARCH, end=dt.date(2024, 4, 2))
            for p in vallentuna
        ],
        organisation=cast.vallentuna,
        persons=[p for p in persons if p.pseudonym in vallentuna],
    )
    ledger.apply(
        tx("R", person=vasby[0], code="KAR", start=MARCH, end=dt.date(2024, 3, 3)),
        organisation=ledger.af,
        persons=[persons[0]],
    )
    import_groups(f"{VASBY_CODE};Norrort\n{VALLENTUNA_CODE};Norrort\n", actor="test")
    # As the pipeline leaves them after applying (the helper above applies directly).
    rollups.rebuild()
    return cast


def ask(client: Client, indicator: str = "participants", **params):
    params.setdefault("period", "2024-03")
    params.setdefault("geography", VASBY_CODE)
    return client.get(f"{API}/stats/{indicator}", params)


def expected(audience: Audience, indicator: str = "participants", **params) -> list[dict]:
    question = Query.parse(
        indicator=indicator,
        period=params.get("period", "2024-03"),
        geographies=params.get("geography", VASBY_CODE),
        by=params.get("by", ()),
        source=params.get("source", "both"),
    )
    return render.rows(protect(engine.compute_straight(question), audience))


def logged_in(user) -> Client:
    return log_in(Client(), user)


def with_token(raw: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


# --- the list of indicators ----------------------------------------------------------------


def test_it_lists_every_indicator_with_its_methods_text(world):
    body = logged_in(world.vasby_analyst).get(f"{API}/stats").json()

    ids = [i["id"] for i in body["indicators"]]
    assert ids == [
        "participants",
        "started",
        "ended",
        "results",
        "collaboration",
        "delivery-follow-up",
    ]
    assert all(i["methods_sv"] and i["methods_en"] for i in body["indicators"])
    assert body["protection"]["method"] == "cell-key"


def test_the_list_says_the_national_analyst_sees_true_figures(world):
    body = logged_in(world.af_analyst).get(f"{API}/stats").json()

    assert body["protection"]["method"] == "none"


# --- figures ---------------------------------------------------------------------------------


def test_the_national_analyst_sees_true_counts(world):
    body = ask(logged_in(world.af_analyst), geography=f"{BOTH},01,SE", by="sex").json()

    assert body["protection"]["method"] == "none"
    assert body["rows"] == expected(Audience.TRUE, geography=f"{BOTH},01,SE", by="sex")
    true = {(r["geography"], r["sex"]): r["value"] for r in body["rows"]}
    assert true[(VASBY_CODE, "K")] == 6
    assert true[(VASBY_CODE, "total")] == 9
    assert true[(VALLENTUNA_CODE, "M")] == 3
    assert true[("SE", "total")] == 12


def test_a_row_names_its_indicator_geography_period_categories_value_and_status(world):
    row = ask(logged_in(world.af_analyst), by="code").json()["rows"][-1]

    assert row == {
        "indicator": "participants",
        "geography": VASBY_CODE,
        "geography_name": "Upplands Väsby",
        "geography_kind": "municipality",
        "period": "2024-03",
        "code": "total",
        "value": 9,
        "status": "",
    }


def test_a_municipal_analyst_sees_the_protected_figures_of_every_geography(world):
    geographies = f"{BOTH},01,SE,g:" + MunicipalityGroup.objects.get().slug

    body = ask(logged_in(world.vasby_analyst), geography=geographies, by="sex").json()

    assert body["protection"]["method"] == "cell-key"
    assert body["rows"] == expected(Audience.PROTECTED, geography=geographies, by="sex")
    assert len({r["geography"] for r in body["rows"]}) == 5


def test_geographies_may_be_repeated_or_comma_separated_and_each_is_its_own_series(world):
    client = logged_in(world.af_analyst)

    repeated = client.get(
        f"{API}/stats/participants",
        {"period": "2024-03", "geography": [VASBY_CODE, VALLENTUNA_CODE]},
    ).json()
    listed = ask(client, geography=BOTH).json()

    assert repeated["rows"] == listed["rows"]
    assert [(r["geography"], r["value"]) for r in listed["rows"]] == [
        (VASBY_CODE, 9),
        (VALLENTUNA_CODE, 3),
    ]


def test_with_the_threshold_method_no_true_count_from_1_to_4_is_shown(world, settings):
    settings.INUK_STATS_PROTECTION = "threshold"
    client = logged_in(world.vasby_analyst)
    small = 0
    for by in ("sex", "code", "sex,source", "code,sex"):
        body = ask(client, geography=f"{BOTH},01", by=by).json()
        true = expected(Audience.TRUE, geography=f"{BOTH},01", by=by)

        assert body["protection"]["method"] == "threshold"
        for shown, real in zip(body["rows"], true, strict=True):
            if 1 <= (real["value"] or 0) <= 4:
                small += 1
                assert shown["value"] is None and shown["status"] == "..", (by, shown)
    assert small >= 4  # the ledger has small counts to hide


def test_results_carry_share_and_base_and_ended_the_median(world):
    client = logged_in(world.af_analyst)

    results = ask(client, "results").json()["rows"][0]
    ended = ask(client, "ended").json()["rows"][0]

    assert {"share", "share_status", "base", "base_status"} <= set(results)
    assert results["base"] == 9
    assert ended["value"] == 10
    assert ended["median_days"] == 20.0
    assert ended["median_status"] == ""


def test_a_bad_question_is_answered_400_with_its_code_in_both_languages(world):
    response = ask(logged_in(world.vasby_analyst), period="2024-13")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "PERIOD_INVALID"
    assert "Perioden" in error["message_sv"]
    assert "The period" in error["message_en"]


def test_an_unknown_indicator_or_geography_is_a_400(world):
    client = logged_in(world.vasby_analyst)

    assert ask(client, "nonsense").json()["error"]["code"] == "INDICATOR_UNKNOWN"
    assert ask(client, geography="9999").json()["error"]["code"] == "GEOGRAPHY_UNKNOWN"
    assert ask(client, by="sex,age,code").json()["error"]["code"] == "BREAKDOWN_TOO_MANY"


# --- who may ask ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["vasby_reporter", "vasby_admin", "af_admin", "identity_officer"])
def test_users_without_a_statistics_role_are_refused(world, name):
    client = logged_in(world.users()[name])

    response = ask(client)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "NOT_ALLOWED_STATISTICS"
    assert client.get(f"{API}/stats").status_code == 403


def test_a_token_without_read_is_refused_and_one_with_read_sees_protected_figures(world):
    assert ask(with_token(world.token(world.vasby, "deliver"))).status_code == 403

    body = ask(with_token(world.token(world.vasby, "read")), by="sex").json()

    assert body["protection"]["method"] == "cell-key"
    assert body["rows"] == expected(Audience.PROTECTED, by="sex")


def test_without_authentication_the_answer_is_401(world):
    assert ask(Client()).status_code == 401


# --- the same answer as CSV, Excel and JSON-stat ----------------------------------------


def as_text(value) -> str:
    return "" if value is None else str(value)


def csv_rows(response) -> list[dict]:
    text = response.content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


@pytest.mark.parametrize("indicator", ["participants", "results", "ended"])
def test_the_csv_holds_the_json_rows_marks_and_method(world, indicator):
    client = logged_in(world.vasby_analyst)
    rows = ask(client, indicator, by="sex", geography=BOTH).json()["rows"]

    response = ask(client, indicator, by="sex", geography=BOTH, format="csv")

    assert response["Content-Type"].startswith("text/csv")
    assert 'rel="describedby"' in response["Link"]
    table = csv_rows(response)
    assert [{k: v for k, v in r.items() if k != "protection"} for r in table] == [
        {k: as_text(v) for k, v in r.items()} for r in rows
    ]
    assert {r["protection"].split(" ")[0] for r in table} == {"cell-key"}


def test_the_accept_header_chooses_csv_or_excel(world):
    client = logged_in(world.vasby_analyst)

    as_csv = client.get(
        f"{API}/stats/participants",
        {"period": "2024-03", "geography": VASBY_CODE},
        headers={"Accept": "text/csv"},
    )
    as_excel = client.get(
        f"{API}/stats/participants",
        {"period": "2024-03", "geography": VASBY_CODE},
        headers={"Accept": render.MEDIA_TYPES["xlsx"]},
    )

    assert as_csv["Content-Type"].startswith("text/csv")
    assert as_excel["Content-Type"] == render.MEDIA_TYPES["xlsx"]


def test_the_excel_file_holds_the_json_rows_and_the_methods(world):
    client = logged_in(world.vasby_analyst)
    rows = ask(client, "results", by="sex", geography=BOTH).json()["rows"]

    response = ask(client, "results", by="sex", geography=BOTH, format="xlsx")

    workbook = load_workbook(io.BytesIO(response.content))
    data = list(workbook["Data"].iter_rows(values_only=True))
    header = list(data[0])
    table = [dict(zip(header, line, strict=True)) for line in data[1:]]
    assert [{k: v for k, v in r.items() if k != "protection"} for r in table] == [
        {k: (v if v != "" else None) for k, v in r.items()} for r in rows
    ]
    methods = {line[0]: line[1] for line in workbook["Metod"].iter_rows(values_only=True)}
    assert methods["Röjandeskydd / Protection"].startswith("cell-key")
    assert "Av de personer" in methods["Definition (sv)"]


@pytest.mark.parametrize(
    ("indicator", "by"),
    [("participants", ""), ("participants", "sex,code"), ("results", "sex"), ("ended", "age")],
)
def test_json_stat_is_valid_and_reads_back_to_the_json_rows(world, indicator, by):
    from jsonstat_validator import validate_jsonstat
    from pyjstat import pyjstat

    client = logged_in(world.vasby_analyst)
    rows = ask(client, indicator, by=by, geography=BOTH).json()["rows"]

    response = ask(client, indicator, by=by, geography=BOTH, format="json-stat")

    dataset = response.json()
    assert validate_jsonstat(dataset)
    frame = pyjstat.Dataset.read(json.dumps(dataset)).write("dataframe", naming="id")
    dimensions = ["geography", "period", *[d for d in by.split(",") if d]]
    read_back = {
        (*(line[d] for d in dimensions), line["measure"]): line["value"]
        for line in frame.to_dict("records")
    }
    for row in rows:
        key = tuple(row[d] for d in dimensions)
        for measure, status in render.STATUS_KEYS.items():
            if measure not in row:
                continue
            got = read_back[(*key, measure)]
            if row[status]:
                assert got != got or got is None  # NaN: no value where a mark stands
                index = _index_of(dataset, (*key, measure))
                assert dataset["status"][str(index)] == row[status]
            else:
                assert got == pytest.approx(row[measure])


def _index_of(dataset: dict, key: tuple) -> int:
    index = 0
    for dimension, size, category in zip(dataset["id"], dataset["size"], key, strict=True):
        position = dataset["dimension"][dimension]["category"]["index"].index(category)
        index = index * size + position
    return index


def test_files_are_audited_as_exports_and_json_answers_are_not(world):
    client = logged_in(world.vasby_analyst)

    ask(client)
    for fmt in ("csv", "xlsx", "json-stat"):
        ask(client, format=fmt, by="sex")

    entries = Entry.objects.filter(event=Event.EXPORT).order_by("id")
    assert [e.details["format"] for e in entries] == ["csv", "xlsx", "json-stat"]
    assert {e.actor for e in entries} == {world.vasby_analyst.email}
    assert entries[0].details["geographies"] == [VASBY_CODE]
    assert entries[0].details["protection"] == "cell-key"


# --- the delivery follow-up ---------------------------------------------------------------


def test_the_delivery_follow_up_is_for_af(world):
    assert logged_in(world.af_analyst).get(f"{API}/stats/delivery-follow-up").status_code == 200
    assert logged_in(world.af_admin).get(f"{API}/stats/delivery-follow-up").status_code == 200
    assert (
        with_token(world.token(world.af, "read")).get(f"{API}/stats/delivery-follow-up").status_code
        == 200
    )
    for user in (world.vasby_analyst, world.vasby_reporter, world.identity_officer):
        assert logged_in(user).get(f"{API}/stats/delivery-follow-up").status_code == 403
    response = with_token(world.token(world.vasby, "read")).get(f"{API}/stats/delivery-follow-up")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "NOT_ALLOWED_FOLLOW_UP"


def test_the_delivery_follow_up_lists_municipalities_with_agreements(world, agreements):
    body = logged_in(world.af_analyst).get(f"{API}/stats/delivery-follow-up").json()

    assert body["due_day"] == 15
    assert len(body["months"]) == 12
    codes = {line["kommunkod"] for line in body["municipalities"]}
    assert codes == {VASBY_CODE, VALLENTUNA_CODE}
    line = body["municipalities"][0]
    assert line["agreement_state"] == "in_force"
    assert [m["month"] for m in line["months"]] == body["months"]
