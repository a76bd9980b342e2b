"""A made-up population of young job seekers, and the monthly deliveries it gives rise to.

``inuk demo`` should look like the service a year or two into its life, so
that an analyst sees trends and comparisons at once. ``plan()`` draws the
last 24 complete months of a dozen municipalities of different sizes and
regions, and of Arbetsförmedlingen, and cuts them into the files that would
have arrived month by month::

    for delivery in plan(dt.date.today()).deliveries:
        receive(io.BytesIO(delivery.data()), ...)

What it draws, and where a test can see it:

- persons aged 16 to 29 at their first start (some older), about 55 % men,
  a few with samordningsnummer, in proportion to each municipality's size;
- interventions that start most often in August–September and
  January–February and seldom in summer, one after another, each as long as
  its kind usually lasts (KAR weeks, PRA and ATR months, UTB a term);
- a result for most persons within 90 days of their last intervention, its
  odds set by the local labour market and improving slowly over the months;
- AF interventions for about a third of the same persons, delivered by AF;
- end dates reported later by Ändring, a few mistaken registrations taken
  back by Borttag, a few transactions broken on purpose (rejected on the
  receipt), and now and then a full re-send, which the ledger knows already;
- one municipality, ``LATE``, that has not yet delivered its latest month.

Each file carries what changed since the previous one (its transactions'
Transaktionsdatum fall in its month; the first file also carries what came
before). Everything is drawn from ``random.Random`` with a fixed seed and
from ``today``'s month, so the same month gives the same files, byte for
byte. The personnummer are random valid numbers that may belong to real
people: keep them out of anything but test and demo databases.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from inuk.format import municipalities, writers
from inuk.format.records import INTERVENTION, RESULT
from inuk.format.synthetic import personnummer
from inuk.format.writers import Kommun, Person, Transaction

MONTHS = 24
#: Persons who started before the first month, and are still in it, come in its file.
LEAD_IN_MONTHS = 6
SEED = 2026
#: The municipality whose latest month is missing.
LATE = "2584"
AF_SYSTEM = "AF Insatssystem"
AF_FORMAT = "json"

K = TypeVar("K")


@dataclass(frozen=True, slots=True)
class Place:
    """A municipality in the demo: its size, its system, and its labour market.

    ``work`` scales the odds of a result in work; ``trend`` is the monthly
    change in the number of new persons; ``day`` is the day of the month its
    file usually arrives.
    """

    kommunkod: str
    persons: int
    system: str
    format: str
    work: float = 1.0
    trend: float = 0.0
    language: float = 1.0
    day: int = 5


PLACES: tuple[Place, ...] = (
    Place("0180", 1150, "SystemX", "xml", work=1.15, trend=0.010, language=1.3, day=4),
    Place("1480", 820, "Insatsregistret", "csv", work=1.05, trend=0.006, language=1.2, day=6),
    Place("1280", 680, "UngArbete", "xml", work=0.8, trend=0.012, language=1.6, day=8),
    Place("0380", 430, "Vägledningsstöd", "json", work=1.0, trend=0.004, day=5),
    Place("2480", 310, "KomAM", "xml", work=1.0, trend=0.0, day=3),
    Place("1490", 230, "Jobbtorget", "csv", work=0.9, trend=-0.004, language=1.2, day=10),
    Place("0780", 210, "SystemX", "xml", work=1.05, trend=0.002, day=7),
    Place("2281", 190, "Insatsregistret", "csv", work=0.85, trend=-0.006, day=9),
    Place("0980", 120, "Ungdomsguiden", "json", work=1.1, trend=0.0, language=0.6, day=12),
    Place(LATE, 100, "Arbetsmarknadsportalen", "xml", work=1.4, trend=-0.008, day=11),
    Place("2121", 75, "KomAM", "csv", work=1.0, trend=-0.010, language=0.7, day=6),
    Place("1438", 60, "Ungdomsguiden", "xml", work=0.95, trend=-0.005, language=0.6, day=8),
)

#: How often interventions start, by calendar month (January first): terms
#: begin in August and January, and little starts in the summer.
SEASON = (1.45, 1.35, 1.1, 1.0, 0.85, 0.55, 0.3, 1.35, 1.6, 1.2, 1.0, 0.65)

#: Age at the first start, and how often.
AGES = ((16, 19, 25), (20, 24, 42), (25, 29, 24), (30, 34, 9))
MEN = 0.55
COORDINATION_SHARE = 0.025
AF_SHARE = 0.33

FIRST_CODES = {"KAR": 34, "SYV": 20, "MOT": 14, "JSA": 10, "SPR": 8, "UTB": 8, "OVR": 6}
NEXT_CODES = {"PRA": 25, "ATR": 18, "UTB": 16, "JSA": 14, "SUB": 9, "SPR": 6, "MOT": 6, "OVR": 6}
AF_CODES = {"JSA": 30, "KAR": 15, "UTB": 20, "PRA": 20, "SUB": 15}
#: Shortest and longest length in days, by intervention code (UTB follows the terms).
LENGTHS = {
    "SYV": (7, 42),
    "KAR": (14, 56),
    "MOT": (30, 120),
    "JSA": (30, 120),
    "PRA": (60, 180),
    "ATR": (90, 240),
    "UTB": (100, 150),
    "SPR": (120, 300),
    "SUB": (180, 365),
    "OVR": (14, 120),
}
#: How many interventions a person has in a row, and how often.
PATH_LENGTHS = {1: 45, 2: 35, 3: 20}
#: Results and their weights; ``None`` is no result reported.
RESULTS = {"ARB": 30, "STU": 20, "AFI": 12, "AMS": 10, "AVB": 8, "OVR": 4, "FLY": 3, "EGF": 2}
NO_RESULT = 12

#: Shares of interventions whose end date is corrected later, and of mistaken
#: registrations taken back by Borttag (some registered anew with the right start).
LATE_CORRECTION_SHARE = 0.04
MISTAKE_SHARE = 0.03
#: Share of monthly files with a few transactions broken on purpose.
BROKEN_FILE_SHARE = 0.35
#: (kommunkod, month index) of files that re-send everything so far.
FULL_RESENDS = (("1490", 11), ("2480", 17), ("0380", 20))


@dataclass(frozen=True, slots=True)
class _Event:
    """One transaction as it happens: who, where, from whom, and when it is written."""

    at: dt.datetime
    orgnr: str
    kommunkod: str
    personnummer: str
    kind: str  # records.INTERVENTION or RESULT
    transaction: Transaction


@dataclass(slots=True)
class PlannedDelivery:
    """One file as it would have arrived, and what its receipt should say."""

    orgnr: str
    kommunkoder: tuple[str, ...]
    month: dt.date
    arrival: dt.datetime
    format: str
    full: bool
    kommuner: list[Kommun]
    persons: int
    transactions: int
    #: Transactions broken on purpose: the receipt rejects them.
    invalid: int
    #: Transactions delivered in an earlier file (a full re-send): already known.
    known: int

    @property
    def filename(self) -> str:
        sender = "af" if self.orgnr == municipalities.AF_ORGNR else self.kommunkoder[0]
        kind = "helleverans" if self.full else "leverans"
        return f"{kind}-{sender}-{self.month:%Y-%m}.{self.format}"

    def data(self) -> bytes:
        return writers.to_bytes(self.format, self.kommuner)


@dataclass(slots=True)
class Plan:
    """The demo's months and every file in the order it arrives."""

    today: dt.date
    months: list[dt.date]
    late: str
    deliveries: list[PlannedDelivery] = field(default_factory=list)

    @property
    def kommunkoder(self) -> tuple[str, ...]:
        return tuple(place.kommunkod for place in PLACES)

    def transactions(self) -> int:
        return sum(delivery.transactions for delivery in self.deliveries)


