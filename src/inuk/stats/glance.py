"""The latest month at a glance: each indicator beside the county and the country, with its trend.

What a start page shows of the statistics: for one month, each indicator's
published figure for a few geographies side by side, the change from the
same month a year earlier, and the last 24 months as a small line. Every
figure has passed ``disclosure.protect()``; a change is computed from two
published figures, never from true ones, and is not shown when either is a
mark.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import get_language

from inuk.stats.answers import answers
from inuk.stats.disclosure import Audience
from inuk.stats.indicators import INDICATORS, RESULT_WINDOW_DAYS, Definition
from inuk.stats.query import Geography, Indicator, Period, Query
from inuk.stats.table import Figure, Row

#: Months of the trend line; at least 13, so that it holds the same month a year earlier.
TREND_MONTHS = 24


def shown(row: Row) -> Figure:
    """The figure a card shows of a row: the share of results, the count otherwise."""
    if row.share is not None:
        return row.share
    return row.value


@dataclass
class Card:
    definition: Definition
    month: Period
    geographies: list[Geography]
    #: The month's figure for each geography, in order.
    figures: list[Figure] = field(default_factory=list)
    #: The first geography's figure a year earlier.
    year_before: Figure | None = None
    #: The first geography's figure for each of the last months, oldest first.
    trend: list[tuple[Period, Figure]] = field(default_factory=list)

    @property
    def name(self) -> str:
        swedish = (get_language() or "sv").startswith("sv")
        return self.definition.name_sv if swedish else self.definition.name_en

    @property
    def rows(self) -> list[tuple[Geography, Figure]]:
        return list(zip(self.geographies, self.figures, strict=True))

    @property
    def is_share(self) -> bool:
        return self.definition.id is Indicator.RESULTS

    @property
    def change(self) -> float | int | None:
        """This month minus the same month a year earlier, for the first geography."""
        now = self.figures[0] if self.figures else None
        before = self.year_before
        if now is None or before is None or now.mark or before.mark:
            return None
        if now.value is None or before.value is None:
            return None
        return now.value - before.value

    def sparkline(self, width: int = 200, height: int = 40) -> str:
        """The trend as the points of an SVG polyline; a marked month leaves a gap."""
        values = [f.value for _, f in self.trend if not f.mark and f.value is not None]
        if len(values) < 2:
            return ""
        low, high = min(values), max(values)
        span = (high - low) or 1
        step = width / max(1, len(self.trend) - 1)
        points = []
        for i, (_, figure) in enumerate(self.trend):
            if figure.mark or figure.value is None:
                continue
            y = height - 2 - (figure.value - low) / span * (height - 4)
            points.append(f"{i * step:.1f},{y:.1f}")
        return " ".join(points)


def settled(month: Period) -> Period:
    """The latest month, up to ``month``, whose results can all have been reported.

    A result counts up to 90 days after an intervention's end, so the share for
    a month that ended less than 90 days ago is still growing: the start page
    shows the latest month whose window has closed, and says which.
    """
    today = timezone.localdate()
    candidate = month
    while candidate.last + dt.timedelta(days=RESULT_WINDOW_DAYS) > today:
        candidate = months_back(candidate, 2)[0]
    return candidate


def months_back(month: Period, count: int) -> list[Period]:
    """``count`` months ending with ``month``, oldest first."""
    index = month.first_month[0] * 12 + month.first_month[1] - 1
    return [Period.month(i // 12, i % 12 + 1) for i in range(index - count + 1, index + 1)]


def glance(geographies: tuple[Geography, ...], month: Period, audience: Audience) -> list[Card]:
    """A card per indicator for ``month``: ``geographies`` side by side, the first one's trend."""
    queries: list[Query] = []
    months: list[Period] = []
    own = (geographies[0],)
    for definition in INDICATORS:
        shown_month = settled(month) if definition.id is Indicator.RESULTS else month
        months.append(shown_month)
        queries.append(Query(definition.id, shown_month, geographies))
        trend = months_back(shown_month, TREND_MONTHS)[:-1]
        queries.extend(Query(definition.id, period, own) for period in trend)
    published = iter(answers(queries, audience))
    cards = []
    for definition, shown_month in zip(INDICATORS, months, strict=True):
        card = Card(definition, shown_month, list(geographies))
        card.figures = [shown(row) for row in next(published).rows]
        year_before = months_back(shown_month, 13)[0]
        for period in months_back(shown_month, TREND_MONTHS)[:-1]:
            figure = shown(next(published).rows[0])  # the year before lies within the trend
            card.trend.append((period, figure))
            if period == year_before:
                card.year_before = figure
        card.trend.append((shown_month, card.figures[0]))
        cards.append(card)
    return cards
