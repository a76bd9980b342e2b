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

Only the periods in which the two states differ are worked out
(``dirty_periods``): a month's cells depend only on the records touching
that month, so a monthly delivery changes a few of a person's periods, not
the fifty they may have. Cells are numbers while contributions are worked out
(``Cube``), the 24 cells of each record found once per refresh, and become
rows once, for the sum of every person's change.

Open interventions (no end date) run up to today: the rollups are exact for
one day, ``RollupState.as_of``, and ``advance()`` moves them to another by
the same difference, for the persons whose contribution depends on the day.

``rebuild()`` derives all of it from the state (``inuk stats refresh``), set by set
in SQL (``inuk.stats.cube``).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter, _count_elements, defaultdict  # type: ignore[attr-defined]
from collections.abc import Iterable, Iterator, Set
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Max
from django.utils import timezone

from inuk.intake.models import Delivery
from inuk.ledger.bulk import require_atomic
from inuk.ledger.models import Intervention, Kind, Person, Result, Transaction
from inuk.ledger.sql import winners
from inuk.organisations.models import Municipality
from inuk.stats import cube
from inuk.stats.counting import TOTAL, af_organisation_id, length_days, source_of
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

#: Persons per round trip: on SQLite well under its limit on query parameters; PostgreSQL
#: takes them as one array.
CHUNK = {"sqlite": 500, "postgresql": 5_000}

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


# Periods are numbered: a month ``year * 12 + month - 1``, its quarter and its year
# above it, so that a period is an int while a person's contribution is worked out.
_QUARTERS = 1_000_000
_YEARS = 2_000_000


