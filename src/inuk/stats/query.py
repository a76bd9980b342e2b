"""What a statistics question asks: indicator, period, geographies, breakdowns, source.

Plain values, parsed from the strings of URLs, the API and ``inuk stats``, so
that the page, the API and the command ask the same question the same way::

    Query.parse(indicator="participants", period="2026-Q3",
                geographies=["0114", "01", "SE"], by=["sex"], source="both")

Spellings:

- period: ``2026-10`` (a month), ``2026-Q3`` or ``2026K3`` (a quarter), ``2026``
  (a year), ``2025-11..2026-10`` (any range of whole months);
- geography: ``0114`` or ``114`` (a municipality), ``01`` (a county), ``SE``
  (the whole country), ``g:SLUG`` (a municipality group kept by AF);
- breakdown (``by``): ``code``, ``sex``, ``age``, ``source``;
- source: ``municipal``, ``af`` or ``both``.

Errors are ``QueryError`` with a stable code and a message in Swedish and
English, for the API's error answer and the page's form.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

# --- errors -----------------------------------------------------------------------


class QueryError(ValueError):
    """A question that cannot be asked, with a stable code and both languages."""

    def __init__(self, code: str, sv: str, en: str) -> None:
        super().__init__(en)
        self.code = code
        self.message_sv = sv
        self.message_en = en


# --- indicators, dimensions, sources -------------------------------------------------


class Indicator(StrEnum):
    PARTICIPANTS = "participants"
    STARTED = "started"
    ENDED = "ended"
    RESULTS = "results"
    COLLABORATION = "collaboration"


class Dimension(StrEnum):
    """What a table can be broken down by, alone or two at a time."""

    CODE = "code"  # the intervention code; for ``results`` the result code
    SEX = "sex"
    AGE = "age"  # age group at the intervention's start
    SOURCE = "source"


class Source(StrEnum):
    """Whose interventions count: the municipalities', AF's, or both."""

    MUNICIPAL = "municipal"
    AF = "af"
    BOTH = "both"


#: Sex as the statistics database stores it (``ledger.Person.sex``).
SEXES = ("K", "M")

#: Age groups at an intervention's start (start year - birth year). Anyone
#: younger than 16 counts in the first group: the service is for young people
#: and a younger participant is a reporting matter, not a category of its own.
AGE_GROUPS = ("16-19", "20-24", "25-29", "30+")

#: Source categories of a breakdown by source.
SOURCES = ("municipal", "af")


def age_group(start_year: int, birth_year: int) -> str:
    """The age group of someone born in ``birth_year`` whose intervention started in ``start_year``.

    >>> age_group(2026, 2004), age_group(2026, 2006), age_group(2026, 1990)
    ('20-24', '16-19', '30+')
    """
    age = start_year - birth_year
    if age < 20:
        return "16-19"
    if age < 25:
        return "20-24"
    if age < 30:
        return "25-29"
    return "30+"


# --- periods ------------------------------------------------------------------------


class PeriodKind(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    RANGE = "range"


Month = tuple[int, int]  # (year, month)


def _month_index(month: Month) -> int:
    return month[0] * 12 + month[1] - 1


def _month_from_index(index: int) -> Month:
    return (index // 12, index % 12 + 1)


def month_label(month: Month) -> str:
    return f"{month[0]:04d}-{month[1]:02d}"


@dataclass(frozen=True, order=True)
class Period:
    """Whole months from ``first_month`` to ``last_month``, inclusive, and how it was asked.

    A month asked as a month and as a one-month range is the same period: it is
    normalised to a month, so that it is the same cell by every route.
    """

    first_month: Month
    last_month: Month
    kind: PeriodKind

    @property
    def first(self) -> dt.date:
        return dt.date(self.first_month[0], self.first_month[1], 1)

    @property
    def last(self) -> dt.date:
        year, month = _month_from_index(_month_index(self.last_month) + 1)
        return dt.date(year, month, 1) - dt.timedelta(days=1)

    def months(self) -> list[Month]:
        start, stop = _month_index(self.first_month), _month_index(self.last_month)
        return [_month_from_index(i) for i in range(start, stop + 1)]

    @property
    def label(self) -> str:
        year, month = self.first_month
        if self.kind is PeriodKind.MONTH:
            return month_label(self.first_month)
        if self.kind is PeriodKind.QUARTER:
            return f"{year:04d}-Q{(month - 1) // 3 + 1}"
        if self.kind is PeriodKind.YEAR:
            return f"{year:04d}"
        return f"{month_label(self.first_month)}..{month_label(self.last_month)}"

    def __str__(self) -> str:
        return self.label

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        return cls((year, month), (year, month), PeriodKind.MONTH)

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        first = (year, 3 * quarter - 2)
        return cls(first, (year, 3 * quarter), PeriodKind.QUARTER)

    @classmethod
    def year(cls, year: int) -> Period:
        return cls((year, 1), (year, 12), PeriodKind.YEAR)

    @classmethod
    def range(cls, first: Month, last: Month) -> Period:
        """Any whole months; a range that is exactly a month, quarter or year becomes one."""
        if _month_index(last) < _month_index(first):
            raise QueryError(
                "PERIOD_ORDER",
                "Periodens sista månad ligger före dess första.",
                "The period's last month is before its first.",
            )
        if first == last:
            return cls.month(*first)
        if first[0] == last[0] and first[1] % 3 == 1 and last[1] == first[1] + 2:
            return cls.quarter(first[0], (first[1] - 1) // 3 + 1)
        if first[0] == last[0] and first[1] == 1 and last[1] == 12:
            return cls.year(first[0])
        return cls(first, last, PeriodKind.RANGE)

    @classmethod
    def parse(cls, text: str) -> Period:
        text = text.strip()
        if ".." in text:
            first, _, last = text.partition("..")
            return cls.range(_parse_month(first), _parse_month(last))
        if m := re.fullmatch(r"(\d{4})-?[QqKk]([1-4])", text):
            return cls.quarter(_year(m[1]), int(m[2]))
        if re.fullmatch(r"\d{4}", text):
            return cls.year(_year(text))
        return cls.month(*_parse_month(text))

    def contains(self, other: Period) -> bool:
        return self.first_month <= other.first_month and other.last_month <= self.last_month


def _year(text: str) -> int:
    year = int(text)
    if not 1900 <= year <= 2200:
        raise _bad_period(text)
    return year


def _parse_month(text: str) -> Month:
    m = re.fullmatch(r"(\d{4})-?(\d{2})", text.strip())
    if not m or not 1 <= int(m[2]) <= 12:
        raise _bad_period(text)
    return (_year(m[1]), int(m[2]))


def _bad_period(text: str) -> QueryError:
    return QueryError(
        "PERIOD_INVALID",
        f"Perioden {text[:20]!r} kan inte läsas. Skriv en månad (2026-10), ett kvartal "
        "(2026-Q3), ett år (2026) eller ett intervall av månader (2025-11..2026-10).",
        f"The period {text[:20]!r} cannot be read. Give a month (2026-10), a quarter "
        "(2026-Q3), a year (2026) or a range of months (2025-11..2026-10).",
    )


# --- geographies --------------------------------------------------------------------


class GeographyKind(StrEnum):
    MUNICIPALITY = "municipality"
    COUNTY = "county"
    COUNTRY = "country"
    GROUP = "group"


COUNTRY_CODE = "SE"
GROUP_PREFIX = "g:"


@dataclass(frozen=True)
class Geography:
    """A municipality, a county, the whole country or a municipality group.

    ``municipalities`` are the kommunkoder it covers (all 290 for the country),
    resolved against the registers when parsed.
    """

    kind: GeographyKind
    code: str
    name: str
    municipalities: frozenset[str]

    def __str__(self) -> str:
        return self.code

    @property
    def county_code(self) -> str | None:
        """The county a municipality or county lies in; None for the country and groups."""
        if self.kind is GeographyKind.COUNTY:
            return self.code
        return None

    @classmethod
    def parse(cls, text: str) -> Geography:
        """Resolve a geography code against the registers (municipalities, counties, groups)."""
        from inuk.organisations.models import Municipality, MunicipalityGroup

        text = text.strip()
        if text.upper() in (COUNTRY_CODE, "00", "RIKET"):
            codes = frozenset(Municipality.objects.values_list("code", flat=True))
            return cls(GeographyKind.COUNTRY, COUNTRY_CODE, "Riket", codes)
        if text.lower().startswith(GROUP_PREFIX):
            group = MunicipalityGroup.objects.filter(slug=text[len(GROUP_PREFIX) :]).first()
            if group is None:
                raise _bad_geography(text)
            codes = frozenset(group.municipalities.values_list("code", flat=True))
            return cls(GeographyKind.GROUP, GROUP_PREFIX + group.slug, group.name, codes)
        if re.fullmatch(r"\d{2}", text):
            in_county = Municipality.objects.filter(county_code=text)
            rows = list(in_county.values_list("code", "county_name"))
            if not rows:
                raise _bad_geography(text)
            return cls(GeographyKind.COUNTY, text, rows[0][1], frozenset(c for c, _ in rows))
        if re.fullmatch(r"\d{3,4}", text):
            municipality = Municipality.objects.filter(code=text.zfill(4)).first()
            if municipality is None:
                raise _bad_geography(text)
            return cls(
                GeographyKind.MUNICIPALITY,
                municipality.code,
                municipality.name,
                frozenset({municipality.code}),
            )
        raise _bad_geography(text)


def _bad_geography(text: str) -> QueryError:
    return QueryError(
        "GEOGRAPHY_UNKNOWN",
        f"Geografin {text[:20]!r} finns inte. Ange en kommunkod (0114), en länskod (01), "
        "SE för hela riket eller g:NAMN för en kommungrupp.",
        f"There is no geography {text[:20]!r}. Give a municipality code (0114), a county "
        "code (01), SE for the whole country or g:NAME for a municipality group.",
    )


# --- the question -------------------------------------------------------------------

MAX_GEOGRAPHIES = 30


@dataclass(frozen=True)
class Query:
    indicator: Indicator
    period: Period
    geographies: tuple[Geography, ...]
    by: tuple[Dimension, ...] = ()
    source: Source = Source.BOTH

    @classmethod
    def parse(
        cls,
        *,
        indicator: str,
        period: str,
        geographies: Sequence[str] | str,
        by: Iterable[str] | str = (),
        source: str = "both",
    ) -> Query:
        """A question from the strings a URL, the API or the command gives."""
        try:
            parsed_indicator = Indicator(indicator)
        except ValueError:
            raise QueryError(
                "INDICATOR_UNKNOWN",
                f"Indikatorn {indicator[:30]!r} finns inte. Välj bland: " + ", ".join(Indicator),
                f"There is no indicator {indicator[:30]!r}. Choose from: " + ", ".join(Indicator),
            ) from None
        if isinstance(geographies, str):
            geographies = [g for g in geographies.split(",") if g.strip()]
        if not geographies:
            raise QueryError(
                "GEOGRAPHY_MISSING",
                "Ange minst en geografi.",
                "Give at least one geography.",
            )
        if len(geographies) > MAX_GEOGRAPHIES:
            raise QueryError(
                "GEOGRAPHY_TOO_MANY",
                f"Högst {MAX_GEOGRAPHIES} geografier åt gången.",
                f"At most {MAX_GEOGRAPHIES} geographies at a time.",
            )
        parsed_geographies: list[Geography] = []
        for text in geographies:
            geography = Geography.parse(text)
            if geography not in parsed_geographies:
                parsed_geographies.append(geography)
        if isinstance(by, str):
            by = [b for b in by.split(",") if b.strip()]
        dimensions: list[Dimension] = []
        for name in by:
            try:
                dimension = Dimension(name.strip())
            except ValueError:
                raise QueryError(
                    "BREAKDOWN_UNKNOWN",
                    f"Det går inte att dela upp efter {name[:20]!r}. Välj bland: "
                    + ", ".join(Dimension),
                    f"Cannot break down by {name[:20]!r}. Choose from: " + ", ".join(Dimension),
                ) from None
            if dimension in dimensions:
                raise QueryError(
                    "BREAKDOWN_REPEATED",
                    "Samma uppdelning två gånger.",
                    "The same breakdown twice.",
                )
            dimensions.append(dimension)
        if len(dimensions) > 2:
            raise QueryError(
                "BREAKDOWN_TOO_MANY",
                "Högst två uppdelningar åt gången.",
                "At most two breakdowns at a time.",
            )
        try:
            parsed_source = Source(source.strip() or "both")
        except ValueError:
            raise QueryError(
                "SOURCE_UNKNOWN",
                "Källan ska vara municipal (kommunens), af (Arbetsförmedlingens) "
                "eller both (båda).",
                "The source must be municipal, af or both.",
            ) from None
        return cls(
            parsed_indicator,
            Period.parse(period),
            tuple(parsed_geographies),
            tuple(dimensions),
            parsed_source,
        )
