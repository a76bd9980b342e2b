"""The rollups built in SQL (``inuk.stats.cube``) are the sum of every person's contribution.

Hypothesis draws small ledgers as ``test_rollups`` does and a day to be exact
for, and holds every Rollup and Length row the set-based rebuild writes equal
to what ``rollups.contribution()`` gives, person by person, added up.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inuk.ledger.models import Intervention
from inuk.stats import cube, rollups
from inuk.stats.counting import af_organisation_id
from inuk.stats.models import Length, Rollup
from tests.conftest import GOTEBORG_CODE, VALLENTUNA_CODE, VASBY_CODE
from tests.ledger.conftest import ANNA, BO, result, tx
from tests.stats.conftest import CILLA, DAVID
from tests.stats.test_rollups import ledgers

D = dt.date


def by_python(today: dt.date) -> tuple[dict, dict]:
    county_of, af_id = rollups._county_of(), af_organisation_id()
    persons = sorted(set(Intervention.objects.current().values_list("person_id", flat=True)))
    total = rollups.Contribution()
    for chunk in rollups._chunks(persons):
        records = rollups._current_records(chunk)
        total.add(rollups._contributions(chunk, records, today, county_of, af_id))
    cells = {key: tuple(values) for key, values in total.cells.items() if any(values)}
    lengths = {key: n for key, n in total.lengths.items() if n}
    return cells, lengths


def by_sql(today: dt.date) -> tuple[dict, dict]:
    Rollup.objects.all().delete()
    Length.objects.all().delete()
    cube.build(today)
    fields = ("indicator", "period", "geography", "source", "code", "sex", "age")
    cells = {
        tuple(row[:7]): tuple(row[7:])
        for row in Rollup.objects.values_list(*fields, "count", "persons", "key_sum")
    }
    lengths = {
        tuple(row[:7]): row[7]
        for row in Length.objects.values_list(
            "period", "geography", "source", "code", "sex", "age", "days", "count"
        )
    }
    return cells, lengths


def assert_same(today: dt.date) -> None:
    python_cells, python_lengths = by_python(today)
    sql_cells, sql_lengths = by_sql(today)
    assert set(sql_cells) == set(python_cells)
    for key, values in python_cells.items():
        assert sql_cells[key] == values, key
    assert sql_lengths == python_lengths


def test_every_indicator_of_a_small_ledger_by_hand(book):
    book.apply(
        tx("R", person=ANNA, start=D(2024, 1, 5), end=D(2024, 3, 2)),
        tx("R", person=BO, code="KAR", start=D(2024, 2, 5), end=None),
        result("R", person=ANNA, code="ARB", start=D(2024, 4, 1)),
        result("R", person=ANNA, code="STU", start=D(2024, 5, 31)),
        tx("R", person=CILLA, start=D(2023, 12, 30), end=D(2024, 1, 2)),
        tx("R", person=CILLA, start=D(2024, 9, 1), end=None),  # starts after today
    )
    book.apply(
        tx("R", person=ANNA, code="JSA", start=D(2024, 2, 1), end=D(2024, 2, 10)),
        tx("R", person=BO, code="JSA", kommunkod=VALLENTUNA_CODE, start=D(2024, 3, 1)),
        tx("R", person=DAVID, code="JSA", kommunkod=GOTEBORG_CODE, start=D(2024, 6, 1)),
        organisation=book.af,
    )
    cells, _ = by_sql(D(2024, 6, 15))

    # Anna: municipal and AF in February in Upplands Väsby; Bo: in Stockholm county only.
    assert cells["C", "2024-02", VASBY_CODE, "total", "total", "K", "total"][:2] == (1, 1)
    assert ("C", "2024-03", VASBY_CODE, "total", "total", "M", "total") not in cells
    assert cells["C", "2024-03", "01", "total", "total", "M", "total"][:2] == (1, 1)
    # Anna's two ended interventions: two ended, one person, her results within 90 days.
    assert cells["E", "2024", "SE", "total", "total", "K", "total"][:2] == (3, 2)
    assert cells["R", "2024-03", VASBY_CODE, "municipal", "STU", "K", "total"][:2] == (1, 1)
    assert_same(D(2024, 6, 15))


@pytest.mark.slow
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ledgers(), st.sampled_from((D(2024, 1, 10), D(2024, 6, 15), D(2024, 8, 31))))
def test_the_sql_rebuild_is_the_sum_of_every_contribution(book, drawn, today):
    deliveries, withdrawn = drawn
    with transaction.atomic():
        for deliverer, rows in deliveries:
            book.apply(*rows, organisation=getattr(book, deliverer))
        if withdrawn is not None:
            book.withdraw(book.deliveries[-len(deliveries) + withdrawn])
        assert_same(today)
        transaction.set_rollback(True)


def test_a_worker_keeps_its_cube_while_counties_and_af_stay_the_same(monkeypatch):
    """Spreads learnt for one delivery serve the next, never a world that changed."""
    vars(rollups._cubes).clear()
    counties = {VASBY_CODE: "01", GOTEBORG_CODE: "14"}
    cube = rollups._cube_for(counties, 7)
    cube.spread_number("P", 24288, VASBY_CODE, "municipal", "SYV", "K", "16-19")

    assert rollups._cube_for(dict(counties), 7) is cube
    assert rollups._cube_for({**counties, VASBY_CODE: "03"}, 7) is not cube
    assert rollups._cube_for(counties, 8) is not cube
    monkeypatch.setattr(rollups, "MAX_SPREADS", 0)
    full = rollups._cube_for(counties, 7)
    full.spread_number("P", 24288, VASBY_CODE, "municipal", "SYV", "K", "16-19")
    assert rollups._cube_for(counties, 7) is not full
    vars(rollups._cubes).clear()
