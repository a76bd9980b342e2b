"""Threshold suppression: no small count shown, and no hidden cell recoverable from its total."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from inuk.stats.disclosure import Audience, equations, protect
from inuk.stats.query import Dimension, Indicator
from inuk.stats.table import Mark
from tests.stats.tables_by_hand import CATEGORIES, municipality, query, table

THRESHOLD = 5


@pytest.fixture(autouse=True)
def _threshold(settings):
    settings.INUK_STATS_PROTECTION = "threshold"
    settings.INUK_STATS_THRESHOLD = THRESHOLD


def _additive_table(q, parts):
    """A table whose totals are the sums of its parts, as interventions add up."""

    def count(g, categories):
        total = 0
        for inner in parts[g.code]:
            if all(c in ("total", i) for c, i in zip(categories, inner, strict=True)):
                total += parts[g.code][inner]
        return {"count": total, "key": 0}

    return table(q, count)


# A count: mostly small, so that tables have many cells to hide.
COUNTS = st.one_of(st.integers(0, 6), st.integers(0, 60))


@st.composite
def tables(draw):
    by = draw(st.lists(st.sampled_from(list(Dimension)), max_size=2, unique=True))
    geographies = [municipality("0114"), municipality("0115", "Vallentuna")][
        : draw(st.integers(1, 2))
    ]
    inner = [
        tuple(c for c in combination)
        for combination in __import__("itertools").product(*(CATEGORIES[d][:-1] for d in by))
    ]
    q = query(Indicator.STARTED, by, geographies)
    if draw(st.booleans()):
        parts = {g.code: {cell: draw(COUNTS) for cell in inner} for g in geographies}
        return _additive_table(q, parts)
    # Distinct persons, some in several parts (two codes, two ages): a total is
    # then less than the sum of its parts, but never more.
    persons = {
        g.code: [
            [draw(st.sets(st.sampled_from(CATEGORIES[d][:-1]), min_size=1, max_size=2)) for d in by]
            for _ in range(draw(st.integers(0, 25)))
        ]
        for g in geographies
    }

    def count(g, categories):
        return {
            "count": sum(
                all(c == "total" or c in chosen for c, chosen in zip(categories, p, strict=True))
                for p in persons[g.code]
            ),
            "key": 0,
        }

    return table(q, count)


@hypothesis_settings(max_examples=200, deadline=None)
@given(tables())
def test_no_small_count_is_shown_and_no_hidden_cell_is_alone_in_an_equation(t):
    rows = protect(t, Audience.PROTECTED).rows
    hidden = [row.value.mark is Mark.PROTECTED for row in rows]
    for cell, row in zip(t.cells, rows, strict=True):
        if 0 < cell.count < THRESHOLD:
            assert row.value.mark is Mark.PROTECTED, cell
        elif not row.value.mark:
            assert row.value.value == cell.count, "a shown count is the true count"
        if cell.count == 0:
            assert row.value.value == 0, "a zero is never hidden"
    for equation in equations(t.cells):
        unknowns = [t.cells[i].categories for i in equation if hidden[i]]
        assert len(unknowns) != 1, f"{unknowns[0]} is the only unknown of its equation"


def test_every_row_and_column_of_a_two_way_table_is_an_equation_with_its_total():
    t = table(query(by=[Dimension.SEX, Dimension.SOURCE]), lambda g, c: {"count": 9, "key": 0})
    system = [sorted(t.cells[i].categories for i in eq) for eq in equations(t.cells)]
    assert [("K", "af"), ("K", "municipal"), ("K", "total")] in system  # a row
    assert [("K", "af"), ("M", "af"), ("total", "af")] in system  # a column
    assert [("K", "total"), ("M", "total"), ("total", "total")] in system  # the totals' column
    assert len(system) == 3 + 3  # a row per sex and total, a column per source and total


def test_a_single_small_part_takes_the_smallest_other_part_with_it():
    counts = {"A1": 3, "A2": 40, "B1": 12, "total": 55}
    t = table(query(by=[Dimension.CODE]), lambda g, c: {"count": counts[c[0]], "key": 0})
    shown = {row.categories[0]: row.value.text for row in protect(t, Audience.PROTECTED).rows}
    assert shown == {"A1": "..", "A2": "40", "B1": "..", "total": "55"}


def test_a_small_total_hides_a_part_so_the_total_cannot_be_added_up():
    counts = {"A1": 0, "A2": 3, "B1": 0, "total": 3}
    t = table(query(by=[Dimension.CODE]), lambda g, c: {"count": counts[c[0]], "key": 0})
    shown = {row.categories[0]: row.value.text for row in protect(t, Audience.PROTECTED).rows}
    assert shown == {"A1": "0", "A2": "..", "B1": "0", "total": ".."}


def test_the_same_table_is_always_suppressed_the_same_way():
    counts = {"A1": 3, "A2": 12, "B1": 12, "total": 27}
    t = table(query(by=[Dimension.CODE]), lambda g, c: {"count": counts[c[0]], "key": 0})
    first = [row.value for row in protect(t, Audience.PROTECTED).rows]
    assert all(
        [row.value for row in protect(t, Audience.PROTECTED).rows] == first for _ in range(5)
    )
    assert [f.text for f in first] == ["..", "..", "12", "27"]
