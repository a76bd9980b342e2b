"""Keeping the rollups (``inuk.stats.models``) exact as deliveries arrive and go.

Every rollup row is a sum over persons of what each person contributes to it,
and a person's contribution depends on that person's current records alone.
So after a delivery is applied (or withdrawn) the rollups stay exact if, for
each person the delivery touched, their contribution *before* is taken away
and their contribution *after* is added. The state before is not kept, but it
need not be: the state is a function of the set of counting transactions
(SPEC §5), so the state before is derived again from the ledger for just those
persons, without the delivery's transactions (after an apply) or with them
(after a withdrawal).

Open interventions (no end date) run up to today: the rollups are exact for
one day, ``RollupState.as_of``, and ``advance()`` moves them to another by
the same difference, for the persons whose contribution depends on the day.

``rebuild()`` derives all of it from the state (``inuk stats refresh``).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Max
from django.utils import timezone

from inuk.intake.models import Delivery
from inuk.ledger.bulk import require_atomic
from inuk.ledger.models import Intervention, Person, Result, Transaction
from inuk.ledger.sql import winners
from inuk.organisations.models import Municipality
from inuk.stats.engine import TOTAL, af_organisation_id, length_days, source_of
from inuk.stats.indicators import RESULT_WINDOW_DAYS
from inuk.stats.models import Coverage, Length, Rollup, RollupState
from inuk.stats.query import COUNTRY_CODE, Indicator, Period, age_group

#: The rollup's one-letter name of each indicator; ``B`` is the base of ``results``.
LETTER = {
    Indicator.PARTICIPANTS: "P",
    Indicator.STARTED: "S",
    Indicator.ENDED: "E",
    Indicator.RESULTS: "R",
    Indicator.COLLABORATION: "C",
}
RESULTS_BASE = "B"

#: Persons per round trip, well under SQLite's limit on query parameters.
CHUNK = 500

CellKey = tuple[str, str, str, str, str, str, str]  # indicator, period, geography, ...
LengthKey = tuple[str, str, str, str, str, str, int]


# --- what one person contributes ----------------------------------------------------


@dataclass
class Contribution:
    """What some persons add to the rollups: per cell, (interventions, persons, key sum)."""

    cells: dict[CellKey, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0]))
    lengths: Counter[LengthKey] = field(default_factory=Counter)

    def add(self, other: Contribution, sign: int = 1) -> None:
        for key, (count, persons, key_sum) in other.cells.items():
            cell = self.cells[key]
            cell[0] += sign * count
            cell[1] += sign * persons
            cell[2] += sign * key_sum
        for length, n in other.lengths.items():
            self.lengths[length] += sign * n


def _periods_of_month(year: int, month: int) -> tuple[str, str, str]:
    return (f"{year:04d}-{month:02d}", f"{year:04d}-Q{(month - 1) // 3 + 1}", f"{year:04d}")


def _periods_between(first: dt.date, last: dt.date) -> set[str]:
    labels: set[str] = set()
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        labels.update(_periods_of_month(year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return labels


@dataclass(frozen=True)
class Facts:
    """What the rollups need to know of a person and the world."""

    record_key: int
    birth_year: int
    sex: str
    af_id: int | None
    county_of: dict[str, str]
    today: dt.date


def contribution(
    facts: Facts,
    interventions: Iterable[tuple[str, int, str, dt.date, dt.date | None]],
    results: Iterable[tuple[str, dt.date]],
) -> Contribution:
    """One person's contribution, from their current interventions and results.

    ``interventions`` are (kommunkod, organisation id, code, start, end),
    ``results`` (code, start). This says again what ``engine`` computes, cell
    by cell instead of question by question; the tests hold the two equal.
    """
    sex, today = facts.sex, facts.today
    present: set[CellKey] = set()  # cells counting this person
    counts: Counter[CellKey] = Counter()  # interventions per cell, for started and ended
    lengths: Counter[LengthKey] = Counter()
    ongoing: dict[tuple[str, str], list[tuple[str, str, str]]] = defaultdict(list)
    results = list(results)

    def spread(
        letter: str, labels: Iterable[str], kommunkod: str, source: str, code: str, age: str
    ):
        for label in labels:
            for geography in (kommunkod, facts.county_of.get(kommunkod, ""), COUNTRY_CODE):
                for s in (source, TOTAL):
                    for c in (code, TOTAL):
                        for a in (age, TOTAL):
                            yield (letter, label, geography, s, c, sex, a)

    for kommunkod, organisation, code, start, end in interventions:
        source = source_of(organisation, facts.af_id)
        age = age_group(start.year, facts.birth_year)
        last = end if end is not None else today
        if start <= last:
            labels = _periods_between(start, last)
            present.update(spread("P", labels, kommunkod, source, code, age))
            for label in labels:
                for geography in (kommunkod, facts.county_of.get(kommunkod, ""), COUNTRY_CODE):
                    ongoing[label, geography].append((source, code, age))
        started = _periods_of_month(start.year, start.month)
        for key in spread("S", started, kommunkod, source, code, age):
            present.add(key)
            counts[key] += 1
        if end is None:
            continue
        ended = _periods_of_month(end.year, end.month)
        days = length_days(start, end)
        for key in spread("E", ended, kommunkod, source, code, age):
            present.add(key)
            counts[key] += 1
            lengths[(*key[1:], days)] += 1
        present.update(spread(RESULTS_BASE, ended, kommunkod, source, TOTAL, age))
        window_end = end + dt.timedelta(days=RESULT_WINDOW_DAYS)
        found = {c for c, day in results if start <= day <= window_end}
        for result_code in found | ({TOTAL} if found else set()):
            present.update(spread("R", ended, kommunkod, source, result_code, age))

    for (label, geography), units in ongoing.items():
        if len({source for source, _, _ in units}) < 2:
            continue
        for _, code, age in units:
            for c in (code, TOTAL):
                for a in (age, TOTAL):
                    present.add(("C", label, geography, TOTAL, c, sex, a))

    made = Contribution()
    for key in present:
        made.cells[key] = [counts.get(key, 1), 1, facts.record_key]
    made.lengths = lengths
    return made


# --- from the database --------------------------------------------------------------


def _county_of() -> dict[str, str]:
    return dict(Municipality.objects.values_list("code", "county_code"))


def _chunks(items: list[int]) -> Iterator[list[int]]:
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


def _current_records(persons: list[int]):
    interventions: dict[int, list] = defaultdict(list)
    results: dict[int, list] = defaultdict(list)
    fields = ("person_id", "kommunkod", "organisation_id", "code", "start", "end")
    for row in Intervention.objects.current().filter(person_id__in=persons).values_list(*fields):
        interventions[row[0]].append(row[1:])
    for person, code, start in (
        Result.objects.current()
        .filter(person_id__in=persons)
        .values_list("person_id", "code", "start")
    ):
        results[person].append((code, start))
    return interventions, results


def _records_without(persons: list[int], where: str, params: list):
    """The state of ``persons`` derived again from the ledger rows ``t`` that ``where`` picks."""
    interventions: dict[int, list] = defaultdict(list)
    results: dict[int, list] = defaultdict(list)
    marks = ", ".join(["%s"] * len(persons))
    pick = f"t.person_id IN ({marks}) AND {where}"
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(
            'SELECT person_id, kommunkod, organisation_id, code, start, "end" '
            f"FROM ({winners('I', pick)}) w WHERE NOT removed",
            [*persons, *params],
        )
        for row in cursor.fetchall():
            interventions[row[0]].append(tuple(row[1:]))
        cursor.execute(
            f"SELECT person_id, code, start FROM ({winners('R', pick)}) w WHERE NOT removed",
            [*persons, *params],
        )
        for person, code, start in cursor.fetchall():
            results[person].append((code, start))
    return interventions, results


def _dates(rows: dict[int, list], *, intervention: bool) -> None:
    """SQLite hands raw SQL dates back as text."""
    for records in rows.values():
        for i, record in enumerate(records):
            if intervention:
                kommunkod, organisation, code, start, end = record
                records[i] = (
                    kommunkod,
                    organisation,
                    code,
                    _date(start),
                    _date(end) if end is not None else None,
                )
            else:
                records[i] = (record[0], _date(record[1]))


def _date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _facts(persons: list[int], today: dt.date, county_of, af_id) -> dict[int, Facts]:
    rows = Person.objects.filter(pk__in=persons).values_list(
        "pk", "record_key", "birth_year", "sex"
    )
    return {
        person: Facts(record_key, birth_year, sex, af_id, county_of, today)
        for person, record_key, birth_year, sex in rows
    }


def _contributions(persons: list[int], records, today: dt.date, county_of, af_id) -> Contribution:
    interventions, results = records
    total = Contribution()
    for person, facts in _facts(persons, today, county_of, af_id).items():
        if person not in interventions:
            continue  # no interventions, no contribution: results count only after one
        total.add(contribution(facts, interventions[person], results.get(person, ())))
    return total


def _difference(
    change: Contribution, facts: Facts, facts_before: Facts, before: tuple, after: tuple
) -> None:
    """Add to ``change`` one person's contribution ``after`` less their contribution ``before``.

    Only the cells that differ are touched: a delivery usually changes a
    small part of what a person contributes.
    """
    old = contribution(facts_before, *before) if before[0] else Contribution()
    new = contribution(facts, *after) if after[0] else Contribution()
    for key, values in new.cells.items():
        was = old.cells.pop(key, None)
        if was != values:
            cell = change.cells[key]
            for i in range(3):
                cell[i] += values[i] - (was[i] if was else 0)
    for key, was in old.cells.items():
        cell = change.cells[key]
        for i in range(3):
            cell[i] -= was[i]
    for length, n in new.lengths.items():
        change.lengths[length] += n
    for length, n in old.lengths.items():
        change.lengths[length] -= n


def _store(change: Contribution) -> None:
    """Add ``change`` to the rollups, row by row; rows that fall to zero stay (they sum to zero)."""
    cells: list[tuple] = [(*k, *values) for k, values in change.cells.items() if any(values)]
    lengths: list[tuple] = [(*k, n) for k, n in change.lengths.items() if n]
    rollup, length = Rollup._meta.db_table, Length._meta.db_table
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        if cells:
            cursor.executemany(
                f"""
                INSERT INTO {rollup}
                    (indicator, period, geography, source, code, sex, age, count, persons, key_sum)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                ON CONFLICT (indicator, period, geography, source, code, sex, age) DO UPDATE
                SET count = {rollup}.count + excluded.count,
                    persons = {rollup}.persons + excluded.persons,
                    key_sum = {rollup}.key_sum + excluded.key_sum
                """,
                cells,
            )
        if lengths:
            cursor.executemany(
                f"""
                INSERT INTO {length} (period, geography, source, code, sex, age, days, count)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
                ON CONFLICT (period, geography, source, code, sex, age, days) DO UPDATE
                SET count = {length}.count + excluded.count
                """,
                lengths,
            )


def _refresh(persons: list[int], before_where: str, before_params: list, as_of: dt.date) -> None:
    county_of, af_id = _county_of(), af_organisation_id()
    change = Contribution()
    for chunk in _chunks(persons):
        before = _records_without(chunk, before_where, before_params)
        _dates(before[0], intervention=True)
        _dates(before[1], intervention=False)
        after = _current_records(chunk)
        for person, facts in _facts(chunk, as_of, county_of, af_id).items():
            was = (before[0].get(person, []), before[1].get(person, []))
            now = (after[0].get(person, []), after[1].get(person, []))
            if Counter(was[0]) == Counter(now[0]) and Counter(was[1]) == Counter(now[1]):
                continue  # only transactions that changed nothing
            _difference(change, facts, facts, was, now)
    _store(change)


def _touched(delivery_id: int) -> list[int]:
    persons = Transaction.objects.filter(delivery_id=delivery_id).values_list(
        "person_id", flat=True
    )
    return sorted(set(persons))


def _state() -> RollupState | None:
    return RollupState.objects.select_for_update().first()


# --- coverage -----------------------------------------------------------------------


def _cover(kommunkoder: Iterable[str] | None = None) -> None:
    """Note, per municipality, the latest delivery holding its own counting records."""
    records = Transaction.objects.counting()
    af_id = af_organisation_id()
    if af_id is not None:
        records = records.exclude(organisation_id=af_id)
    if kommunkoder is not None:
        kommunkoder = set(kommunkoder)
        records = records.filter(kommunkod__in=kommunkoder)
        Coverage.objects.filter(kommunkod__in=kommunkoder).delete()
    else:
        Coverage.objects.all().delete()
    latest = records.values("kommunkod").annotate(last=Max("delivery__received_at"))
    Coverage.objects.bulk_create(
        Coverage(kommunkod=row["kommunkod"], last_received=row["last"]) for row in latest
    )


def covered(kommunkod: str, period: Period) -> bool:
    """``engine.covered``, from the coverage the rollups keep."""
    since = dt.datetime.combine(period.first, dt.time(), tzinfo=timezone.get_current_timezone())
    return Coverage.objects.filter(kommunkod=kommunkod, last_received__gte=since).exists()


# --- the ways in --------------------------------------------------------------------


def delivery_applied(delivery_id: int) -> None:
    """Bring the rollups up to date after delivery ``delivery_id`` was applied.

    Call it inside the transaction that applied it, right after
    ``apply_delivery``, so that the figures are current when the delivery is.
    """
    require_atomic("rollups.delivery_applied()")
    state = _state()
    if state is None:
        return
    before = "t.withdrawn = 0 AND t.delivery_id <> %s"
    _refresh(_touched(delivery_id), before, [delivery_id], state.as_of)
    received = Transaction.objects.filter(delivery_id=delivery_id)
    af_id = af_organisation_id()
    if af_id is not None:
        received = received.exclude(organisation_id=af_id)
    received_at = Delivery.objects.values_list("received_at", flat=True).get(pk=delivery_id)
    for kommunkod in set(received.values_list("kommunkod", flat=True).distinct()):
        # Coverage only grows as deliveries are applied: no need to scan the ledger.
        coverage, made = Coverage.objects.get_or_create(
            kommunkod=kommunkod, defaults={"last_received": received_at}
        )
        if not made and coverage.last_received < received_at:
            coverage.last_received = received_at
            coverage.save(update_fields=["last_received"])


def delivery_withdrawn(delivery_id: int) -> None:
    """Bring the rollups up to date after delivery ``delivery_id`` was withdrawn."""
    require_atomic("rollups.delivery_withdrawn()")
    state = _state()
    if state is None:
        return
    before = "(t.withdrawn = 0 OR t.withdrawn = %s)"
    _refresh(_touched(delivery_id), before, [delivery_id], state.as_of)
    kommunkoder = Transaction.objects.filter(delivery_id=delivery_id).values_list(
        "kommunkod", flat=True
    )
    _cover(set(kommunkoder.distinct()))


@contextmanager
def persons_changing(persons: list[int]) -> Iterator[None]:
    """Keep the rollups exact across any change to ``persons``, made inside the ``with`` block.

    For a change a delivery's transactions do not describe: persons merged into
    one when a changed personnummer is linked (``inuk.ledger.merge``), their
    birth year or sex changed with it. Their whole contribution is taken away
    as it stands before, and that of those of them still there added as it
    stands after. Call it inside ``transaction.atomic()``, holding the
    ledger's lock, as ``delivery_applied`` is called.
    """
    require_atomic("rollups.persons_changing()")
    state = _state()
    if state is None:
        yield
        return
    county_of, af_id = _county_of(), af_organisation_id()

    def contributions() -> Contribution:
        total = Contribution()
        for chunk in _chunks(sorted(persons)):
            total.add(_contributions(chunk, _current_records(chunk), state.as_of, county_of, af_id))
        return total

    before = contributions()
    yield
    change = contributions()
    change.add(before, -1)
    _store(change)


def advance(today: dt.date) -> None:
    """Make the rollups exact for ``today``: open interventions now run up to it."""
    with transaction.atomic():
        state = _state()
        if state is None or state.as_of == today:
            return
        earlier, later = sorted((state.as_of, today))
        open_ = Intervention.objects.current().filter(end__isnull=True, start__lte=later)
        if (earlier.year, earlier.month) == (later.year, later.month):
            # Within a month only a start between the two days changes anything.
            open_ = open_.filter(start__gt=earlier)
        persons = sorted(set(open_.values_list("person_id", flat=True)))
        county_of, af_id = _county_of(), af_organisation_id()
        change = Contribution()
        for chunk in _chunks(persons):
            interventions, results = _current_records(chunk)
            facts_now = _facts(chunk, today, county_of, af_id)
            for person, facts in _facts(chunk, state.as_of, county_of, af_id).items():
                records = (interventions.get(person, []), results.get(person, []))
                _difference(change, facts_now[person], facts, records, records)
        _store(change)
        state.as_of = today
        state.save(update_fields=["as_of"])


def rebuild(today: dt.date | None = None) -> None:
    """Derive all the rollups from the current state, exact for ``today``."""
    today = today or timezone.localdate()
    with transaction.atomic():
        RollupState.objects.select_for_update().all().delete()
        Rollup.objects.all().delete()
        Length.objects.all().delete()
        county_of, af_id = _county_of(), af_organisation_id()
        persons = sorted(set(Intervention.objects.current().values_list("person_id", flat=True)))
        total = Contribution()
        for chunk in _chunks(persons):
            total.add(_contributions(chunk, _current_records(chunk), today, county_of, af_id))
        _store(total)
        _cover()
        RollupState.objects.create(as_of=today)


def ready(today: dt.date) -> bool:
    """Whether the rollups exist, advanced to ``today`` if they were not."""
    as_of = RollupState.objects.values_list("as_of", flat=True).first()
    if as_of is None:
        return False
    if as_of != today:
        advance(today)
    return True


def coverage_changing(kommunkoder: Iterable[str]) -> None:
    """Note coverage again for ``kommunkoder`` after records of theirs left the ledger.

    For removals no delivery describes (erasure, retention): their latest
    counting delivery may now be an earlier one, or none.
    """
    _cover(set(kommunkoder))