def months(today: dt.date) -> list[dt.date]:
    """The first days of the last ``MONTHS`` complete months before ``today``'s."""
    first = today.replace(day=1)
    return [_add_months(first, -MONTHS + i) for i in range(MONTHS)]


def plan(today: dt.date, *, scale: float = 1.0, seed: int = SEED) -> Plan:
    """Every file of the demo, in order of arrival; ``scale`` shrinks the population (tests)."""
    window = months(today)
    result = Plan(today=today.replace(day=1), months=window, late=LATE)
    numbers: set[tuple[dt.date, int]] = set()
    events: dict[str, list[_Event]] = defaultdict(list)  # by delivering kommunkod, or AF
    for place in PLACES:
        rng = random.Random(f"{seed}/{place.kommunkod}")
        _Drawer(rng, place, window, numbers).draw(
            max(3, round(place.persons * scale)), events[place.kommunkod], events["af"]
        )
    for index, month in enumerate(window):
        cut = dt.datetime.combine(_add_months(month, 1), dt.time())
        for place in PLACES:
            if place.kommunkod == LATE and index == MONTHS - 1:
                continue
            rng = random.Random(f"{seed}/{place.kommunkod}/{month:%Y-%m}")
            arrival = _arrival(rng, cut, place.day)
            full = (place.kommunkod, index) in FULL_RESENDS
            planned = _file(
                rng,
                events[place.kommunkod],
                month,
                index,
                cut,
                full=full,
                orgnr=_orgnr(place.kommunkod),
                kommunkoder=(place.kommunkod,),
                arrival=arrival,
                format=place.format,
                system=place.system,
            )
            result.deliveries.append(planned)
        rng = random.Random(f"{seed}/af/{month:%Y-%m}")
        result.deliveries.append(
            _file(
                rng,
                events["af"],
                month,
                index,
                cut,
                full=False,
                orgnr=municipalities.AF_ORGNR,
                kommunkoder=result.kommunkoder,
                arrival=_arrival(rng, cut, 5),
                format=AF_FORMAT,
                system=AF_SYSTEM,
            )
        )
    result.deliveries.sort(key=lambda d: d.arrival)
    return result


