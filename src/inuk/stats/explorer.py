"""The indicator explorer's view of a question: a series of periods, side by side geographies.

The explorer asks one ``Query`` per period of a series (every month, quarter or
year from one to another) and puts the published answers together for its
table, its chart and its exports. Everything it shows has passed
``disclosure.protect()``: it never sees a ``Table``.

Its state is the query string, so a view can be bookmarked and shared::

    /statistik/?indicator=participants&period_type=month&from=2025-01&to=2026-10
               &geography=0380&geography=03&geography=SE&by=sex&source=both
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from django.http import QueryDict
from django.utils import timezone

from inuk.stats.answers import answers
from inuk.stats.disclosure import Audience
from inuk.stats.query import (
    COUNTRY_CODE,
    Indicator,
    Period,
    PeriodKind,
    Query,
    QueryError,
    Source,
)
from inuk.stats.table import Protection, Published, Row

#: The longest series the explorer draws: two years of months, or 12 years.
MAX_PERIODS = 36
DEFAULT_MONTHS = 24


def last_complete_month(today=None) -> tuple[int, int]:
    today = today or timezone.localdate()
    return (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)


def series(kind: PeriodKind, first: Period, last: Period) -> list[Period]:
    """Every period of ``kind`` from the one holding ``first`` to the one holding ``last``."""
    periods: list[Period] = []
    year, month = first.first_month
    if kind is PeriodKind.QUARTER:
        month = (month - 1) // 3 * 3 + 1
    elif kind is PeriodKind.YEAR:
        month = 1
    step = {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.YEAR: 12}[kind]
    while (year, month) <= last.last_month:
        if kind is PeriodKind.MONTH:
            periods.append(Period.month(year, month))
        elif kind is PeriodKind.QUARTER:
            periods.append(Period.quarter(year, (month - 1) // 3 + 1))
        else:
            periods.append(Period.year(year))
        index = year * 12 + month - 1 + step
        year, month = index // 12, index % 12 + 1
        if len(periods) > MAX_PERIODS:
            raise QueryError(
                "PERIOD_TOO_LONG",
                f"Högst {MAX_PERIODS} perioder åt gången: välj kvartal eller år, "
                "eller en kortare tid.",
                f"At most {MAX_PERIODS} periods at a time: choose quarters or years, "
                "or a shorter time.",
            )
    return periods


@dataclass
class View:
    """One explorer view: the question, its periods, and the published rows of every period."""

    query: Query  # the question for the last period; the others differ only in period
    period_kind: PeriodKind
    periods: list[Period]
    published: list[Published] = field(default_factory=list)

    @property
    def rows(self) -> list[Row]:
        return [row for answer in self.published for row in answer.rows]

    @property
    def protection(self) -> Protection | None:
        return self.published[0].protection if self.published else None

    def queries(self) -> list[Query]:
        return [replace(self.query, period=period) for period in self.periods]

    def answer(self, audience: Audience) -> View:
        self.published = answers(self.queries(), audience)
        return self


def default_geographies(own_codes: Sequence[str], county_of: dict[str, str]) -> list[str]:
    """Own municipality, its county and the country; the country alone for AF."""
    codes: list[str] = []
    for code in sorted(own_codes)[:1]:
        codes.append(code)
        if code in county_of:
            codes.append(county_of[code])
    codes.append(COUNTRY_CODE)
    return codes


def from_params(params: QueryDict, *, default_geographies: list[str]) -> View:
    """The view a query string asks for, with defaults for what it leaves out.

    Raises ``QueryError`` for what cannot be asked, with the same codes and
    messages as the API.
    """
    indicator = params.get("indicator") or Indicator.PARTICIPANTS
    kind_name = params.get("period_type") or PeriodKind.MONTH
    if kind_name not in (PeriodKind.MONTH, PeriodKind.QUARTER, PeriodKind.YEAR):
        raise QueryError(
            "PERIOD_TYPE_UNKNOWN",
            "Periodtypen ska vara month (månad), quarter (kvartal) eller year (år).",
            "The period type must be month, quarter or year.",
        )
    kind = PeriodKind(kind_name)
    end_year, end_month = last_complete_month()
    last = Period.parse(params.get("to") or f"{end_year:04d}-{end_month:02d}")
    if params.get("from"):
        first = Period.parse(params.get("from", ""))
    else:
        back = {PeriodKind.MONTH: DEFAULT_MONTHS - 1, PeriodKind.QUARTER: 21, PeriodKind.YEAR: 24}
        index = last.last_month[0] * 12 + last.last_month[1] - 1 - back[kind]
        first = Period.month(index // 12, index % 12 + 1)
    if first.first_month > last.last_month:
        first, last = last, first
    geographies = [g for g in params.getlist("geography") if g.strip()] or default_geographies
    # Checked once here, so that a bad parameter is one clear error, not one per period.
    query = Query.parse(
        indicator=indicator,
        period=last.label,
        geographies=geographies,
        by=[b for b in params.getlist("by") if b.strip()],
        source=params.get("source") or Source.BOTH,
    )
    return View(query=query, period_kind=kind, periods=series(kind, first, last))