def _month(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


@cache
def _label(period: int) -> str:
    """A numbered period's label: 2026-10, 2026-Q4 or 2026."""
    if period >= _YEARS:
        return f"{period - _YEARS:04d}"
    if period >= _QUARTERS:
        year, quarter = divmod(period - _QUARTERS, 4)
        return f"{year:04d}-Q{quarter + 1}"
    year, month = divmod(period, 12)
    return f"{year:04d}-{month + 1:02d}"


@cache
def _periods_of(month: int) -> tuple[int, int, int]:
    """The month ``month``, its quarter and its year, numbered."""
    year = month // 12
    return (month, _QUARTERS + year * 4 + month % 12 // 3, _YEARS + year)


@cache
def _periods_from(first: int, last: int) -> frozenset[int]:
    """Every period (month, quarter, year) with a day in the months ``first`` to ``last``."""
    return frozenset(period for month in range(first, last + 1) for period in _periods_of(month))


def _periods_between(first: dt.date, last: dt.date) -> frozenset[int]:
    return _periods_from(_month(first), _month(last))


@dataclass(frozen=True)
class Facts:
    """What the rollups need to know of a person and the world."""

    record_key: int
    birth_year: int
    sex: str
    af_id: int | None
    county_of: dict[str, str]
    today: dt.date


Intervention_ = tuple[str, int, str, dt.date, "dt.date | None"]
Result_ = tuple[str, dt.date]


@dataclass
class Cells:
    """One person's contribution, in the numbers of a ``Cube``.

    ``present`` has, per indicator and period (a cell's number shifted right
    by ``_PERIOD``: its *head*), the spreads whose cells count this person.
    Spreads of different heads have no cell in common, so a head whose
    spreads are the same in two states is the same there, cell for cell.

    ``started_ended`` has, for each of their interventions started or ended
    in a period, the number of the record's spread (``Cube.spread_number``)
    in the indicator S or E: those indicators count interventions, and the
    count of a cell is how many of these spread to it. ``lengths`` has (E
    spread number, days) pairs.
    """

    present: defaultdict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    started_ended: list[int] = field(default_factory=list)
    lengths: list[tuple[int, int]] = field(default_factory=list)


class Change:
    """What to add to the rollups, in the numbers of a ``Cube`` whose spreads are ``spreads``.

    A person who counts through one spread alone in an indicator and period
    (most do) counts in exactly its cells, so they are added to the spread,
    once, and the spread's sum is spread over its cells once, in ``cells``.
    A person with several spreads there counts once in each cell of their
    union, which is worked out cell by cell.
    """

    def __init__(self, spreads: list[tuple[int, ...]]) -> None:
        self._spreads = spreads
        self.persons: Counter[int] = Counter()  # per cell, persons added
        self.persons_gone: Counter[int] = Counter()  # and taken away
        self.keys: dict[int, int] = {}  # per cell, the sum of their record keys
        self.alone: Counter[int] = Counter()  # per spread, persons added through it alone
        self.alone_keys: dict[int, int] = {}  # and the sum of their record keys
        self.spreads: Counter[int] = Counter()  # per S or E spread, interventions added
        self.spreads_gone: Counter[int] = Counter()  # and taken away
        self.lengths: Counter[tuple[int, int]] = Counter()  # per (E spread, days)

    def _keys(self, cells: Iterable[int], key: int) -> None:
        keys = self.keys
        get = keys.get
        for cell in cells:
            keys[cell] = get(cell, 0) + key

    def _union(self, numbers: Set[int]) -> set[int]:
        """The cells of the spreads ``numbers``, each once."""
        spreads = self._spreads
        cells: set[int] = set()
        for number in numbers:
            cells.update(spreads[number])
        return cells

    def _count(self, numbers: Set[int], key: int, sign: int) -> None:
        """Add (``sign`` -1: take away) the person of record key ``key`` to the union of
        the spreads ``numbers`` of one head."""
        if len(numbers) == 1:
            for number in numbers:
                self.alone[number] += sign
                self.alone_keys[number] = self.alone_keys.get(number, 0) + sign * key
            return
        cells = self._union(numbers)
        _count_elements(self.persons if sign > 0 else self.persons_gone, cells)
        self._keys(cells, sign * key)

    def cells(self) -> tuple[Counter[int], Counter[int], dict[int, int]]:
        """Per cell: persons added, persons taken away and the sum of their record keys."""
        persons, gone, keys = Counter(self.persons), Counter(self.persons_gone), dict(self.keys)
        spreads, get = self._spreads, keys.get
        for number, n in self.alone.items():
            key_sum = self.alone_keys[number]
            if not n and not key_sum:
                continue
            into = persons if n > 0 else gone
            for cell in spreads[number]:
                into[cell] += abs(n)
                keys[cell] = get(cell, 0) + key_sum
        return persons, gone, keys

    def add(self, made: Cells, key: int, sign: int = 1) -> None:
        """Add (``sign`` -1: take away) a person's whole contribution, ``key`` their record key."""
        for numbers in made.present.values():
            self._count(numbers, key, sign)
        _count_elements(self.spreads if sign > 0 else self.spreads_gone, made.started_ended)
        for length in made.lengths:
            self.lengths[length] += sign

    def difference(self, old: Cells, new: Cells, key: int) -> None:
        """Add a person's contribution ``new`` less their contribution ``old`` (same record key).

        Only the heads whose spreads differ are worked out: a delivery usually
        changes a small part of what a person contributes.
        """
        was_present, count = old.present, self._count
        for head, numbers in new.present.items():
            was = was_present.get(head)
            if was == numbers:
                continue
            if not was:
                count(numbers, key, 1)
            elif len(was) == 1 and len(numbers) == 1:
                count(was, key, -1)
                count(numbers, key, 1)
            else:
                before, after = self._union(was), self._union(numbers)
                added, gone = after - before, before - after
                _count_elements(self.persons, added)
                _count_elements(self.persons_gone, gone)
                self._keys(added, key)
                self._keys(gone, -key)
        for head, was in was_present.items():
            if not new.present.get(head):
                count(was, key, -1)
        if new.started_ended != old.started_ended:
            _count_elements(self.spreads, new.started_ended)
            _count_elements(self.spreads_gone, old.started_ended)
        if new.lengths != old.lengths:
            lengths = self.lengths
            for length in new.lengths:
                lengths[length] += 1
            for length in old.lengths:
                lengths[length] -= 1


# A cell's number packs its parts: [letter][period][geography][source][code][sex][age].
_AGE, _SEX, _CODE, _SOURCE, _GEOGRAPHY, _PERIOD, _LETTER = 0, 4, 8, 18, 20, 32, 53
#: Each part's width in bits, by its first bit.
_WIDTH = {_AGE: 4, _SEX: 4, _CODE: 10, _SOURCE: 2, _GEOGRAPHY: 12, _PERIOD: 21}
_TAIL = (1 << _PERIOD) - 1
_LETTERS = "PSEBRC"
#: Each letter's part of a head (a cell's number shifted right by ``_PERIOD``).
_HEAD = {letter: i << (_LETTER - _PERIOD) for i, letter in enumerate(_LETTERS)}
_SOURCES = ("municipal", "af", TOTAL)


class Cube:
    """The rollups' cells as numbers, and what a record spreads to.

    A record of a person counts in a cell of every geography level above its
    municipality, and of the total of each category as well as its own: 24
    cells for one (indicator, period, kommunkod, source, code, sex, age), its
    *spread*. A spread is worked out once and numbered, and a cell is a
    number packing its parts, so that a person's cells are sets of ints;
    ``key`` gives a number's cell back.
    """

    def __init__(self, county_of: dict[str, str], af_id: int | None) -> None:
        self.county_of = county_of
        self.af_id = af_id
        # Geographies, codes, sexes and ages, numbered each by the first bit of their part.
        self._words: dict[int, dict[str, int]] = {_GEOGRAPHY: {}, _CODE: {}, _SEX: {}, _AGE: {}}
        self._word_lists: dict[int, list[str]] = {part: [] for part in self._words}
        self._spread_numbers: dict[tuple, int] = {}
        self.spreads: list[tuple[int, ...]] = []
        #: Per spread number, its cells of the record's own categories: one per geography.
        self.finest: list[tuple[int, ...]] = []
        self._heads: dict[int, tuple[str, str]] = {}
        self._tails: dict[int, tuple[str, str, str, str, str]] = {}

    def _word(self, word: str, part: int) -> int:
        """``word``'s number in ``part`` (_GEOGRAPHY, _CODE, _SEX or _AGE), shifted there."""
        words = self._words[part]
        number = words.get(word)
        if number is None:
            number = words[word] = len(words)
            if number >> (_WIDTH[part]):
                raise ValueError(f"too many different values for the rollups' cells: {word}")
            self._word_lists[part].append(word)
        return number << part

    def key(self, cell: int) -> CellKey:
        """The cell numbered ``cell``."""
        return self._head(cell >> _PERIOD) + self._tail(cell & _TAIL)

    def _head(self, head: int) -> tuple[str, str]:
        """(indicator, period) of the upper bits of a cell's number."""
        found = self._heads.get(head)
        if found is None:
            period = head & ((1 << _WIDTH[_PERIOD]) - 1)
            found = self._heads[head] = (_LETTERS[head >> (_LETTER - _PERIOD)], _label(period))
        return found

    def _tail(self, tail: int) -> tuple[str, str, str, str, str]:
        """(geography, source, code, sex, age) of the lower bits of a cell's number."""
        found = self._tails.get(tail)
        if found is None:

            def part(shift: int) -> int:
                return (tail >> shift) & ((1 << _WIDTH[shift]) - 1)

            words = self._word_lists
            found = self._tails[tail] = (
                words[_GEOGRAPHY][part(_GEOGRAPHY)],
                _SOURCES[part(_SOURCE)],
                words[_CODE][part(_CODE)],
                words[_SEX][part(_SEX)],
                words[_AGE][part(_AGE)],
            )
        return found

    def spread_number(
        self, letter: str, period: int, kommunkod: str, source: str, code: str, sex: str, age: str
    ) -> int:
        """The number of the spread of one record: ``self.spreads`` has its cells, each once."""
        base = (letter, period, kommunkod, source, code, sex, age)
        number = self._spread_numbers.get(base)
        if number is None:
            word = self._word
            fixed = (_LETTERS.index(letter) << _LETTER) | (period << _PERIOD) | word(sex, _SEX)
            geographies = [
                word(g, _GEOGRAPHY)
                for g in (kommunkod, self.county_of.get(kommunkod, ""), COUNTRY_CODE)
            ]
            sources = {_SOURCES.index(s) << _SOURCE for s in (source, TOTAL)}
            codes = {word(c, _CODE) for c in (code, TOTAL)}
            ages = {word(a, _AGE) for a in (age, TOTAL)}
            cells = {
                fixed | g | s | c | a
                for g in geographies
                for s in sources
                for c in codes
                for a in ages
            }
            own = (_SOURCES.index(source) << _SOURCE) | word(code, _CODE) | word(age, _AGE)
            number = self._spread_numbers[base] = len(self.spreads)
            self.spreads.append(tuple(sorted(cells)))
            self.finest.append(tuple(fixed | g | own for g in geographies))
        return number

    def collaboration(self, period: int, geography: str, code: str, sex: str, age: str) -> int:
        """The number of a spread of collaboration: of one geography, source always the total."""
        base = ("C", period, geography, code, sex, age)
        number = self._spread_numbers.get(base)
        if number is None:
            word = self._word
            fixed = (_LETTERS.index("C") << _LETTER) | (period << _PERIOD)
            fixed |= word(geography, _GEOGRAPHY) | (_SOURCES.index(TOTAL) << _SOURCE)
            fixed |= word(sex, _SEX)
            cells = {
                fixed | word(c, _CODE) | word(a, _AGE) for c in (code, TOTAL) for a in (age, TOTAL)
            }
            number = self._spread_numbers[base] = len(self.spreads)
            self.spreads.append(tuple(sorted(cells)))
            self.finest.append(())
        return number

    def cells(
        self,
        facts: Facts,
        interventions: Iterable[Intervention_],
        results: Iterable[Result_],
        periods: Set[int] | None = None,
    ) -> Cells:
        """One person's contribution, from their current interventions and results.

        ``interventions`` are (kommunkod, organisation id, code, start, end),
        ``results`` (code, start). With ``periods`` (numbered), only the cells
        of those periods. This says again what ``engine`` computes, cell by
        cell instead of question by question; the tests hold the two equal.
        """
        sex, today, birth_year, af_id = facts.sex, facts.today, facts.birth_year, self.af_id
        numbered = self.spread_number
        # A spread asked before is found here, without a call: most are, many times over.
        known = self._spread_numbers.get
        p_head, s_head, e_head, c_head = _HEAD["P"], _HEAD["S"], _HEAD["E"], _HEAD["C"]
        made = Cells()
        present, started_ended, lengths = made.present, made.started_ended, made.lengths
        ongoing: dict[int, list[tuple[str, str, str, str]]] = defaultdict(list)
        results = list(results)
        for kommunkod, organisation, code, start, end in interventions:
            source = source_of(organisation, af_id)
            age = age_group(start.year, birth_year)
            last = end if end is not None else today
            first_month = _month(start)
            if start <= last:
                during = _periods_from(first_month, _month(last))
                if periods is not None:
                    during = during & periods
                for period in during:
                    base = ("P", period, kommunkod, source, code, sex, age)
                    number = known(base)
                    if number is None:
                        number = numbered(*base)
                    present[p_head | period].add(number)
                    ongoing[period].append((kommunkod, source, code, age))
            for period in _periods_of(first_month):
                if periods is None or period in periods:
                    base = ("S", period, kommunkod, source, code, sex, age)
                    number = known(base)
                    if number is None:
                        number = numbered(*base)
                    started_ended.append(number)
                    present[s_head | period].add(number)
            if end is None:
                continue
            days = length_days(start, end)
            window_end = end + dt.timedelta(days=RESULT_WINDOW_DAYS)
            found = {c for c, day in results if start <= day <= window_end}
            if found:
                found.add(TOTAL)
            for period in _periods_of(_month(end)):
                if periods is not None and period not in periods:
                    continue
                base = ("E", period, kommunkod, source, code, sex, age)
                number = known(base)
                if number is None:
                    number = numbered(*base)
                started_ended.append(number)
                lengths.append((number, days))
                present[e_head | period].add(number)
                for letter, of_code in ((RESULTS_BASE, TOTAL), *(("R", c) for c in found)):
                    base = (letter, period, kommunkod, source, of_code, sex, age)
                    number = known(base)
                    if number is None:
                        number = numbered(*base)
                    present[_HEAD[letter] | period].add(number)

        for period, units in ongoing.items():
            if len({source for _, source, _, _ in units}) < 2:
                continue  # one source in all of the period: no collaboration anywhere
            by_geography: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
            for kommunkod, source, code, age in units:
                for geography in (kommunkod, self.county_of.get(kommunkod, ""), COUNTRY_CODE):
                    by_geography[geography].append((source, code, age))
            for geography, here in by_geography.items():
                if len({source for source, _, _ in here}) < 2:
                    continue
                for _, code, age in here:
                    number = self.collaboration(period, geography, code, sex, age)
                    present[c_head | period].add(number)
        return made

    def rows(self, change: Change) -> tuple[list[tuple], list[tuple]]:
        """``change`` as rows to add: (cell..., count, persons, key sum), (cell..., days, count)."""
        spreads, head, tail = self.spreads, self._head, self._tail
        counts: Counter[int] = Counter()
        for number, n in (change.spreads - change.spreads_gone).items():
            for cell in spreads[number]:
                counts[cell] += n
        for number, n in (change.spreads_gone - change.spreads).items():
            for cell in spreads[number]:
                counts[cell] -= n
        persons, gone, keys = change.cells()
        started_ended = {_LETTERS.index("S"), _LETTERS.index("E")}
        cells = []
        for cell, key_sum in keys.items():
            n = persons.get(cell, 0) - gone.get(cell, 0)
            count = counts.pop(cell, 0) if cell >> _LETTER in started_ended else n
            if count or n or key_sum:
                cells.append((*head(cell >> _PERIOD), *tail(cell & _TAIL), count, n, key_sum))
        for cell, n in counts.items():
            if n:
                cells.append((*head(cell >> _PERIOD), *tail(cell & _TAIL), n, 0, 0))
        # Lengths are of interventions, which do add up: they are kept per geography
        # for the record's own categories only, and summed for a total when asked.
        finest = self.finest
        by_cell: Counter[tuple[int, int]] = Counter()
        for (number, days), n in change.lengths.items():
            if n:
                for cell in finest[number]:
                    by_cell[cell, days] += n
        lengths = [
            (head(cell >> _PERIOD)[1], *tail(cell & _TAIL), days, n)
            for (cell, days), n in by_cell.items()
            if n
        ]
        return cells, lengths

    def contribution(self, change: Change) -> Contribution:
        """``change`` with its cells' keys."""
        cells, lengths = self.rows(change)
        out = Contribution()
        for *cell, count, persons, key_sum in cells:
            out.cells[tuple(cell)] = [count, persons, key_sum]
        for *length, n in lengths:
            out.lengths[tuple(length)] += n
        return out


#: A cube learns the spreads it is asked for, and a worker asks for much the same ones
#: delivery after delivery: each thread keeps its cube while the counties and AF are the
#: same, up to this many spreads (some 1.2 kB each).
MAX_SPREADS = 100_000
_cubes = threading.local()


def _cube_for(county_of: dict[str, str], af_id: int | None) -> Cube:
    cube = getattr(_cubes, "cube", None)
    if (
        cube is None
        or cube.af_id != af_id
        or len(cube.spreads) > MAX_SPREADS
        or cube.county_of != county_of
    ):
        cube = _cubes.cube = Cube(county_of, af_id)
    return cube


def contribution(
    facts: Facts, interventions: Iterable[Intervention_], results: Iterable[Result_]
) -> Contribution:
    """One person's contribution, from their current interventions and results.

    ``interventions`` are (kommunkod, organisation id, code, start, end),
    ``results`` (code, start); see ``Cube.cells``.
    """
    cube = _cube_for(facts.county_of, facts.af_id)
    change = Change(cube.spreads)
    change.add(cube.cells(facts, interventions, results), facts.record_key)
    return cube.contribution(change)


def dirty_periods(
    before: tuple[list, list], after: tuple[list, list], as_of: dt.date
) -> frozenset[int]:
    """The periods (numbered) in which a person's contribution may differ between two states.

    A period's cells depend only on the records touching it: participants and
    collaboration on the interventions ongoing in it (an open one up to
    ``as_of``), started on those starting in it, ended and the results' base
    on those ending in it, results on those ending in it and the results in
    their windows. So an intervention in one state and not the other makes the
    periods from its start to its end (or ``as_of``) dirty, and a result so
    the periods in which the interventions of either state whose window holds
    it ended.
    """
    interventions = set(before[0]) ^ set(after[0])
    results = set(before[1]) ^ set(after[1])
    dirty: set[int] = set()
    for _, _, _, start, end in interventions:
        last = end if end is not None else as_of
        if start <= last:
            dirty |= _periods_between(start, last)
        dirty.update(_periods_of(_month(start)))
        if end is not None:
            dirty.update(_periods_of(_month(end)))
    if results:
        days = [day for _, day in results]
        for _, _, _, start, end in (*before[0], *after[0]):
            if end is None:
                continue
            window_end = end + dt.timedelta(days=RESULT_WINDOW_DAYS)
            if any(start <= day <= window_end for day in days):
                dirty.update(_periods_of(_month(end)))
    return frozenset(dirty)


# --- from the database --------------------------------------------------------------


def _county_of() -> dict[str, str]:
    return dict(Municipality.objects.values_list("code", "county_code"))


def _chunks(items: list[int]) -> Iterator[list[int]]:
    size = CHUNK.get(connections[DEFAULT_DB_ALIAS].vendor, 500)
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _one_of(column: str, persons: list[int]) -> tuple[str, list]:
    """A condition that ``column`` is one of ``persons``, and its parameters."""
    if connections[DEFAULT_DB_ALIAS].vendor == "postgresql":
        return f"{column} = ANY(%s)", [persons]
    return f"{column} IN ({', '.join(['%s'] * len(persons))})", list(persons)


def _current_records(persons: list[int]):
    """The current interventions and results of ``persons``."""
    interventions: dict[int, list] = defaultdict(list)
    results: dict[int, list] = defaultdict(list)
    pick, params = _one_of("person_id", persons)
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(
            'SELECT person_id, kommunkod, organisation_id, code, start, "end" '
            f"FROM {Intervention._meta.db_table} WHERE NOT removed AND {pick}",
            params,
        )
        for row in cursor.fetchall():
            interventions[row[0]].append(tuple(row[1:]))
        cursor.execute(
            f"SELECT person_id, code, start FROM {Result._meta.db_table}"
            f" WHERE NOT removed AND {pick}",
            params,
        )
        for person, code, start in cursor.fetchall():
            results[person].append((code, start))
    return _dated(interventions, results)


def _records_without(persons: list[int], where: str, params: list):
    """The state of ``persons`` derived again from the ledger rows ``t`` that ``where`` picks."""
    interventions: dict[int, list] = defaultdict(list)
    results: dict[int, list] = defaultdict(list)
    connection = connections[DEFAULT_DB_ALIAS]
    one_of, persons_ = _one_of("t.person_id", persons)
    pick = f"{one_of} AND {where}"
    distinct_on = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute(
            'SELECT person_id, kommunkod, organisation_id, code, start, "end" '
            f"FROM ({winners(Kind.INTERVENTION, pick, distinct_on=distinct_on)}) w"
            " WHERE NOT removed",
            [*persons_, *params],
        )
        for row in cursor.fetchall():
            interventions[row[0]].append(tuple(row[1:]))
        cursor.execute(
            "SELECT person_id, code, start "
            f"FROM ({winners(Kind.RESULT, pick, distinct_on=distinct_on)}) w WHERE NOT removed",
            [*persons_, *params],
        )
        for person, code, start in cursor.fetchall():
            results[person].append((code, start))
    return _dated(interventions, results)


def _dated(interventions: dict[int, list], results: dict[int, list]):
    """The records with their dates as dates: SQLite hands raw SQL dates back as text."""
    if connections[DEFAULT_DB_ALIAS].vendor == "postgresql":
        return interventions, results
    for records in interventions.values():
        for i, (kommunkod, organisation, code, start, end) in enumerate(records):
            end = _date(end) if end is not None else None
            records[i] = (kommunkod, organisation, code, _date(start), end)
    for records in results.values():
        for i, (code, start) in enumerate(records):
            records[i] = (code, _date(start))
    return interventions, results


def _date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _facts(persons: list[int], today: dt.date, county_of, af_id) -> dict[int, Facts]:
    pick, params = _one_of("id", persons)
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(
            f"SELECT id, record_key, birth_year, sex FROM {Person._meta.db_table} WHERE {pick}",
            params,
        )
        rows = cursor.fetchall()
    return {
        person: Facts(record_key, birth_year, sex, af_id, county_of, today)
        for person, record_key, birth_year, sex in rows
    }


def _contributions(persons: list[int], records, today: dt.date, county_of, af_id) -> Contribution:
    interventions, results = records
    cube = _cube_for(county_of, af_id)
    change = Change(cube.spreads)
    for person, facts in _facts(persons, today, county_of, af_id).items():
        if person not in interventions:
            continue  # no interventions, no contribution: results count only after one
        made = cube.cells(facts, interventions[person], results.get(person, ()))
        change.add(made, facts.record_key)
    return cube.contribution(change)


def _store_change(cube: Cube, change: Change) -> None:
    _store_rows(*cube.rows(change))


_CELL_COLUMNS = "indicator, period, geography, source, code, sex, age"
_LENGTH_COLUMNS = "period, geography, source, code, sex, age, days"


def _upsert(table: str, identity: str, values: tuple[str, ...], source: str) -> str:
    adds = ", ".join(f"{v} = {table}.{v} + excluded.{v}" for v in values)
    return f"""
        INSERT INTO {table} ({identity}, {", ".join(values)}) {source}
        ON CONFLICT ({identity}) DO UPDATE SET {adds}
    """


def _store_rows(cells: list[tuple], lengths: list[tuple]) -> None:
    """Add rows of (cell..., count, persons, key sum) and of (length cell..., days, count).

    PostgreSQL takes them by COPY into a temporary table and adds them with
    one statement; SQLite's upsert row by row is as cheap as an insert.
    """
    rollup, length = Rollup._meta.db_table, Length._meta.db_table
    sums = ("count", "persons", "key_sum")
    connection = connections[DEFAULT_DB_ALIAS]
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            if cells:
                one = f"VALUES ({', '.join(['%s'] * 10)})"
                cursor.executemany(_upsert(rollup, _CELL_COLUMNS, sums, one), cells)
            if lengths:
                one = f"VALUES ({', '.join(['%s'] * 8)})"
                cursor.executemany(_upsert(length, _LENGTH_COLUMNS, ("count",), one), lengths)
            return
        for table, identity, values, rows, types in (
            (rollup, _CELL_COLUMNS, sums, cells, ["text"] * 7 + ["int8"] * 3),
            (length, _LENGTH_COLUMNS, ("count",), lengths, ["text"] * 6 + ["int4", "int8"]),
        ):
            if not rows:
                continue
            staged = f"{table}_change"
            columns = f"{identity}, {', '.join(values)}"
            cursor.execute(
                f"CREATE TEMPORARY TABLE {staged} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP"
            )
            with cursor.copy(f"COPY {staged} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(types)
                for row in rows:
                    copy.write_row(row)
            # No other writer: every one holds the lock on RollupState (``_state``).
            picked = f"SELECT {columns} FROM {staged}"
            cursor.execute(_upsert(table, identity, values, picked))
            cursor.execute(f"DROP TABLE {staged}")


def _refresh(persons: list[int], before_where: str, before_params: list, as_of: dt.date) -> None:
    """Add, for each of ``persons``, their contribution now less their contribution in the
    state derived from the ledger rows ``t`` that ``before_where`` picks, in the periods
    where the two states differ (``dirty_periods``)."""
    cube = _cube_for(_county_of(), af_organisation_id())
    change = Change(cube.spreads)
    for chunk in _chunks(persons):
        before = _records_without(chunk, before_where, before_params)
        after = _current_records(chunk)
        for person, facts in _facts(chunk, as_of, cube.county_of, cube.af_id).items():
            was = (before[0].get(person, []), before[1].get(person, []))
            now = (after[0].get(person, []), after[1].get(person, []))
            periods = dirty_periods(was, now, as_of)
            if not periods:
                continue  # only transactions that changed nothing
            change.difference(
                cube.cells(facts, *was, periods), cube.cells(facts, *now, periods), facts.record_key
            )
    _store_change(cube, change)


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
    # Coverage only grows as deliveries are applied: no need to scan the ledger.
    kommunkoder = set(received.values_list("kommunkod", flat=True).distinct())
    known = Coverage.objects.filter(kommunkod__in=kommunkoder)
    known.filter(last_received__lt=received_at).update(last_received=received_at)
    Coverage.objects.bulk_create(
        Coverage(kommunkod=kommunkod, last_received=received_at)
        for kommunkod in kommunkoder - set(known.values_list("kommunkod", flat=True))
    )


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
    cube = _cube_for(_county_of(), af_organisation_id())
    change = Change(cube.spreads)

    def add(sign: int) -> None:
        for chunk in _chunks(sorted(persons)):
            interventions, results = _current_records(chunk)
            for person, facts in _facts(chunk, state.as_of, cube.county_of, cube.af_id).items():
                if person in interventions:
                    made = cube.cells(facts, interventions[person], results.get(person, ()))
                    change.add(made, facts.record_key, sign)

    add(-1)
    yield
    add(1)
    _store_change(cube, change)


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
        # Open interventions run on (or back) through these months only.
        periods = _periods_from(_month(earlier), _month(later))
        cube = _cube_for(_county_of(), af_organisation_id())
        change = Change(cube.spreads)
        for chunk in _chunks(persons):
            interventions, results = _current_records(chunk)
            facts_now = _facts(chunk, today, cube.county_of, cube.af_id)
            for person, facts in _facts(chunk, state.as_of, cube.county_of, cube.af_id).items():
                records = (interventions.get(person, []), results.get(person, []))
                change.difference(
                    cube.cells(facts, *records, periods),
                    cube.cells(facts_now[person], *records, periods),
                    facts.record_key,
                )
        _store_change(cube, change)
        state.as_of = today
        state.save(update_fields=["as_of"])


def rebuild(today: dt.date | None = None) -> None:
    """Derive all the rollups from the current state, exact for ``today``."""
    today = today or timezone.localdate()
    with transaction.atomic():
        RollupState.objects.select_for_update().all().delete()
        Rollup.objects.all().delete()
        Length.objects.all().delete()
        cube.build(today)  # what the contributions of every person add up to, in SQL
        _cover()
        RollupState.objects.create(as_of=today)
        _analyze()


def _analyze() -> None:
    """Tell PostgreSQL's planner what the rollups hold now that they are new throughout.

    Until it knows, it plans answers on what the tables held before (nothing,
    after a migration), and sums a year of the country's length histograms by
    sorting them rather than in a hash table, three times slower, until
    autovacuum comes round to them.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql":
        return
    tables = ", ".join(model._meta.db_table for model in (Rollup, Length, Coverage))
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")


def ready(today: dt.date) -> bool:
    """Whether the rollups exist, advanced to ``today`` if they were not."""
    as_of = RollupState.objects.values_list("as_of", flat=True).first()
    if as_of is None:
        return False
    if as_of != today:
        advance(today)
    return True


def persons_redescribed(described: dict[int, tuple[int, str]]) -> None:
    """Keep the rollups exact after persons' birth year or sex changed, their records not.

    ``described`` holds each such person's birth year and sex before the
    change (``ledger.bulk.apply_delivery`` passes those a delivery changed,
    before it changes their records). Their whole contribution with the
    description before is taken away, and that with the one now added. Call it
    inside ``transaction.atomic()``, holding the ledger's lock.
    """
    require_atomic("rollups.persons_redescribed()")
    state = _state()
    if state is None or not described:
        return
    cube = _cube_for(_county_of(), af_organisation_id())
    change = Change(cube.spreads)
    for chunk in _chunks(sorted(described)):
        interventions, results = _current_records(chunk)
        for person, facts in _facts(chunk, state.as_of, cube.county_of, cube.af_id).items():
            if person not in interventions:
                continue  # no interventions, no contribution
            records = (interventions[person], results.get(person, []))
            birth_year, sex = described[person]
            was = Facts(facts.record_key, birth_year, sex, cube.af_id, cube.county_of, state.as_of)
            before, after = cube.cells(was, *records), cube.cells(facts, *records)
            change.difference(before, after, facts.record_key)
    _store_change(cube, change)


def coverage_changing(kommunkoder: Iterable[str]) -> None:
    """Note coverage again for ``kommunkoder`` after records of theirs left the ledger.

    For removals no delivery describes (erasure, retention): their latest
    counting delivery may now be an earlier one, or none.
    """
    _cover(set(kommunkoder))