class _Drawer:
    """Draws the persons of one municipality and every transaction about them."""

    def __init__(
        self,
        rng: random.Random,
        place: Place,
        window: Sequence[dt.date],
        numbers: set[tuple[dt.date, int]],
    ) -> None:
        self.rng = rng
        self.place = place
        self.orgnr = _orgnr(place.kommunkod)
        self.first = _add_months(window[0], -LEAD_IN_MONTHS)
        self.horizon = _add_months(window[-1], 1)
        self.numbers = numbers
        self.months = [_add_months(self.first, i) for i in range(LEAD_IN_MONTHS + len(window))]

    def draw(self, persons: int, own: list[_Event], af: list[_Event]) -> None:
        for index, month in enumerate(self._starts(persons)):
            self._person(month, index, own, af)

    def _starts(self, persons: int) -> list[dt.date]:
        """The month of each person's first start: by season and the local trend.

        Months before the window count less: of those who started then, only
        some are still in an intervention when deliveries begin. Every month
        of the window has someone new, so that every monthly file has news: a
        file the same as the one before would be taken for it (the same bytes).
        """
        weights = []
        for index, month in enumerate(self.months):
            weight = SEASON[month.month - 1] * (1 + self.place.trend) ** index
            weights.append(weight * (0.5 if index < LEAD_IN_MONTHS else 1.0))
        floor = [0] * LEAD_IN_MONTHS + [1] * (len(weights) - LEAD_IN_MONTHS)
        persons = max(persons, sum(floor))
        share = persons - sum(floor)
        total = sum(weights)
        counts = [f + int(share * w / total) for f, w in zip(floor, weights, strict=True)]
        remainders = sorted(
            range(len(weights)),
            key=lambda i: share * weights[i] / total - int(share * weights[i] / total),
        )
        for i in remainders[len(remainders) - (persons - sum(counts)) :]:
            counts[i] += 1
        return [
            month for month, count in zip(self.months, counts, strict=True) for _ in range(count)
        ]

    def _person(self, month: dt.date, index: int, own: list[_Event], af: list[_Event]) -> None:
        rng = self.rng
        # Registered within the month it starts, so the month's file has it.
        start = month + dt.timedelta(days=rng.randrange(_days_in(month) - 5))
        number = self._personnummer(start)
        path = _pick(rng, PATH_LENGTHS)
        code = _pick(rng, self._first_codes())
        last_end: dt.date | None = None
        spans: list[tuple[dt.date, dt.date | None]] = []
        identities: set[tuple[str, dt.date]] = set()
        for step in range(path):
            if start >= self.horizon:
                break
            end = _end(rng, code, start)
            self._intervention(own, self.orgnr, number, code, start, end, self.place.system)
            spans.append((start, end))
            identities.add((code, start))
            last_end = end
            if end is None or step == path - 1:
                break
            start = end + dt.timedelta(days=rng.randrange(0, 35))
            code = _pick(rng, NEXT_CODES)
        with_af = rng.random() < AF_SHARE
        if with_af:
            around, _ = spans[rng.randrange(len(spans))]
            af_start = around + dt.timedelta(days=rng.randrange(-30, 75))
            af_start = max(af_start, self.first)
            if af_start < self.horizon:
                af_code = _pick(rng, AF_CODES)
                af_end = _end(rng, af_code, af_start)
                self._intervention(af, municipalities.AF_ORGNR, number, af_code, af_start, af_end)
        if last_end is not None:
            self._result(own, number, last_end, month, with_af)
        if rng.random() < MISTAKE_SHARE:
            self._mistake(own, number, spans[0][0], identities)

    def _first_codes(self) -> dict[str, float]:
        codes: dict[str, float] = dict(FIRST_CODES)
        codes["SPR"] *= self.place.language
        return codes

    def _personnummer(self, first_start: dt.date) -> str:
        rng = self.rng
        low, high, _ = AGES[_index(rng, [weight for _, _, weight in AGES])]
        while True:
            age = rng.randint(low, high)
            birth = _years_before(first_start, age) - dt.timedelta(days=rng.randrange(365))
            man = rng.random() < MEN
            birth_number = rng.randrange(0, 499) * 2 + (1 if man else 2)
            if (birth, birth_number) not in self.numbers:
                self.numbers.add((birth, birth_number))
                break
        return personnummer(birth, birth_number, coordination=rng.random() < COORDINATION_SHARE)

    def _intervention(
        self,
        events: list[_Event],
        orgnr: str,
        number: str,
        code: str,
        start: dt.date,
        end: dt.date | None,
        system: str = AF_SYSTEM,
    ) -> None:
        """Registrering when it starts; its end reported by Ändring, unless in the same month.

        A source system exports what changed since its last file, so an
        intervention begun and ended within one month comes as one Registrering
        with its end date. One whose end lies after the last month is ongoing.
        """
        rng = self.rng
        registered = self._at(start, rng.randrange(0, 5))
        ended = self._at(end, rng.randrange(0, 8)) if end is not None else None
        if ended is not None and ended <= registered:  # a course of a day or two
            ended = registered + dt.timedelta(hours=2)
        kommunkod = self.place.kommunkod

        def add(at: dt.datetime, status: str, end_date: dt.date | None) -> None:
            transaction = Transaction(
                _timestamp(at), status, code, _yyyymmdd(start), _yyyymmdd(end_date), system
            )
            events.append(_Event(at, orgnr, kommunkod, number, INTERVENTION, transaction))

        if ended is None or ended >= self._horizon_at:
            add(registered, "Registrering", None)
            return
        if (ended.year, ended.month) == (registered.year, registered.month):
            add(ended, "Registrering", end)
        else:
            add(registered, "Registrering", None)
            add(ended, "Ändring", end)
        if rng.random() < LATE_CORRECTION_SHARE:
            assert end is not None
            corrected = end + dt.timedelta(days=rng.randrange(7, 31))
            at = ended + dt.timedelta(days=rng.randrange(20, 70))
            if corrected < self.horizon and at < self._horizon_at:
                add(at, "Ändring", corrected)

    def _result(
        self, events: list[_Event], number: str, end: dt.date, month: dt.date, with_af: bool
    ) -> None:
        rng = self.rng
        progress = (month - self.first).days / max((self.horizon - self.first).days, 1)
        weights: dict[str | None, float] = {code: weight for code, weight in RESULTS.items()}
        weights["ARB"] *= self.place.work * (0.85 + 0.3 * progress)
        weights["AMS"] *= self.place.work
        weights["AFI"] *= 2.0 if with_af else 1.0
        weights[None] = NO_RESULT
        code = _pick(rng, weights)
        if code is None:
            return
        start = end + dt.timedelta(days=min(rng.randrange(0, 45) + rng.randrange(0, 46), 90))
        at = self._at(start, rng.randrange(0, 15))
        if at >= self._horizon_at:
            return
        transaction = Transaction(
            _timestamp(at), "Registrering", code, _yyyymmdd(start), None, self.place.system
        )
        events.append(_Event(at, self.orgnr, self.place.kommunkod, number, RESULT, transaction))

    def _mistake(
        self,
        events: list[_Event],
        number: str,
        near: dt.date,
        identities: set[tuple[str, dt.date]],
    ) -> None:
        """A registration made in error and taken back by Borttag, some weeks later.

        Half of them were the right intervention with the wrong start date: the
        system registers it anew with the right one, as the format asks.
        """
        rng = self.rng
        code = _pick(rng, NEXT_CODES)
        wrong = near + dt.timedelta(days=rng.randrange(1, 20))
        right = wrong - dt.timedelta(days=rng.randrange(1, 10))
        registered = self._at(wrong, rng.randrange(0, 5))
        removed = registered + dt.timedelta(days=rng.randrange(5, 45))
        if removed >= self._horizon_at or {(code, wrong), (code, right)} & identities:
            return  # a mistake about a real intervention would be another story
        kommunkod, system = self.place.kommunkod, self.place.system
        for at, status, start in (
            (registered, "Registrering", wrong),
            (removed, "Borttag", wrong),
        ):
            transaction = Transaction(_timestamp(at), status, code, _yyyymmdd(start), None, system)
            events.append(_Event(at, self.orgnr, kommunkod, number, INTERVENTION, transaction))
        if rng.random() < 0.5:
            at = removed + dt.timedelta(seconds=rng.randrange(30, 600))
            transaction = Transaction(
                _timestamp(at), "Registrering", code, _yyyymmdd(right), None, system
            )
            events.append(_Event(at, self.orgnr, kommunkod, number, INTERVENTION, transaction))

    @property
    def _horizon_at(self) -> dt.datetime:
        return dt.datetime.combine(self.horizon, dt.time())

    def _at(self, day: dt.date, later: int) -> dt.datetime:
        """A moment in office hours ``later`` days after ``day``, the system's time of writing."""
        seconds = 7 * 3600 + self.rng.randrange(10 * 3600)
        return dt.datetime.combine(day, dt.time()) + dt.timedelta(days=later, seconds=seconds)


