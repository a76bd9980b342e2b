"""Threshold suppression: no small count shown, and no hidden cell recoverable from its total."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from inuk.stats.disclosure import Audience, equations, protect
from inuk.stats.query import Dimension, Geography, GeographyKind, Indicator
from inuk.stats.table import Mark
from tests.conftest import VALLENTUNA_CODE, VASBY_CODE
from tests.stats.tables_by_hand import CATEGORIES, combinations, municipality, query, table

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
    municipalities = [municipality(VASBY_CODE), municipality(VALLENTUNA_CODE, "Vallentuna")][
        : draw(st.integers(1, 2))
    ]
    inner = list(itertools.product(*(CATEGORIES[d][:-1] for d in by)))
    # Sometimes a group made of the table's municipalities, side by side with them.
    group = Geography(
        GeographyKind.GROUP, "g:alla", "Alla", frozenset(m.code for m in municipalities)
    )
    with_group = draw(st.booleans())
    q = query(Indicator.STARTED, by, [*municipalities, group] if with_group else municipalities)
    if draw(st.booleans()):
        parts = {g.code: {cell: draw(COUNTS) for cell in inner} for g in municipalities}
        parts[group.code] = {
            cell: sum(parts[m.code][cell] for m in municipalities) for cell in inner
        }
        return _additive_table(q, parts)
    # Distinct persons, some in several parts (two codes, two ages): a total is
    # then less than the sum of its parts, but never more.
    persons = {
        g.code: [
            [draw(st.sets(st.sampled_from(CATEGORIES[d][:-1]), min_size=1, max_size=2)) for d in by]
            for _ in range(draw(st.integers(0, 25)))
        ]
        for g in municipalities
    }
    persons[group.code] = [p for m in municipalities for p in persons[m.code]]

    def count(g, categories):
        return {
            "count": sum(
                all(c == "total" or c in chosen for c, chosen in zip(categories, p, strict=True))
                for p in persons[g.code]
            ),
            "key": 0,
        }

    return table(q, count)


@pytest.mark.slow  # many drawn tables: seconds
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
    for equation in _equations_of(t):
        unknowns = [
            (t.cells[i].geography.code, t.cells[i].categories) for i in equation if hidden[i]
        ]
        assert len(unknowns) != 1, f"{unknowns[0]} is the only unknown of its equation"


def _equations_of(t):
    """Every "total = sum of parts" of a table, found here apart from the code under test."""
    at = {(c.geography.code, c.categories): i for i, c in enumerate(t.cells)}
    found = []
    for geography in t.query.geographies:
        for categories in combinations(t.query.by):
            for position, category in enumerate(categories):
                if category != "total":
                    continue
                parts = [
                    at[
                        (
                            geography.code,
                            (*categories[:position], part, *categories[position + 1 :]),
                        )
                    ]
                    for part in CATEGORIES[t.query.by[position]][:-1]
                ]
                found.append([at[(geography.code, categories)], *parts])
            if geography.kind is GeographyKind.GROUP:
                found.append(
                    [at[(geography.code, categories)]]
                    + [at[(code, categories)] for code in sorted(geography.municipalities)]
                )
    return found


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


def test_a_group_beside_all_its_municipalities_cannot_give_a_hidden_one_away():
    members = [
        municipality(VASBY_CODE),
        municipality(VALLENTUNA_CODE, "Vallentuna"),
        municipality("0117"),
    ]
    group = Geography(GeographyKind.GROUP, "g:norr", "Norr", frozenset(m.code for m in members))
    counts = {VASBY_CODE: 30, VALLENTUNA_CODE: 3, "0117": 12}
    counts["g:norr"] = sum(counts.values())
    t = table(
        query(Indicator.STARTED, geographies=[*members, group]),
        lambda g, c: {"count": counts[g.code], "key": 0},
    )
    shown = {row.geography.code: row.value.text for row in protect(t, Audience.PROTECTED).rows}
    assert shown == {VASBY_CODE: "30", VALLENTUNA_CODE: "..", "0117": "..", "g:norr": "45"}


def test_a_group_beside_only_some_of_its_municipalities_hides_nothing_more():
    members = [municipality(VASBY_CODE), municipality(VALLENTUNA_CODE, "Vallentuna")]
    group = Geography(
        GeographyKind.GROUP, "g:norr", "Norr", frozenset({VASBY_CODE, VALLENTUNA_CODE, "0117"})
    )
    counts = {VASBY_CODE: 30, VALLENTUNA_CODE: 3, "g:norr": 45}
    t = table(
        query(Indicator.STARTED, geographies=[*members, group]),
        lambda g, c: {"count": counts[g.code], "key": 0},
    )
    shown = {row.geography.code: row.value.text for row in protect(t, Audience.PROTECTED).rows}
    assert shown == {VASBY_CODE: "30", VALLENTUNA_CODE: "..", "g:norr": "45"}
