"""``inuk stats``: the API's figures on the server, true by default, protected as a municipality."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command

from inuk.ledger.bulk import PersonRow
from inuk.organisations.models import Agreement, Municipality
from inuk.stats import engine, render, rollups
from inuk.stats.disclosure import Audience, protect
from inuk.stats.models import Rollup, RollupState
from inuk.stats.query import Query
from tests.conftest import VASBY_CODE
from tests.ledger.conftest import Ledger, tx

pytestmark = pytest.mark.django_db

MARCH = dt.date(2024, 3, 1)


@pytest.fixture
def ledger(db) -> Ledger:
    book = Ledger()
    persons = [PersonRow(f"{n:032x}", 2004, "K" if n % 2 else "M", False) for n in range(1, 8)]
    book.apply(
        *[tx("R", person=p.pseudonym, start=MARCH, end=dt.date(2024, 3, 9)) for p in persons],
        persons=persons,
    )
    rollups.rebuild()  # as the pipeline leaves them; the helper above applies directly
    return book


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("stats", *args, stdout=out)
    return out.getvalue()


def expected(audience: Audience, by: list[str]) -> list[dict]:
    question = Query.parse(
        indicator="participants", period="2024-03", geographies=[VASBY_CODE, "SE"], by=by
    )
    return render.rows(protect(engine.compute_straight(question), audience))


def test_it_prints_the_apis_json_with_true_figures_by_default(ledger):
    answer = json.loads(
        run(
            "participants", "--period", "2024-03", "--geography", "0114,SE", "--by", "sex", "--json"
        )
    )

    assert answer["protection"]["method"] == "none"
    assert answer["rows"] == expected(Audience.TRUE, ["sex"])
    assert [r["value"] for r in answer["rows"][:3]] == [4, 3, 7]


def test_as_a_municipality_it_prints_the_figures_protected_as_its_analysts_see_them(ledger):
    answer = json.loads(
        run(
            "participants",
            "--period=2024-03",
            "--geography=0114",
            "--geography=SE",
            "--by=sex",
            "--as-municipality=0115",
            "--json",
        )
    )

    assert answer["protection"]["method"] == "cell-key"
    assert answer["rows"] == expected(Audience.PROTECTED, ["sex"])


def test_it_prints_a_table_with_the_method(ledger):
    text = run("participants", "--period", "2024-03", "--geography", VASBY_CODE, "--by", "sex")

    lines = text.splitlines()
    assert lines[0].split() == ["geography", "geography_name", "period", "sex", "value", "status"]
    assert lines[3].split()[-1] == "7"
    assert "True figures" in text


def test_it_prints_the_apis_csv(ledger):
    text = run("participants", "--period", "2024-03", "--geography", VASBY_CODE, "--csv")

    assert text.splitlines()[1].startswith("participants;0114;Upplands Väsby;")


def test_a_bad_question_is_refused_in_both_languages(ledger):
    with pytest.raises(CommandError, match=r"cannot be read.*kan inte läsas"):
        run("participants", "--period", "2024-13", "--geography", VASBY_CODE)
    with pytest.raises(CommandError, match="no municipality"):
        run(
            "participants",
            "--period",
            "2024-03",
            "--geography",
            VASBY_CODE,
            "--as-municipality",
            "9",
        )


def test_it_prints_the_delivery_follow_up(ledger):
    Agreement.objects.create(
        municipality=Municipality.objects.get(code=VASBY_CODE),
        signed_by_af=dt.date(2020, 1, 1),
        signed_by_municipality=dt.date(2020, 1, 1),
    )

    answer = json.loads(run("follow-up", "--json"))

    assert [line["kommunkod"] for line in answer] == [VASBY_CODE]
    assert len(answer[0]["months"]) == 12
    assert "0114 Upplands Väsby" in run("follow-up")


def test_refresh_rebuilds_the_rollups_and_the_answers_stay_the_same(ledger):
    before = run("participants", "--period", "2024-03", "--geography", VASBY_CODE, "--json")
    RollupState.objects.all().delete()
    Rollup.objects.all().delete()

    assert "rebuilt" in run("refresh")

    assert RollupState.objects.exists()
    assert Rollup.objects.exists()
    assert run("participants", "--period", "2024-03", "--geography", VASBY_CODE, "--json") == before
