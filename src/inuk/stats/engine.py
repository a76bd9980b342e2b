"""The true figures of a statistics question, cell by cell, with each cell's key.

``compute_straight(query)`` reads the current state (``ledger.Intervention``
and ``ledger.Result``, tombstones left out) and is the reference: it says in
code what ``inuk.stats.indicators`` says in words, as plainly as it can.
``compute(query)`` answers from the rollups (``inuk.stats.rollups``) where
they cover the question and falls back to ``compute_straight`` otherwise;
the tests hold the two equal.

Each interesting record becomes a ``Unit`` (an intervention with the
attributes a cell can select on), and a cell is the set of units matching its
geography, source and categories: its count is the number of units or of
their distinct persons, and its key the sum of the record keys of those
distinct persons. Distinct persons are counted per cell, never summed from
smaller cells.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from django.db import connections, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from inuk.ledger.models import RECORD_KEY_RANGE, Intervention, Result, Transaction
from inuk.stats.counting import TOTAL, af_organisation_id, length_days, source_of
from inuk.stats.indicators import RESULT_WINDOW_DAYS, definition
from inuk.stats.query import (
    AGE_GROUPS,
    SEXES,
    SOURCES,
    Dimension,
    Geography,
    GeographyKind,
    Indicator,
    Period,
    PeriodKind,
    Query,
    Source,
    age_group,
)
from inuk.stats.table import Cell, Mark, Table

#: Indicators whose count is of persons; the others count interventions.
PERSON_INDICATORS = frozenset({Indicator.PARTICIPANTS, Indicator.RESULTS, Indicator.COLLABORATION})


def code_list(kind: str) -> tuple[str, ...]:
    """The codes of the code list of ``kind`` (a ``Code.Kind``), in code order."""
    from inuk.codes.models import Code

    codes = Code.objects.filter(kind=kind).values_list("code", flat=True)
    return tuple(sorted(set(codes)))


def categories(indicator: Indicator, dimension: Dimension) -> tuple[str, ...]:
    """A breakdown's categories in table order, its total last."""
    if dimension is Dimension.CODE:
        return (*code_list(definition(indicator).code_kind), TOTAL)
    if dimension is Dimension.SEX:
        return (*SEXES, TOTAL)
    if dimension is Dimension.AGE:
        return (*AGE_GROUPS, TOTAL)
    return (*SOURCES, TOTAL)


def combinations(query: Query) -> list[tuple[str, ...]]:
    """Every category combination of the query's breakdowns, row-major in ``query.by`` order."""
    return list(itertools.product(*(categories(query.indicator, d) for d in query.by)))


# --- from the current state ---------------------------------------------------------


class Unit(NamedTuple):
    """One intervention, with what a cell selects it by."""

    kommunkod: str
    person: int
    key: int
    source: str
    code: str
    sex: str
    age: str
    days: int | None  # length, for ended interventions
    results: frozenset[str]  # result codes in its window, for the results indicator


def _interventions(query: Query, municipalities: Iterable[str], today: dt.date):
    period = query.period
    records = Intervention.objects.current().filter(kommunkod__in=set(municipalities))
    if query.indicator in (Indicator.PARTICIPANTS, Indicator.COLLABORATION):
        # Ongoing on some day of the period, an open one only up to today.
        ended = Q(end__isnull=False, start__lte=period.last, end__gte=period.first)
        open_ = Q(end__isnull=True, start__lte=min(period.last, today))
        records = records.filter(ended | open_ if today >= period.first else ended)
    elif query.indicator is Indicator.STARTED:
        records = records.filter(start__gte=period.first, start__lte=period.last)
    else:
        records = records.filter(end__gte=period.first, end__lte=period.last)
    return records.values_list(
        "kommunkod",
        "organisation_id",
        "code",
        "start",
        "end",
        "person_id",
        "person__record_key",
        "person__birth_year",
        "person__sex",
    )