def _broken(rng: random.Random, month: dt.date, system: str) -> Transaction:
    """A transaction with one mistake a source system might make, rejected alone on the receipt."""
    day = month + dt.timedelta(days=rng.randrange(_days_in(month)))
    at = _timestamp(dt.datetime.combine(day, dt.time(9, rng.randrange(60))))
    kind = rng.randrange(4)
    if kind == 0:  # a typo in the code
        return Transaction(at, "Registrering", "SVY", _yyyymmdd(day), None, system)
    if kind == 1:  # ends before it starts
        before = day - dt.timedelta(days=rng.randrange(1, 30))
        return Transaction(at, "Registrering", "JSA", _yyyymmdd(day), _yyyymmdd(before), system)
    if kind == 2:  # a status the format does not know
        return Transaction(at, "Registrerad", "KAR", _yyyymmdd(day), None, system)
    return Transaction(at, "Registrering", "PRA", f"{month:%Y%m}32", None, system)  # no such day


def _file(
    rng: random.Random,
    events: list[_Event],
    month: dt.date,
    index: int,
    cut: dt.datetime,
    *,
    full: bool,
    orgnr: str,
    kommunkoder: tuple[str, ...],
    arrival: dt.datetime,
    format: str,
    system: str,
) -> PlannedDelivery:
    """One month's file: what was written in the month (the first: also before it).

    A full re-send carries everything written so far.
    """
    since = dt.datetime.combine(month, dt.time()) if index > 0 else dt.datetime.min
    chosen = [e for e in events if since <= e.at < cut]
    if full:
        chosen = [e for e in events if e.at < cut]
    known = sum(1 for e in chosen if e.at < since) if full else 0
    by_person: dict[tuple[str, str], Person] = {}
    for event in sorted(chosen, key=lambda e: (e.kommunkod, e.personnummer, e.at)):
        person = by_person.get((event.kommunkod, event.personnummer))
        if person is None:
            person = by_person[event.kommunkod, event.personnummer] = Person(event.personnummer)
        (person.interventions if event.kind == INTERVENTION else person.results).append(
            event.transaction
        )
    invalid = 0
    people = list(by_person.values())
    if people and rng.random() < BROKEN_FILE_SHARE:
        for _ in range(rng.randint(1, 3)):
            rng.choice(people).interventions.append(_broken(rng, month, system))
            invalid += 1
    kommuner = []
    for kommunkod in kommunkoder:
        persons = [p for (k, _), p in by_person.items() if k == kommunkod]
        if persons:
            kommuner.append(Kommun(orgnr, kommunkod, persons))
    return PlannedDelivery(
        orgnr=orgnr,
        kommunkoder=kommunkoder,
        month=month,
        arrival=arrival,
        format=format,
        full=full,
        kommuner=kommuner,
        persons=len(by_person),
        transactions=len(chosen) + invalid,
        invalid=invalid,
        known=known,
    )


