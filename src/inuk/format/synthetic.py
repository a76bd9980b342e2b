"""Synthetic deliveries that look like real ones, for tests, the demo and benchmarks.

Everything is drawn from ``random.Random`` seeded by the caller, so the same
seed (and the same ``today``) gives the same delivery, byte for byte. Persons
are made one at a time while a writer asks for them, so a delivery of a
million transactions streams to disk in constant memory::

    kommuner = delivery(municipality("0114"), persons=200_000, seed=1)
    with open("leverans.xml", "wb") as out:
        writers.write_xml(kommuner, out)

The personnummer are valid (check digit, real date) for people aged 16 to 35,
about 2 % of them samordningsnummer, and unique within a delivery. They are
random numbers that may belong to real people: keep them out of anything but
test and demo databases.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from bisect import bisect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import accumulate

from inuk.format import municipalities
from inuk.format.codelist import INTERVENTION as CODE_INTERVENTION
from inuk.format.codelist import RESULT as CODE_RESULT
from inuk.format.codelist import CodeList
from inuk.format.writers import Kommun, Person, Transaction

#: Share of persons given a samordningsnummer (day of birth + 60).
COORDINATION_SHARE = 0.02
#: Most interventions last up to about half a year; this share goes on for longer.
LONG_SHARE = 0.1
YOUNGEST, OLDEST = 16, 35
#: Interventions start within this many days before ``today``.
HISTORY_DAYS = 3 * 365

MUNICIPAL_SYSTEMS = (
    "SystemX",
    "Insatsregistret",
    "Vägledningsstöd",
    "UngArbete",
    "Arbetsmarknadsportalen",
    "KomAM",
    "Jobbtorget",
    "Ungdomsguiden",
)
AF_SYSTEM = "AF Insatssystem"

#: Result codes and how often each is drawn: work and studies are the common outcomes.
RESULT_WEIGHTS = {
    "ARB": 25,
    "STU": 20,
    "AFI": 15,
    "AMS": 10,
    "AVB": 10,
    "FLY": 5,
    "EGF": 3,
    "OVR": 5,
}


@dataclass(frozen=True, slots=True)
class Sender:
    """Who delivers (``orgnr``) and for which municipalities (``kommunkoder``)."""

    orgnr: str
    kommunkoder: tuple[str, ...]


def municipality(kommunkod: str) -> Sender:
    """A municipality delivering for itself, from the shipped register."""
    for row in municipalities.municipalities():
        if row.code == kommunkod:
            return Sender(row.orgnr, (row.code,))
    raise ValueError(f"no municipality has kommunkod {kommunkod!r}")


def arbetsformedlingen(kommunkoder: Iterable[str] | None = None) -> Sender:
    """AF delivering its own interventions, for the given municipalities (all 290 by default)."""
    codes = (
        tuple(kommunkoder)
        if kommunkoder is not None
        else tuple(row.code for row in municipalities.municipalities())
    )
    return Sender(municipalities.AF_ORGNR, codes)


def personnummer(birth: dt.date, birth_number: int, *, coordination: bool = False) -> str:
    """The 12-digit personnummer (or samordningsnummer) with its check digit.

    ``birth_number`` is the three digits after the date (1–999); its last digit
    is odd for a man, even for a woman.
    """
    day = birth.day + (60 if coordination else 0)
    body = f"{birth.year % 100:02d}{birth.month:02d}{day:02d}{birth_number:03d}"
    return f"{birth.year // 100:02d}{body}{_luhn_digit(body)}"


def _luhn_digit(digits: str) -> int:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:  # doubled: these stand at odd places from the check digit
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return (10 - total % 10) % 10


def delivery(
    sender: Sender,
    *,
    persons: int,
    transactions_per_person: int = 5,
    seed: int = 0,
    today: dt.date | None = None,
) -> list[Kommun]:
    """A delivery from ``sender``: ``persons`` persons spread over its municipalities.

    Every person has ``transactions_per_person`` transactions: interventions
    started within three years before ``today`` (ended, or ongoing if their end
    is still to come), and results starting after some of them. Each Kommun's
    persons are made anew every time they are iterated, identically, so the
    delivery can be written twice.
    """
    if transactions_per_person < 1:
        raise ValueError("a person needs at least one transaction")
    today = today or dt.date.today()
    codes = sender.kommunkoder
    share, rest = divmod(persons, len(codes))
    kommuner = []
    offset = 0
    numbers = _Numbers(today, seed, persons)
    for index, kommunkod in enumerate(codes):
        count = share + (1 if index < rest else 0)
        if count == 0:
            continue
        people = _Persons(
            numbers=numbers,
            first=offset,
            count=count,
            transactions=transactions_per_person,
            seed=f"{seed}/{kommunkod}",
            today=today,
            system=AF_SYSTEM if sender.orgnr == municipalities.AF_ORGNR else None,
        )
        kommuner.append(Kommun(sender.orgnr, kommunkod, people))
        offset += count
    return kommuner


def changed(
    kommuner: list[Kommun], *, share: float = 0.01, seed: int = 0, today: dt.date | None = None
) -> list[Kommun]:
    """The same history with about ``share`` of its transactions changed by an Ändring.

    A changed intervention gets a new end date (an ongoing one ends), a changed
    result a new System; either gets a later Transaktionsdatum, still before
    ``today``. Identities (code and start date) stay, so the changed delivery
    updates the records of the original rather than adding new ones.
    """
    today = today or dt.date.today()
    return [
        Kommun(k.orgnr, k.kommunkod, _Changed(k.persons, share, f"{seed}/{k.kommunkod}", today))
        for k in kommuner
    ]


class _Numbers:
    """Unique personnummer for the persons of one delivery, by their index in it.

    Index ``i`` maps to a (date of birth, birth number) pair through
    ``(a * i + b) mod N``, a permutation of the N pairs possible for the ages
    wanted, so no two persons share a number and none need be remembered.
    """

    def __init__(self, today: dt.date, seed: int, persons: int) -> None:
        self.latest = _years_before(today, YOUNGEST)
        self.earliest = _years_before(today, OLDEST + 1) + dt.timedelta(days=1)
        days = (self.latest - self.earliest).days + 1
        self.size = days * 999
        if persons > self.size:
            raise ValueError(f"at most {self.size} persons fit the ages {YOUNGEST}–{OLDEST}")
        rng = random.Random(f"numbers/{seed}")
        self.step = rng.randrange(self.size // 3, self.size)
        while math.gcd(self.step, self.size) != 1:
            self.step += 1
        self.shift = rng.randrange(self.size)

    def birth(self, index: int) -> tuple[dt.date, int]:
        pair = (self.step * index + self.shift) % self.size
        return self.earliest + dt.timedelta(days=pair // 999), pair % 999 + 1


class _Persons:
    """The persons of one Kommun block, made while iterated."""

    def __init__(
        self,
        *,
        numbers: _Numbers,
        first: int,
        count: int,
        transactions: int,
        seed: str,
        today: dt.date,
        system: str | None,
    ) -> None:
        self.numbers = numbers
        self.first = first
        self.count = count
        self.transactions = transactions
        self.seed = seed
        self.today = today
        self.system = system

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[Person]:
        rng = random.Random(self.seed)
        maker = _PersonMaker(rng, self.today, self.system or rng.choice(MUNICIPAL_SYSTEMS))
        for index in range(self.first, self.first + self.count):
            birth, birth_number = self.numbers.birth(index)
            yield maker.person(birth, birth_number, self.transactions)


class _PersonMaker:
    """Draws one person's history.

    Uses ``rng.random()`` and arithmetic rather than ``randint`` and ``choice``,
    which cost several times as much: a benchmark file has millions of draws.
    """

    def __init__(self, rng: random.Random, today: dt.date, system: str) -> None:
        self.random = rng.random
        self.today = today.toordinal()
        self.system = system
        codes = CodeList.shipped()
        self.intervention_codes = codes.codes(CODE_INTERVENTION)
        shipped_results = set(codes.codes(CODE_RESULT))
        self.result_codes = [code for code in RESULT_WEIGHTS if code in shipped_results]
        self.result_bounds = list(accumulate(RESULT_WEIGHTS[code] for code in self.result_codes))
        self.window_start = self.today - HISTORY_DAYS
        #: Transaktionsdatum are at least this long before ``today``, so that
        #: ``changed`` has room for a later one and a file is valid all day.
        self.last_timestamp_day = self.today - 2
        self._dates: dict[int, str] = {}
        self._iso: dict[int, str] = {}

    def below(self, limit: int) -> int:
        """A whole number from 0 up to, not including, ``limit``."""
        return int(self.random() * limit)

    def person(self, birth: dt.date, birth_number: int, transactions: int) -> Person:
        coordination = self.random() < COORDINATION_SHARE
        number = personnummer(birth, birth_number, coordination=coordination)
        results = self.below(transactions // 2 + 1) if transactions > 1 else 0
        interventions = self._interventions(birth, transactions - results)
        return Person(number, interventions, self._results(interventions, results))

    def _interventions(self, birth: dt.date, count: int) -> list[Transaction]:
        below = self.below
        today = self.today
        first_day = max(self.window_start, _years_after(birth, YOUNGEST).toordinal())
        span = max(today - first_day, 1)
        codes = self.intervention_codes
        # Distinct (start day, code) pairs: each intervention its own identity.
        # Someone who just turned 16 has a short window, hence the pairs.
        drawn: set[tuple[int, int]] = set()
        for _ in range(count * 20):
            if len(drawn) == count:
                break
            drawn.add((below(span), below(len(codes))))
        pairs = sorted(drawn)
        if len(pairs) < count:  # only when there is no room for more: repeat some
            pairs = sorted(pairs[i % len(pairs)] for i in range(count))
        made = []
        for day, code in pairs:
            start = first_day + day
            # Those whose end is still to come are ongoing: they have no end date yet.
            length = 200 + below(500) if self.random() < LONG_SHARE else 5 + below(196)
            end = start + length if start + length < today else None
            made.append(
                Transaction(
                    self._timestamp((end or start) + below(8)),
                    "Registrering",
                    codes[code],
                    self._date(start),
                    self._date(end) if end is not None else None,
                    self.system,
                )
            )
        return made

    def _results(self, interventions: list[Transaction], count: int) -> list[Transaction]:
        below = self.below
        last_day = self.today - 1
        made = []
        seen = set()
        for _ in range(count):
            base = interventions[below(len(interventions))]
            anchor = _ordinal(base.end or base.start)  # type: ignore[arg-type]
            start = min(anchor + below(61), last_day)
            code = self.result_codes[bisect(self.result_bounds, below(self.result_bounds[-1]))]
            if (code, start) in seen:  # the same identity twice would be one record
                start = max(start - 1 - below(30), anchor)
            seen.add((code, start))
            made.append(
                Transaction(
                    self._timestamp(start + below(11)),
                    "Registrering",
                    code,
                    self._date(start),
                    None,
                    self.system,
                )
            )
        return made

    def _date(self, ordinal: int) -> str:
        text = self._dates.get(ordinal)
        if text is None:
            text = self._dates[ordinal] = dt.date.fromordinal(ordinal).strftime("%Y%m%d")
        return text

    def _timestamp(self, ordinal: int) -> str:
        ordinal = min(ordinal, self.last_timestamp_day)
        day = self._iso.get(ordinal)
        if day is None:
            day = self._iso[ordinal] = dt.date.fromordinal(ordinal).isoformat()
        seconds = 7 * 3600 + self.below(11 * 3600)
        text = f"{day} {seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
        if seconds % 3 == 0:  # some source systems give a fraction, as the annex's example does
            text += f".{seconds % 100000:05d}"
        return text


class _Changed:
    """Another Kommun block's persons, with some transactions replaced by an Ändring."""

    def __init__(self, persons: Iterable[Person], share: float, seed: str, today: dt.date) -> None:
        self.persons = persons
        self.share = share
        self.seed = seed
        self.today = today

    def __iter__(self) -> Iterator[Person]:
        rng = random.Random(f"changed/{self.seed}")
        latest = dt.datetime.combine(self.today - dt.timedelta(days=1), dt.time(12))
        for person in self.persons:
            interventions = [
                self._intervention(rng, t, latest) if rng.random() < self.share else t
                for t in person.interventions
            ]
            results = [
                self._result(rng, t, latest) if rng.random() < self.share else t
                for t in person.results
            ]
            yield Person(person.personnummer, interventions, results)

    def _intervention(self, rng: random.Random, t: Transaction, latest: dt.datetime) -> Transaction:
        start = _ordinal(t.start)  # type: ignore[arg-type]
        last_day = self.today.toordinal() - 1
        if t.end is None:
            end = min(start + rng.randint(5, 200), last_day)
        else:
            end = min(_ordinal(t.end) + rng.randint(1, 30), last_day)
        end = max(end, start)
        return Transaction(
            _later(rng, t.transaktionsdatum, latest),
            "Ändring",
            t.code,
            t.start,
            dt.date.fromordinal(end).strftime("%Y%m%d"),
            t.system,
        )

    @staticmethod
    def _result(rng: random.Random, t: Transaction, latest: dt.datetime) -> Transaction:
        return Transaction(
            _later(rng, t.transaktionsdatum, latest),
            "Ändring",
            t.code,
            t.start,
            None,
            f"{t.system} (rättad)",
        )


def _later(rng: random.Random, timestamp: str | None, latest: dt.datetime) -> str:
    """A Transaktionsdatum some days after ``timestamp``, and no later than ``latest``."""
    then = dt.datetime.fromisoformat(timestamp) if timestamp else latest - dt.timedelta(days=1)
    later = min(then + dt.timedelta(days=rng.randint(1, 20), seconds=rng.randint(1, 3600)), latest)
    return later.strftime("%Y-%m-%d %H:%M:%S")


def _ordinal(yyyymmdd: str) -> int:
    return dt.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:])).toordinal()


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _years_after(day: dt.date, years: int) -> dt.date:
    return _years_before(day, -years)