def _results_by_person(persons: set[int]) -> dict[int, list[tuple[str, dt.date]]]:
    found: dict[int, list[tuple[str, dt.date]]] = defaultdict(list)
    ids = sorted(persons)
    for i in range(0, len(ids), 500):  # SQLite's limit on query parameters
        records = Result.objects.current().filter(person_id__in=ids[i : i + 500])
        for person, code, start in records.values_list("person_id", "code", "start"):
            found[person].append((code, start))
    return found


def units(query: Query, municipalities: Iterable[str], today: dt.date) -> list[Unit]:
    """The interventions the query's indicator counts in ``municipalities``, of either source."""
    af_id = af_organisation_id()
    rows = list(_interventions(query, municipalities, today))
    results: dict[int, list[tuple[str, dt.date]]] = {}
    if query.indicator is Indicator.RESULTS:
        results = _results_by_person({row[5] for row in rows})
    found = []
    for kommunkod, organisation, code, start, end, person, key, birth_year, sex in rows:
        in_window: frozenset[str] = frozenset()
        if query.indicator is Indicator.RESULTS:
            last = end + dt.timedelta(days=RESULT_WINDOW_DAYS)
            in_window = frozenset(c for c, day in results.get(person, ()) if start <= day <= last)
        found.append(
            Unit(
                kommunkod,
                person,
                key,
                source_of(organisation, af_id),
                code,
                sex,
                age_group(start.year, birth_year),
                length_days(start, end) if end is not None else None,
                in_window,
            )
        )
    return found


def _matches(unit: Unit, dimension: Dimension, category: str) -> bool:
    if category == TOTAL:
        return True
    if dimension is Dimension.CODE:
        return unit.code == category
    if dimension is Dimension.SEX:
        return unit.sex == category
    if dimension is Dimension.AGE:
        return unit.age == category
    return unit.source == category


def _persons(selected: Iterable[Unit]) -> tuple[int, int]:
    """How many distinct persons, and the sum of their record keys modulo the key range."""
    keys = {u.person: u.key for u in selected}
    return len(keys), sum(keys.values()) % RECORD_KEY_RANGE


def covered(kommunkod: str, period: Period) -> bool:
    """Whether a delivery received during or after ``period`` has records of ``kommunkod`` counting.

    Only deliverers other than AF are asked: AF delivers for the whole
    country, and what is missing is the municipality's own reporting.
    """
    since = dt.datetime.combine(period.first, dt.time(), tzinfo=timezone.get_current_timezone())
    records = Transaction.objects.counting().filter(
        kommunkod=kommunkod, delivery__received_at__gte=since
    )
    af_id = af_organisation_id()
    if af_id is not None:
        records = records.exclude(organisation_id=af_id)
    return records.exists()


def cell_source(query: Query, combination: Sequence[str]) -> str:
    """Whose records a cell is about: "municipal", "af" or "both"."""
    if Dimension.SOURCE in query.by:
        category = combination[query.by.index(Dimension.SOURCE)]
        if category != TOTAL:
            return category
    return str(query.source)


def not_applicable(query: Query, combination: Sequence[str]) -> bool:
    """Collaboration is about both sources at once: one source alone has no meaning there."""
    return query.indicator is Indicator.COLLABORATION and cell_source(query, combination) != "both"


def missing(query: Query, geography: Geography, combination: Sequence[str], covers) -> bool:
    """A municipality's cell has no data when its own reporting does not cover the period."""
    if geography.kind is not GeographyKind.MUNICIPALITY:
        return False
    if cell_source(query, combination) == "af":
        return False
    return not covers(geography.code)


def compute_straight(query: Query, *, today: dt.date | None = None) -> Table:
    """The question's true figures, straight from the current state: the reference."""
    today = today or timezone.localdate()
    municipalities = set().union(*(g.municipalities for g in query.geographies))
    everything = units(query, municipalities, today)
    coverage: dict[str, bool] = {}

    def covers(kommunkod: str) -> bool:
        if kommunkod not in coverage:
            coverage[kommunkod] = covered(kommunkod, query.period)
        return coverage[kommunkod]

    table = Table(query, origin="state")
    for geography in query.geographies:
        local = [u for u in everything if u.kommunkod in geography.municipalities]
        if query.indicator is Indicator.COLLABORATION:
            sources: dict[int, set[str]] = defaultdict(set)
            for unit in local:
                sources[unit.person].add(unit.source)
            local = [u for u in local if len(sources[u.person]) == 2]
        elif query.source is not Source.BOTH:
            local = [u for u in local if u.source == query.source]
        for combination in combinations(query):
            table.cells.append(_cell(query, geography, combination, local, covers))
    return table