def _arrival(rng: random.Random, cut: dt.datetime, day: int) -> dt.datetime:
    """When a month's file comes: about the sender's usual day of the next month, at work."""
    day = max(1, min(day + rng.randrange(-2, 3), 14))
    return cut + dt.timedelta(days=day - 1, hours=rng.randrange(7, 17), minutes=rng.randrange(60))


def _orgnr(kommunkod: str) -> str:
    for row in municipalities.municipalities():
        if row.code == kommunkod:
            return row.orgnr
    raise ValueError(f"no municipality has kommunkod {kommunkod!r}")


def _end(rng: random.Random, code: str, start: dt.date) -> dt.date | None:
    """An intervention's last day: a usual length for its code, a term for UTB."""
    if code == "UTB":
        if 7 <= start.month <= 11:
            return max(dt.date(start.year + 1, 1, 14), start) + dt.timedelta(days=rng.randrange(7))
        year = start.year + (1 if start.month == 12 else 0)
        return max(dt.date(year, 6, 7), start) + dt.timedelta(days=rng.randrange(7))
    low, high = LENGTHS[code]
    return start + dt.timedelta(days=rng.randint(low, high))


def _pick(rng: random.Random, weights: Mapping[K, float]) -> K:
    keys = list(weights)
    return keys[_index(rng, [weights[key] for key in keys])]


def _index(rng: random.Random, weights: Sequence[float]) -> int:
    point = rng.random() * sum(weights)
    for index, weight in enumerate(weights):
        point -= weight
        if point < 0:
            return index
    return len(weights) - 1


def _timestamp(at: dt.datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S")


def _yyyymmdd(day: dt.date | None) -> str | None:
    return day.strftime("%Y%m%d") if day is not None else None


def _days_in(month: dt.date) -> int:
    return (_add_months(month, 1) - month).days


def _add_months(first: dt.date, count: int) -> dt.date:
    index = first.year * 12 + first.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def iter_transactions(
    deliveries: Sequence[PlannedDelivery],
) -> Iterator[tuple[PlannedDelivery, Kommun, Person, str, Transaction]]:
    """Every transaction of ``deliveries``, with its file, block, person and kind (for tests)."""
    for delivery in deliveries:
        for kommun in delivery.kommuner:
            for person in kommun.persons:
                for kind, transaction in person.transactions():
                    yield delivery, kommun, person, kind, transaction
