"""Length histograms are kept per category and summed for a total when asked.

An ended intervention has one source, code, sex and age group, so the
lengths of a total are the sum of its categories' lengths: the rollups keep
only those, one row per period and geography level, and the median of any
cell (a total, a breakdown, one source) is the one the state gives.
"""

from __future__ import annotations

import datetime as dt
import importlib
import itertools
import statistics
from collections import defaultdict
from types import SimpleNamespace

from django.apps import apps
from django.db import connection, transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inuk.stats import engine
from inuk.stats.counting import TOTAL
from inuk.stats.models import Length
from inuk.stats.query import AGE_GROUPS, SEXES, SOURCES, Query
from tests.conftest import VASBY_CODE
from tests.ledger.conftest import BO, tx
from tests.stats.conftest import CILLA

D = dt.date
BREAKDOWNS = ((), ("code",), ("age",), ("source",), ("sex",), ("code", "age"), ("source", "code"))


def medians(book, period: str, by=(), source="both", *, straight: bool) -> list:
    table = book.table("ended", period, (VASBY_CODE, "01", "SE"), by, source, straight=straight)
    return [(cell.categories, cell.median_days) for cell in table.cells]


def three_endings(book) -> None:
    book.apply(
        tx("R", start=D(2024, 1, 1), end=D(2024, 1, 10)),
        tx("R", code="KAR", start=D(2024, 1, 3), end=D(2024, 1, 30), person=BO),
        tx("R", code="KAR", start=D(2023, 12, 1), end=D(2024, 2, 29), person=CILLA),
    )


def test_an_ended_intervention_is_one_length_row_per_period_and_geography_level(book):
    book.apply(tx("R", start=D(2024, 1, 1), end=D(2024, 1, 10)))

    rows = set(Length.objects.values_list("period", "geography", "source", "code", "days"))

    assert rows == {
        (period, geography, "municipal", "SYV", 10)
        for period in ("2024-01", "2024-Q1", "2024")
        for geography in (VASBY_CODE, "01", "SE")
    }


def test_medians_of_totals_and_categories_from_the_rollups_are_the_states(book):
    three_endings(book)

    for period in ("2024-01", "2024-Q1", "2024"):
        for by in BREAKDOWNS:
            for source in ("both", "municipal", "af"):
                rolled = medians(book, period, by, source, straight=False)
                assert rolled == medians(book, period, by, source, straight=True), (by, source)
    # By hand: 10, 28 and 91 days in the quarter; 10 and 28 in January.
    assert medians(book, "2024-Q1", straight=False)[0] == ((), 28.0)
    assert medians(book, "2024-01", straight=False)[0] == ((), 19.0)
    by_code = dict(medians(book, "2024-Q1", ("code",), straight=False))
    assert (by_code[("KAR",)], by_code[("SYV",)], by_code[(TOTAL,)]) == (59.5, 10.0, 28.0)
    assert by_code[("ATR",)] is None


def test_the_migration_leaves_the_histograms_as_the_rollups_keep_them(book):
    """A database from before kept the totals as rows of their own: they go, the rest stays."""
    three_endings(book)
    kept = set(Length.objects.values_list())
    before = {period: medians(book, period, ("code",), straight=False) for period in ("2024-Q1",)}
    fields = ("period", "geography", "source", "code", "sex", "age", "days")
    for total_of in ("source", "code", "age"):
        others = [name for name in fields if name != total_of]
        for row in Length.objects.values(*others).annotate(n=Sum("count")):
            n = row.pop("n")
            Length.objects.create(**row, **{total_of: TOTAL}, count=n)
    assert Length.objects.count() > len(kept)

    migration = importlib.import_module("inuk.stats.migrations.0002_lengths_per_category")
    migration.drop_totals(apps, SimpleNamespace(connection=connection))

    assert set(Length.objects.values_list()) == kept
    assert {p: medians(book, p, ("code",), straight=False) for p in before} == before


@given(st.dictionaries(st.integers(1, 800), st.integers(0, 5), max_size=12))
def test_the_median_of_a_histogram_is_the_median_of_its_values(histogram):
    values = [days for days, n in histogram.items() for _ in range(n)]

    expected = float(statistics.median(values)) if values else None
    assert engine._median(histogram) == expected


#: A length row's categories: source, code, sex, age group.
CATEGORIES = st.tuples(
    st.sampled_from(SOURCES),
    st.sampled_from(("SYV", "KAR")),
    st.sampled_from(SEXES),
    st.sampled_from(AGE_GROUPS[:2]),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.dictionaries(st.tuples(CATEGORIES, st.integers(1, 800)), st.integers(0, 4), max_size=24),
    st.sampled_from(((), ("code",), ("sex", "age"), ("source", "code"), ("code", "sex"))),
)
def test_the_median_of_every_cell_and_total_is_the_median_of_its_categories_values(db, rows, by):
    """However the rows of a year of the country fall, each cell's median is its values'."""
    query = Query.parse(indicator="ended", period="2024", geographies=["SE"], by=by)
    kept = [("source", "code", "sex", "age").index(name) for name in by]
    values: dict[tuple, list[int]] = defaultdict(list)
    for (categories, days), n in rows.items():
        for at_total in itertools.product((False, True), repeat=len(kept)):
            key = [TOTAL] * 4
            for place, total in zip(kept, at_total, strict=True):
                key[place] = TOTAL if total else categories[place]
            values[tuple(key)].extend([days] * n)
    expected = {key: float(statistics.median(v)) for key, v in values.items() if v}

    with transaction.atomic():
        Length.objects.bulk_create(
            Length(period="2024", geography="SE", source=source, code=code, sex=sex, age=age,
                   days=days, count=n)
            for ((source, code, sex, age), days), n in rows.items()
        )  # fmt: skip
        lengths: dict = defaultdict(lambda: defaultdict(dict))
        engine._read_lengths(query, {"2024"}, {"SE"}, lengths)
        transaction.set_rollback(True)

    medians = {key: engine._median(histogram) for key, histogram in lengths["2024", "SE"].items()}
    found = {key: median for key, median in medians.items() if median is not None}
    assert found == expected