def _cell(query: Query, geography: Geography, combination, local: list[Unit], covers) -> Cell:
    def empty(mark: Mark) -> Cell:
        base = 0 if query.indicator is Indicator.RESULTS else None
        return Cell(geography, query.period, tuple(combination), 0, 0, mark, None, base, base)

    if not_applicable(query, combination):
        return empty(Mark.NOT_APPLICABLE)
    if missing(query, geography, combination, covers):
        return empty(Mark.MISSING)
    pairs = list(zip(query.by, combination, strict=True))
    if query.indicator is Indicator.RESULTS:
        # The code is the result's; everything else selects the ended intervention.
        base_units = [
            u for u in local if all(_matches(u, d, c) for d, c in pairs if d is not Dimension.CODE)
        ]
        code = next((c for d, c in pairs if d is Dimension.CODE), TOTAL)
        with_result = [u for u in base_units if (code in u.results if code != TOTAL else u.results)]
        count, key = _persons(with_result)
        base, base_key = _persons(base_units)
        return Cell(
            geography, query.period, tuple(combination), count, key, base=base, base_key=base_key
        )
    selected = [u for u in local if all(_matches(u, d, c) for d, c in pairs)]
    persons, key = _persons(selected)
    count = persons if query.indicator in PERSON_INDICATORS else len(selected)
    median = None
    if query.indicator is Indicator.ENDED and selected:
        median = float(statistics.median(u.days for u in selected if u.days is not None))
    return Cell(geography, query.period, tuple(combination), count, key, median_days=median)


def covered_by_rollups(query: Query) -> bool:
    """Whether the rollups hold the question's cells: standard periods, no municipality groups."""
    return query.period.kind is not PeriodKind.RANGE and all(
        g.kind is not GeographyKind.GROUP for g in query.geographies
    )


def compute(query: Query, *, today: dt.date | None = None) -> Table:
    """The question's true figures: from the rollups where they cover it, else from the state."""
    return compute_many([query], today=today)[0]


def compute_many(queries: Sequence[Query], *, today: dt.date | None = None) -> list[Table]:
    """The true figures of several questions, in their order.

    Questions the rollups cover are answered together, with one read of the
    rollups per kind of question (indicator, breakdowns, source) however many
    periods and geographies they ask: a page asking 24 months costs one query,
    not 24.
    """
    from inuk.stats import rollups

    today = today or timezone.localdate()
    tables: list[Table | None] = [None] * len(queries)
    rolled = [i for i, query in enumerate(queries) if covered_by_rollups(query)]
    if rolled and rollups.ready(today):
        for i, table in zip(rolled, _from_rollups([queries[i] for i in rolled]), strict=True):
            tables[i] = table
    return [
        table if table is not None else compute_straight(query, today=today)
        for query, table in zip(queries, tables, strict=True)
    ]


