"""The rules of SPEC §3 that one transaction can be checked against without a database.

``validate()`` takes the stream a reader produces and yields, for each record,
a ``Checked``: the record's values parsed (``None`` where invalid) and its
problems. Whether the delivering organisation is registered and may deliver
at all needs the service's register and is decided when a delivery is
received; here only the shipped register and code list are used, so that
``inuk validate`` runs offline, without Django settings.

Speed matters: a delivery may hold millions of transactions, and the
validator must keep up with the reader. Most values repeat — one Kommun for
thousands of records, one person for several, a few dates and codes — so each
verdict is cached and the happy path raises no exception.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from inuk.format import codelist, municipalities
from inuk.format.codelist import CodeList
from inuk.format.errors import Problem
from inuk.format.identifiers import (
    InvalidIdentifier,
    Personnummer,
    normalise_kommunkod,
    parse_orgnr,
    parse_personnummer,
)
from inuk.format.masking import is_personnummer, redact
from inuk.format.records import INTERVENTION, RESULT, Record

#: Transaktionsdatum is the source system's local time, which is Swedish.
STOCKHOLM = ZoneInfo("Europe/Stockholm")

REGISTRERING, ANDRING, BORTTAG = "R", "A", "B"
STATUSES = {"registrering": REGISTRERING, "ändring": ANDRING, "borttag": BORTTAG}

SYSTEM_MAX_LENGTH = 100

#: The characters at positions 4, 7, 10, 13, 16 and 19 of a Transaktionsdatum
#: (``2017-10-10 10:49:29.10000``): date, date/time and time separators, and
#: the decimal point if there is a fraction.
_TIMESTAMP_SEPARATORS = frozenset({"-- ::", "--T::", "-- ::.", "--T::."})

_CODE_KINDS = {INTERVENTION: codelist.INTERVENTION, RESULT: codelist.RESULT}

#: Caches are keyed by the raw text, which a hostile file could make endless;
#: past this many entries a cache starts over.
_CACHE_LIMIT = 4096

#: Local wall-clock time and real time differ by at most an hour around a
#: change to or from summer time; a timestamp this far before the time of
#: receipt, on the wall clock, cannot be after it.
_WALL_CLOCK_MARGIN = dt.timedelta(hours=2)

_INVALID = ""  # a cached verdict that the value breaks its rule (falsy, unlike any valid one)
_UNSEEN = object()  # the previous raw value before the first record


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Context:
    """What validation compares against: the code list, the time of receipt, the register."""

    codes: CodeList = field(default_factory=CodeList.shipped)
    #: When the file was received (timezone-aware).
    received_at: dt.datetime = field(default_factory=_now)
    municipality_codes: frozenset[str] = field(default_factory=municipalities.municipality_codes)
    #: Canonical organisation number of a municipality -> the kommunkod it may deliver for.
    own_codes: Mapping[str, frozenset[str]] = field(default_factory=municipalities.codes_by_orgnr)

    def __post_init__(self) -> None:
        if self.received_at.utcoffset() is None:
            raise ValueError("received_at must be timezone-aware")


@dataclass(slots=True)
class Checked:
    """One transaction after validation: its values parsed, ``None`` where invalid."""

    #: Not in the repr: the record holds the personnummer in full.
    record: Record = field(repr=False)
    #: 0-based index of the transaction in the file, in reading order.
    position: int
    #: Errors and warnings for this transaction, the reader's first.
    problems: list[Problem]
    orgnr: str | None = None
    kommunkod: str | None = None
    person: Personnummer | None = None
    #: Aware, in Europe/Stockholm.
    transaction_time: dt.datetime | None = None
    #: 'R' Registrering, 'A' Ändring, 'B' Borttag.
    status: str | None = None
    code: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    system: str | None = None

    @property
    def ok(self) -> bool:
        """True if no problem is an error: the transaction can be accepted."""
        if not self.problems:  # the common case, without building a generator
            return True
        return all(problem.severity != "error" for problem in self.problems)


def validate(items: Iterable[Record | Problem], context: Context) -> Iterator[Checked | Problem]:
    """Check each record of a reader's stream; the reader's own problems pass through unchanged."""
    check = _Validator(context).check
    position = 0
    for item in items:
        if isinstance(item, Problem):
            yield item
        else:
            yield check(item, position)
            position += 1


def parse_timestamp(text: str) -> dt.datetime | None:
    """Read ``YYYY-MM-DD HH:MM:SS[.fraction]`` (or with ``T``) as Swedish local time.

    Returns ``None`` unless the text has exactly that shape and is a real date
    and time. A time that the clock skipped when summer time began is read as
    if it had not been skipped: it is the source system's record of when
    something happened, and rejecting the transaction over it would help no one.
    """
    text = text.strip()
    try:
        # fromisoformat is fast but lenient (week dates, time zones, commas,
        # missing seconds); the separators checked below keep only the format's own.
        naive = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if naive.tzinfo is None and len(text) >= 19 and text[4:20:3] in _TIMESTAMP_SEPARATORS:
        # combine() is several times faster than replace(tzinfo=...) on Python 3.11.
        return dt.datetime.combine(naive, naive.time(), STOCKHOLM)
    return None


def parse_date(text: str) -> dt.date | None:
    """Read ``YYYYMMDD`` as a date; ``None`` unless it is eight digits and a real date."""
    text = text.strip()
    if len(text) != 8 or not (text.isascii() and text.isdigit()):
        return None
    try:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def parse_status(text: str) -> str | None:
    """Read a Status word, ignoring case, surrounding space and Unicode normal form."""
    return STATUSES.get(unicodedata.normalize("NFC", text.strip()).casefold())


def check_system(text: str) -> tuple[str | None, str | None]:
    """The System value to keep, or ``None`` and the code of the rule it breaks.

    System is free text that is stored with the transaction in the statistics
    database, where no personnummer may go: one written into it is masked, and
    a System that is nothing but a personnummer is an error, since it names no
    system and most likely sits in the wrong field.

    >>> check_system(" SystemX "), check_system("19881212-0387")
    (('SystemX', None), (None, 'SYSTEM_PERSONNUMMER'))
    """
    system = text.strip()
    if not 0 < len(system) <= SYSTEM_MAX_LENGTH:
        return None, "SYSTEM_LENGTH"
    if is_personnummer(system):
        return None, "SYSTEM_PERSONNUMMER"
    # Masking may add a dash; the cut can only take stars, never a digit.
    return redact(system)[:SYSTEM_MAX_LENGTH], None


def _error_fields(problems: list[Problem]) -> frozenset[str]:
    return frozenset(problem.field for problem in problems if problem.severity == "error")


_NO_FIELDS: frozenset[str] = frozenset()

#: Record attribute -> the Checked attribute holding its parsed value.
_CHECKED_NAMES = {
    "orgnr": "orgnr",
    "kommunkod": "kommunkod",
    "personnummer": "person",
    "transaktionsdatum": "transaction_time",
    "status": "status",
    "code": "code",
    "start": "start",
    "end": "end",
    "system": "system",
}


class _Validator:
    """Checks records one at a time, remembering the verdicts that repeat."""

    def __init__(self, context: Context) -> None:
        self.codes = context.codes
        self.municipality_codes = context.municipality_codes
        self.own_codes = context.own_codes
        # In UTC, so that comparing a Swedish local time with it compares real
        # time: two datetimes sharing one tzinfo are compared on the wall clock.
        self.received_at = context.received_at.astimezone(dt.UTC)
        received_local = context.received_at.astimezone(STOCKHOLM)
        self.today = received_local.date()
        # Same tzinfo as parsed timestamps, so comparing with it is a cheap
        # wall-clock comparison.
        self.surely_past = received_local - _WALL_CLOCK_MARGIN

        self.orgnr_raw: object = _UNSEEN
        self.kommunkod_raw: object = _UNSEEN
        self.kommun_verdict: tuple[str | None, str | None, tuple[tuple[str, str], ...]] = (
            None,
            None,
            (),
        )
        self.personnummer_raw: object = _UNSEEN
        self.person_verdict: tuple[Personnummer | None, str | None] = (None, None)
        #: YYYYMMDD text -> its date, or _INVALID.
        self.dates: dict[str, Any] = {}
        self.statuses: dict[str, str] = {}
        #: Raw System text -> the value to keep, or the code of the rule it breaks.
        self.systems: dict[str, tuple[str | None, str | None]] = {}
        self.code_names: dict[str, dict[str, str]] = {INTERVENTION: {}, RESULT: {}}
        # Kind -> code -> start date -> valid: a delivery's start dates span
        # years, so one dictionary per code keeps each small.
        self.code_validity: dict[str, dict[str, dict[dt.date, bool]]] = {
            INTERVENTION: {},
            RESULT: {},
        }

    def check(self, record: Record, position: int) -> Checked:
        # Written for speed: one pass, cached verdicts, and nothing but
        # attribute and dictionary look-ups for a valid record. Errors are
        # rare and go through _add().
        if record.problems:
            problems = list(record.problems)
            flagged = _error_fields(problems)
        else:
            problems = []
            flagged = _NO_FIELDS
        kind = record.kind
        status: str | None
        code: str | None

        # The Kommun's values: the same for every record under one Kommun.
        if record.orgnr != self.orgnr_raw or record.kommunkod != self.kommunkod_raw:
            self.kommun_verdict = self._check_kommun(record.orgnr, record.kommunkod)
            self.orgnr_raw, self.kommunkod_raw = record.orgnr, record.kommunkod
        orgnr, kommunkod, kommun_errors = self.kommun_verdict
        if kommun_errors:
            for code, attribute in kommun_errors:
                self._add(problems, flagged, record, position, code, attribute)

        # The person's: the same for every record of one Person.
        if record.personnummer != self.personnummer_raw:
            self.person_verdict = self._check_person(record.personnummer)
            self.personnummer_raw = record.personnummer
        person, person_error = self.person_verdict
        if person_error is not None:
            self._add(problems, flagged, record, position, person_error, "personnummer")

        raw = record.transaktionsdatum
        if raw is None:
            transaction_time = None
            self._add(problems, flagged, record, position, "ELEMENT_MISSING", "transaktionsdatum")
        else:
            transaction_time = parse_timestamp(raw)
            if transaction_time is None:
                self._add(
                    problems, flagged, record, position, "TIMESTAMP_FORMAT", "transaktionsdatum"
                )
            elif transaction_time > self.surely_past and transaction_time > self.received_at:
                transaction_time = None
                self._add(
                    problems, flagged, record, position, "TIMESTAMP_FUTURE", "transaktionsdatum"
                )

        raw = record.status
        if raw is None:
            status = None
            self._add(problems, flagged, record, position, "ELEMENT_MISSING", "status")
        else:
            status = self.statuses.get(raw)
            if status is None:
                status = parse_status(raw) or _INVALID
                self._remember(self.statuses, raw, status)
            if not status:
                status = None
                self._add(problems, flagged, record, position, "STATUS_UNKNOWN", "status")

        dates = self.dates
        day: Any  # a cached date, or _INVALID
        start: dt.date | None = None
        raw = record.start
        if raw is None:
            self._add(problems, flagged, record, position, "ELEMENT_MISSING", "start")
        else:
            day = dates.get(raw)
            if day is None:
                day = parse_date(raw) or _INVALID
                self._remember(dates, raw, day)
            if day:
                start = day
            else:
                self._add(problems, flagged, record, position, "DATE_FORMAT", "start")

        raw = record.end
        end: dt.date | None = None
        # A Resultat has no end date; the readers report one that is there. An
        # empty SlutdatumInsats says the same as a missing one: still ongoing.
        if raw is not None and kind == INTERVENTION:
            day = dates.get(raw)
            if day is None and raw.strip():
                day = parse_date(raw) or _INVALID
                self._remember(dates, raw, day)
            if day is None:
                pass
            elif not day:
                self._add(problems, flagged, record, position, "DATE_FORMAT", "end")
            elif start is not None and day < start:
                self._add(problems, flagged, record, position, "END_BEFORE_START", "end")
            else:
                end = day

        raw = record.code
        if raw is None:
            code = None
            self._add(problems, flagged, record, position, "ELEMENT_MISSING", "code")
        else:
            names = self.code_names[kind]
            code = names.get(raw)
            if code is None:
                code = raw.strip().upper()
                if not self.codes.exists(_CODE_KINDS[kind], code):
                    code = _INVALID
                self._remember(names, raw, code)
            if not code:
                code = None
                self._add(problems, flagged, record, position, "CODE_UNKNOWN", "code")
            elif start is not None:
                by_start = self.code_validity[kind].get(code)
                if by_start is None:
                    by_start = self.code_validity[kind][code] = {}
                valid = by_start.get(start)
                if valid is None:
                    valid = self.codes.valid_on(_CODE_KINDS[kind], code, start)
                    self._remember(by_start, start, valid)
                if not valid:
                    code = None
                    self._add(
                        problems, flagged, record, position, "CODE_NOT_VALID_ON_START", "code"
                    )

        raw = record.system
        if raw is None:
            system = None
            self._add(problems, flagged, record, position, "ELEMENT_MISSING", "system")
        else:
            verdict = self.systems.get(raw)
            if verdict is None:
                verdict = check_system(raw)
                self._remember(self.systems, raw, verdict)
            system, system_error = verdict
            if system_error is not None:
                self._add(problems, flagged, record, position, system_error, "system")

        checked = Checked(
            record,
            position,
            problems,
            orgnr,
            kommunkod,
            person,
            transaction_time,
            status,
            code,
            start,
            end,
            system,
        )
        if flagged:
            # A value the reader already found wrong is not to be used either.
            for attribute, name in _CHECKED_NAMES.items():
                if attribute == "end" and kind != INTERVENTION:
                    continue  # a Resultat has no such field
                if record.field_name(attribute) in flagged:
                    setattr(checked, name, None)
        return checked

    @staticmethod
    def _add(
        problems: list[Problem],
        flagged: frozenset[str],
        record: Record,
        position: int,
        code: str,
        attribute: str,
    ) -> None:
        """Report a broken rule, unless the reader already found this field wrong."""
        field_name = record.field_name(attribute)
        if field_name in flagged:
            return
        problems.append(
            Problem.about(
                code,
                field_name,
                record.location,
                getattr(record, attribute),
                explicit_path=record.path(attribute),
                position=position,
            )
        )

    @staticmethod
    def _remember(cache: dict[Any, Any], key: Hashable, value: object) -> None:
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        cache[key] = value

    def _check_kommun(
        self, orgnr_raw: str | None, kommunkod_raw: str | None
    ) -> tuple[str | None, str | None, tuple[tuple[str, str], ...]]:
        errors: list[tuple[str, str]] = []
        orgnr = kommunkod = None
        if orgnr_raw is None:
            errors.append(("ELEMENT_MISSING", "orgnr"))
        else:
            try:
                orgnr = parse_orgnr(orgnr_raw)
            except InvalidIdentifier as invalid:
                errors.append((invalid.code, "orgnr"))
        if kommunkod_raw is None:
            errors.append(("ELEMENT_MISSING", "kommunkod"))
        else:
            try:
                kommunkod = normalise_kommunkod(kommunkod_raw)
            except InvalidIdentifier as invalid:
                errors.append((invalid.code, "kommunkod"))
            else:
                # Only a municipality's own codes are known offline; AF, suppliers
                # and federations are checked against the service's register.
                own = self.own_codes.get(orgnr) if orgnr is not None else None
                if kommunkod not in self.municipality_codes:
                    errors.append(("KOMMUNKOD_UNKNOWN", "kommunkod"))
                    kommunkod = None
                elif own is not None and kommunkod not in own:
                    errors.append(("KOMMUNKOD_NOT_OWN", "kommunkod"))
                    kommunkod = None
        return orgnr, kommunkod, tuple(errors)

    def _check_person(self, raw: str | None) -> tuple[Personnummer | None, str | None]:
        if raw is None:
            return None, "ELEMENT_MISSING"
        try:
            return parse_personnummer(raw, self.today), None
        except InvalidIdentifier as invalid:
            return None, invalid.code
