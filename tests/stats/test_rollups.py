"""The rollups answer exactly what the current state says, however deliveries arrive.

Hypothesis draws small ledgers (interventions and results of a few persons in
three municipalities and AF, with Ändring and Borttag) split into deliveries
applied in a random order, sometimes with one withdrawn, and holds every
answer from the rollups equal to the answer straight from the state: every
indicator, period kind, geography level and breakdown.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inuk.ledger.bulk import LedgerRow
from inuk.stats import engine, rollups
from inuk.stats.models import Length, Rollup, RollupState
from inuk.stats.query import Query
from inuk.stats.table import Mark
from tests.conftest import GOTEBORG_CODE, VALLENTUNA_CODE, VASBY_CODE
from tests.ledger.conftest import ANNA, BO, result, tx
from tests.stats.conftest import CILLA, DAVID, TODAY, Book

D = dt.date
GEOGRAPHIES = (VASBY_CODE, VALLENTUNA_CODE, GOTEBORG_CODE, "01", "14", "SE")
PERIODS = ("2024-01", "2024-02", "2024-03", "2024-06", "2024-07", "2024-Q1", "2024-Q2", "2024")
BREAKDOWNS = ((), ("code",), ("sex",), ("age",), ("source",), ("code", "sex"), ("age", "source"))


def same(book: Book, indicator, period, by=(), source="both", geographies=GEOGRAPHIES) -> None:
    query = Query.parse(
        indicator=indicator, period=period, geographies=list(geographies), by=by, source=source
    )
    rolled = engine.compute(query, today=TODAY)
    assert rolled.origin == "rollup"
    assert rolled.cells == engine.compute_straight(query, today=TODAY).cells, (
        indicator,
        period,
        by,
        source,
    )


# --- by hand ------------------------------------------------------------------------


def test_a_person_in_january_and_february_is_one_participant_of_the_quarter(book):
    book.apply(
        tx("R", start=D(2024, 1, 5), end=D(2024, 1, 20)),
        tx("R", code="KAR", start=D(2024, 2, 5), end=D(2024, 2, 20)),
    )

    assert book.ask("participants", "2024-01", straight=False) == [1]
    assert book.ask("participants", "2024-02", straight=False) == [1]
    assert book.ask("participants", "2024-Q1", straight=False) == [1]
    assert book.table("participants", "2024-Q1", straight=False).origin == "rollup"


def test_a_person_in_two_municipalities_is_one_participant_of_the_county(book):
    book.apply(tx("R", start=D(2024, 1, 5), end=D(2024, 1, 20)))
    book.apply(
        tx("R", start=D(2024, 1, 10), end=D(2024, 1, 20), kommunkod=VALLENTUNA_CODE),
        organisation=book.vallentuna,
    )

    table = book.table("participants", "2024-01", geographies=(VASBY_CODE, "01"), straight=False)

    assert [c.count for c in table.cells] == [1, 1]
    assert table.cells[1].key == book.key(ANNA)


@pytest.mark.slow  # every question there is: seconds
def test_every_question_on_a_small_ledger_is_answered_as_the_state_answers_it(book):
    book.apply(
        tx("R", person=ANNA, start=D(2024, 1, 5), end=D(2024, 3, 2)),
        tx("R", person=BO, code="KAR", start=D(2024, 2, 5), end=None),
        result("R", person=ANNA, code="ARB", start=D(2024, 4, 1)),
        tx("R", person=CILLA, start=D(2023, 12, 30), end=D(2024, 1, 2)),
    )
    book.apply(
        tx("R", person=ANNA, code="JSA", start=D(2024, 2, 1), end=D(2024, 2, 10)),
        tx("R", person=DAVID, code="JSA", kommunkod=GOTEBORG_CODE, start=D(2024, 6, 1)),
        organisation=book.af,
    )

    for indicator in ("participants", "started", "ended", "results", "collaboration"):
        for period in PERIODS:
            for by in BREAKDOWNS:
                same(book, indicator, period, by)
        same(book, indicator, "2024-Q1", ("sex",), source="af")
        same(book, indicator, "2024", ("source",), source="municipal")


def test_a_withdrawal_takes_its_records_out_of_the_rollups(book):
    book.apply(tx("R", person=ANNA))
    book.apply(tx("R", person=BO, at="2024-01-11 10:00"))
    assert book.ask("participants", "2024-01", straight=False) == [2]

    book.withdraw(book.deliveries[-1])

    assert book.ask("participants", "2024-01", straight=False) == [1]
    same(book, "participants", "2024-01", ("sex",))


def test_an_open_intervention_runs_on_as_the_days_pass(book):
    book.apply(tx("R", start=D(2024, 5, 20), end=None))
    query = Query.parse(indicator="participants", period="2024-07", geographies=[VASBY_CODE])

    assert engine.compute(query, today=D(2024, 6, 30)).cells[0].count == 0
    assert engine.compute(query, today=D(2024, 7, 1)).cells[0].count == 1
    assert RollupState.objects.get().as_of == D(2024, 7, 1)
    assert engine.compute(query, today=D(2024, 6, 1)).cells[0].count == 0


def test_an_open_intervention_starting_later_in_the_month_begins_on_its_day(book):
    book.apply(tx("R", start=D(2024, 6, 20), end=None))
    query = Query.parse(indicator="participants", period="2024-06", geographies=[VASBY_CODE])

    assert engine.compute(query, today=D(2024, 6, 19)).cells[0].count == 0
    assert engine.compute(query, today=D(2024, 6, 20)).cells[0].count == 1


def test_a_rebuild_gives_the_rollups_the_deliveries_built(book):
    book.apply(tx("R", person=ANNA, start=D(2024, 1, 5), end=D(2024, 2, 2)))
    book.apply(tx("R", person=BO, start=D(2024, 1, 5), end=None), organisation=book.af)
    engine.compute(Query.parse(indicator="started", period="2024", geographies=["SE"]), today=TODAY)
    kept = {r.pk: (r.count, r.persons, r.key_sum) for r in Rollup.objects.all() if r.persons}

    rollups.rebuild(TODAY)

    assert {r.pk: (r.count, r.persons, r.key_sum) for r in Rollup.objects.all()} == kept


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the planner's statistics are PostgreSQL's"
)
def test_after_a_rebuild_the_planner_knows_how_many_rows_the_rollups_hold(book):
    book.apply(tx("R", person=ANNA, start=D(2024, 1, 5), end=D(2024, 2, 2)))

    rollups.rebuild(TODAY)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples FROM pg_class"
            " WHERE relname IN ('stats_rollup', 'stats_length')"
        )
        planned = dict(cursor.fetchall())
    assert planned == {
        "stats_rollup": Rollup.objects.count(),
        "stats_length": Length.objects.count(),
    }


def test_without_rollups_the_engine_answers_from_the_state(book):
    book.apply(tx("R", person=ANNA))
    RollupState.objects.all().delete()

    table = book.table("participants", "2024-01", straight=False)

    assert (table.origin, table.cells[0].count) == ("state", 1)


def test_a_range_of_months_and_a_group_are_answered_from_the_state(book):
    book.apply(tx("R", person=ANNA))

    assert book.table("participants", "2024-01..2024-02", straight=False).origin == "state"


# --- drawn ----------------------------------------------------------------------------

PERSONS = (ANNA, BO, CILLA, DAVID)
CODES = ("SYV", "KAR")
RESULT_CODES = ("ARB", "STU")
DEPLOYERS = ("vasby", "vallentuna", "af")


@st.composite
def ledgers(draw):
    """(deliveries as (deliverer, rows), order, the delivery to withdraw or None)."""
    count = draw(st.integers(1, 14))
    minutes = draw(st.lists(st.integers(0, 50_000), min_size=count, max_size=count, unique=True))
    rows: list[tuple[str, LedgerRow]] = []
    for minute in minutes:
        deliverer = draw(st.sampled_from(DEPLOYERS))
        kommunkod = {"vasby": VASBY_CODE, "vallentuna": VALLENTUNA_CODE}.get(deliverer) or draw(
            st.sampled_from((VASBY_CODE, VALLENTUNA_CODE, GOTEBORG_CODE))
        )
        at = (dt.datetime(2024, 1, 1) + dt.timedelta(minutes=minute)).isoformat(sep=" ")
        person = draw(st.sampled_from(PERSONS))
        start = D(2023, 12, 1) + dt.timedelta(days=draw(st.integers(0, 240)))
        status = draw(st.sampled_from("RRRAB"))
        if draw(st.integers(0, 3)) == 0:
            code = draw(st.sampled_from(RESULT_CODES))
            row = result(status, at=at, person=person, code=code, start=start, kommunkod=kommunkod)
        else:
            days = draw(st.one_of(st.none(), st.integers(0, 120)))
            end = None if days is None else start + dt.timedelta(days=days)
            code = draw(st.sampled_from(CODES))
            row = tx(
                status, at=at, person=person, code=code, start=start, end=end, kommunkod=kommunkod
            )
        rows.append((deliverer, row))
    deliveries: dict[str, list[LedgerRow]] = {}
    for deliverer, row in rows:
        deliveries.setdefault(deliverer, []).append(row)
    parts = []
    for deliverer, its_rows in deliveries.items():
        cut = draw(st.integers(0, len(its_rows)))
        parts += [(deliverer, part) for part in (its_rows[:cut], its_rows[cut:]) if part]
    order = draw(st.permutations(range(len(parts))))
    withdrawn = draw(st.one_of(st.none(), st.integers(0, len(parts) - 1)))
    return [parts[i] for i in order], withdrawn


@pytest.mark.slow
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ledgers(), st.data())
def test_the_rollups_answer_as_the_state_whatever_the_ledger_and_order(book, drawn, data):
    deliveries, withdrawn = drawn
    with transaction.atomic():
        for deliverer, rows in deliveries:
            book.apply(*rows, organisation=getattr(book, deliverer))
        if withdrawn is not None:
            book.withdraw(book.deliveries[-len(deliveries) + withdrawn])
        for indicator in ("participants", "started", "ended", "results", "collaboration"):
            period = data.draw(st.sampled_from(PERIODS))
            by = data.draw(st.sampled_from(BREAKDOWNS))
            source = data.draw(st.sampled_from(("both", "both", "af", "municipal")))
            same(book, indicator, period, by, source)
        transaction.set_rollback(True)


def test_a_municipality_has_data_from_its_first_delivery_on_and_none_after_a_withdrawal(book):
    book.apply(tx("R", person=BO, kommunkod=VALLENTUNA_CODE), organisation=book.af)
    assert book.table("participants", "2024-01", (VALLENTUNA_CODE,), straight=False).cells[0].mark

    book.apply(tx("R", person=ANNA, kommunkod=VALLENTUNA_CODE), organisation=book.vallentuna)
    cell = book.table("participants", "2024-01", (VALLENTUNA_CODE,), straight=False).cells[0]
    assert (cell.mark, cell.count) == (Mark.NONE, 2)

    book.withdraw(book.deliveries[-1])
    cell = book.table("participants", "2024-01", (VALLENTUNA_CODE,), straight=False).cells[0]
    assert (cell.mark, cell.count) == (Mark.MISSING, 0)


# --- only the periods that changed ----------------------------------------------------

#: Days on either side of month, quarter and year ends, and of the results' window's edge.
EDGES = (D(2023, 12, 31), D(2024, 1, 1), D(2024, 3, 31), D(2024, 4, 1), D(2024, 6, 30))
AS_OF = (D(2024, 3, 15), D(2024, 3, 31), D(2024, 4, 1), D(2024, 7, 2), D(2025, 1, 3))


def near(draw, day: dt.date) -> dt.date:
    return day + dt.timedelta(days=draw(st.integers(-2, 2)))


@st.composite
def changes(draw):
    """A first delivery of interventions, then deliveries changing them across period ends.

    Each later delivery is a list of steps: ("end", i, end) an Ändring of
    intervention i to a new end (None: open again), ("remove", i) its Borttag,
    ("result", i, days) a result that many days after its end (around the
    window's 90), ("new", ...) a new intervention; ("advance", day) moves the
    rollups' day between deliveries. Returns (first, later steps, withdrawn).
    """
    first = []
    for _ in range(draw(st.integers(1, 5))):
        person = draw(st.sampled_from(PERSONS))
        start = near(draw, draw(st.sampled_from(EDGES)))
        end = draw(st.one_of(st.none(), st.builds(lambda d: near(draw, d), st.sampled_from(EDGES))))
        if end is not None and end < start:
            start, end = end, start
        code = draw(st.sampled_from(CODES))
        deliverer = draw(st.sampled_from(DEPLOYERS))
        first.append((person, deliverer, code, start, end))
    steps = []
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, len(first) - 1))
        kind = draw(st.sampled_from(("end", "end", "remove", "result", "new", "advance")))
        if kind == "end":
            moved = draw(
                st.one_of(st.none(), st.builds(lambda d: near(draw, d), st.sampled_from(EDGES)))
            )
            steps.append(
                ("end", i, moved if moved is None or moved >= first[i][3] else first[i][3])
            )
        elif kind == "result":
            steps.append(("result", i, draw(st.integers(86, 94))))
        elif kind == "new":
            steps.append(("new", i, near(draw, draw(st.sampled_from(EDGES)))))
        elif kind == "advance":
            steps.append(("advance", draw(st.sampled_from(AS_OF))))
        else:
            steps.append(("remove", i))
    return first, steps, draw(st.one_of(st.none(), st.integers(0, len(steps))))


def rows() -> tuple[set, set]:
    from inuk.stats.models import Length

    cells = Rollup.objects.exclude(count=0, persons=0, key_sum=0).values_list(
        "indicator", "period", "geography", "source", "code", "sex", "age",
        "count", "persons", "key_sum",
    )  # fmt: skip
    lengths = Length.objects.exclude(count=0).values_list(
        "period", "geography", "source", "code", "sex", "age", "days", "count"
    )
    return set(cells), set(lengths)


@pytest.mark.slow
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(changes())
def test_refreshing_only_the_periods_that_changed_gives_what_a_rebuild_gives(book, drawn):
    """End dates moved across month, quarter and year ends, removals, results at the
    window's edge, open interventions, the rollups' day moved: the rollups kept up to
    date delivery by delivery are the rollups built afresh."""
    first, steps, withdrawn = drawn
    minute = iter(range(10_000))

    def at() -> str:
        return (dt.datetime(2024, 8, 1) + dt.timedelta(minutes=next(minute))).isoformat(sep=" ")

    def row(status, record, **values):
        person, deliverer, code, start, end = record
        fields = {"person": person, "code": code, "start": start, "end": end, "at": at()}
        if deliverer == "af":
            fields["kommunkod"] = GOTEBORG_CODE
        elif deliverer == "vallentuna":
            fields["kommunkod"] = VALLENTUNA_CODE
        return tx(status, **(fields | values)), getattr(book, deliverer)

    with transaction.atomic():
        rollups.advance(D(2024, 6, 15))
        for record in first:
            applied, organisation = row("R", record)
            book.apply(applied, organisation=organisation)
        delivered = []
        for step in steps:
            if step[0] == "advance":
                rollups.advance(step[1])
                continue
            record = first[step[1]]
            if step[0] == "end":
                applied, organisation = row("A", record, end=step[2])
            elif step[0] == "remove":
                applied, organisation = row("B", record)
            elif step[0] == "new":
                applied, organisation = row("R", record, start=step[2], code="KAR")
            else:
                day = (record[4] or record[3]) + dt.timedelta(days=step[2])
                applied, organisation = result("R", person=record[0], start=day, at=at()), None
            book.apply(applied, organisation=organisation)
            delivered.append(book.deliveries[-1])
        if withdrawn is not None and withdrawn < len(delivered):
            book.withdraw(delivered[withdrawn])
        kept = rows()
        rollups.rebuild(RollupState.objects.get().as_of)
        assert kept == rows()
        transaction.set_rollback(True)