def _median(lengths: dict[int, int]) -> float | None:
    """The median of a histogram of lengths, as ``statistics.median`` of its values gives it."""
    ordered = sorted(lengths)
    # How many values are at most each length: the value at place p (from 0) is the
    # first length with more than p values at most it.
    at_most = list(itertools.accumulate(lengths[days] for days in ordered))
    if not at_most or at_most[-1] == 0:
        return None
    n = at_most[-1]
    low = ordered[bisect.bisect_right(at_most, (n - 1) // 2)]
    high = ordered[bisect.bisect_right(at_most, n // 2)]
    return (low + high) / 2


def _source_category(query: Query, combination: Sequence[str]) -> str | None:
    """The rollup's source of a cell; None when the query's source excludes the category."""
    wanted = cell_source(query, combination)
    if query.source is not Source.BOTH and wanted != str(query.source):
        return None
    return TOTAL if wanted == "both" else wanted


def _narrowed(rows, query: Query):
    """Only the rows the cells add up: a dimension the question does not break down
    by is read at its total (the base of results is kept with the code at its total)."""
    if Dimension.SOURCE not in query.by:
        rows = rows.filter(source=_source_category(query, ()) or TOTAL)
    if Dimension.CODE not in query.by:
        rows = rows.filter(code=TOTAL)
    if Dimension.AGE not in query.by:
        rows = rows.filter(age=TOTAL)
    return rows


#: A length histogram's key: its cell's category or total of each.
LENGTH_DIMENSIONS = (Dimension.SOURCE, Dimension.CODE, Dimension.SEX, Dimension.AGE)


def _read_lengths(query: Query, labels, codes, lengths) -> None:
    """Add the length histograms of the cells ``query`` asks, in ``labels`` and ``codes``.

    The rollups keep them per category, never at a total (``models.Length``):
    what the question does not break down by is summed here, in SQL, and the
    total of each breakdown in Python from its categories' histograms. A
    histogram's key is its cell's (source, code, sex, age group), as
    ``_rollup_cells`` asks for it: a category or the total.
    """
    from inuk.stats.models import Length

    rows = Length.objects.filter(period__in=labels, geography__in=codes)
    if Dimension.SOURCE not in query.by and query.source is not Source.BOTH:
        rows = rows.filter(source=str(query.source))
    kept = [dimension for dimension in LENGTH_DIMENSIONS if dimension in query.by]
    names = [str(dimension) for dimension in kept]
    summed = (
        rows.values("period", "geography", *names, "days")
        .annotate(n=Sum("count"))
        .values_list("period", "geography", *names, "days", "n")
        .order_by()
    )
    own_source = _source_category(query, ()) if Dimension.SOURCE not in query.by else TOTAL
    fixed = {
        Dimension.SOURCE: own_source,
        Dimension.CODE: TOTAL,
        Dimension.SEX: TOTAL,
        Dimension.AGE: TOTAL,
    }
    places = [LENGTH_DIMENSIONS.index(dimension) for dimension in kept]
    # A row counts in the histogram of its categories and in each total above them.
    keys_of: dict[tuple, list[tuple]] = {}
    for period, geography, *categories, days, n in _hashed(summed):
        found = tuple(categories)
        keys = keys_of.get(found)
        if keys is None:
            cell = [fixed[dimension] for dimension in LENGTH_DIMENSIONS]
            for place, category in zip(places, found, strict=True):
                cell[place] = category
            keys = keys_of[found] = list(_with_totals(tuple(cell), places))
        histograms = lengths[period, geography]
        for key in keys:
            histogram = histograms[key]
            histogram[days] = histogram.get(days, 0) + n


#: PostgreSQL's work_mem for summing length histograms: enough to do it in a hash table
#: (some 20 ms for a year of the country by two breakdowns) rather than by sorting text
#: (some 70 ms).
LENGTHS_WORK_MEM = "64MB"


def _hashed(rows) -> list:
    """``rows`` read with memory enough for PostgreSQL to group them without sorting."""
    connection = connections[rows.db]
    if connection.vendor != "postgresql":
        return list(rows)
    with transaction.atomic(using=rows.db), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL work_mem = '{LENGTHS_WORK_MEM}'")
        return list(rows)


def _with_totals(key: tuple, places: list[int]) -> Iterable[tuple]:
    """``key`` and every key with some of its ``places`` at the total instead."""
    choices: list[tuple] = [(value,) for value in key]
    for place in places:
        choices[place] = (key[place], TOTAL)
    return itertools.product(*choices)


def _from_rollups(queries: Sequence[Query]) -> list[Table]:
    """The questions' true figures from the rollups, which must cover them and be current."""
    from inuk.stats import rollups
    from inuk.stats.models import Coverage, Rollup

    last_received = dict(Coverage.objects.values_list("kommunkod", "last_received"))
    zone = timezone.get_current_timezone()

    # One read per kind of question: every period and geography asked of that kind.
    kinds: dict[tuple, list[Query]] = defaultdict(list)
    for query in queries:
        kinds[(query.indicator, query.by, query.source)].append(query)
    values: dict[tuple[str, str], dict[tuple, tuple[int, int, int]]] = defaultdict(dict)
    lengths: dict[tuple[str, str], dict[tuple, dict[int, int]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    for (indicator, _by, _source), asked in kinds.items():
        sample = asked[0]
        letter = rollups.LETTER[indicator]
        letters = [letter, rollups.RESULTS_BASE] if indicator is Indicator.RESULTS else [letter]
        labels = {q.period.label for q in asked}
        codes = {g.code for q in asked for g in q.geographies}
        rows = _narrowed(
            Rollup.objects.filter(indicator__in=letters, period__in=labels, geography__in=codes),
            sample,
        )
        for period, geography, *key in rows.values_list(
            "period", "geography", "indicator", "source", "code", "sex", "age",
            "count", "persons", "key_sum",
        ):  # fmt: skip
            values[period, geography][tuple(key[:5])] = tuple(key[5:])
        if indicator is Indicator.ENDED:
            _read_lengths(sample, labels, codes, lengths)

    tables = []
    for query in queries:
        since = dt.datetime.combine(query.period.first, dt.time(), tzinfo=zone)

        def covers(kommunkod: str, since=since) -> bool:
            latest = last_received.get(kommunkod)
            return latest is not None and latest >= since

        table = Table(query, origin="rollup")
        for geography in query.geographies:
            here = (query.period.label, geography.code)
            table.cells.extend(_rollup_cells(query, geography, values[here], lengths[here], covers))
        tables.append(table)
    return tables


def _rollup_cells(query, geography, values, lengths, covers) -> list[Cell]:
    """One geography's cells of ``query`` from its rollup rows and length histograms."""
    from inuk.stats import rollups

    letter = rollups.LETTER[query.indicator]
    cells = []
    for combination in combinations(query):
        cell = _rollup_cell(
            query, geography, combination, covers, lambda c: _source_category(query, c)
        )
        if cell is not None:
            cells.append(cell)
            continue
        chosen = dict(zip(query.by, combination, strict=True))
        source = _source_category(query, combination)
        code, age = chosen.get(Dimension.CODE, TOTAL), chosen.get(Dimension.AGE, TOTAL)
        sex = chosen.get(Dimension.SEX, TOTAL)
        sexes = SEXES if sex == TOTAL else (sex,)
        if source is None:
            count = persons = key_sum = 0
            base = base_key = 0
        else:
            count, persons, key_sum = (
                sum(values.get((letter, source, code, s, age), (0, 0, 0))[i] for s in sexes)
                for i in range(3)
            )
            base, base_key = (
                sum(
                    values.get((rollups.RESULTS_BASE, source, TOTAL, s, age), (0, 0, 0))[i]
                    for s in sexes
                )
                for i in (1, 2)
            )
        median = None
        if query.indicator is Indicator.ENDED and source is not None:
            median = _median(lengths.get((source, code, sex, age), {}))
        results = query.indicator is Indicator.RESULTS
        cells.append(
            Cell(
                geography,
                query.period,
                tuple(combination),
                persons if query.indicator in PERSON_INDICATORS else count,
                key_sum % RECORD_KEY_RANGE,
                median_days=median,
                base=base if results else None,
                base_key=base_key % RECORD_KEY_RANGE if results else None,
            )
        )
    return cells


def _rollup_cell(query, geography, combination, covers, source_category) -> Cell | None:
    """The cell when it is marked rather than counted, else None."""
    mark = None
    if not_applicable(query, combination):
        mark = Mark.NOT_APPLICABLE
    elif missing(query, geography, combination, covers):
        mark = Mark.MISSING
    if mark is None:
        return None
    base = 0 if query.indicator is Indicator.RESULTS else None
    return Cell(geography, query.period, tuple(combination), 0, 0, mark, None, base, base)
