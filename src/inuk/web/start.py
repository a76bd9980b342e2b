"""The start page: what each role opens first after logging in.

A user's roles add up, and so do the sections of the page:

- analyst of a municipality: the latest month at a glance, beside the county
  and the country, and the municipality's delivery state;
- reporter: the organisation's latest deliveries, the month due next, and
  the latest receipt's outcome;
- AF's administrator: the delivery follow-up, late municipalities first, and
  the national figures;
- AF's national analyst: the national figures, and the counties and groups
  side by side.

Which sections a user is shown is ``inuk.accounts.scoping``'s answer
(``statistics_access`` and ``overview_parts``). Every figure comes through
``inuk.stats.glance`` or the explorer's way, so it has passed disclosure
control for this user.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from inuk.accounts.scoping import (
    acting_user,
    overview_parts,
    own_municipality_codes,
    statistics_access,
)
from inuk.intake import listing
from inuk.organisations.models import Municipality, MunicipalityGroup
from inuk.stats import follow_up
from inuk.stats.answers import answers, follow_up_lines
from inuk.stats.disclosure import audience_of
from inuk.stats.explorer import last_complete_month
from inuk.stats.glance import glance, settled, shown
from inuk.stats.indicators import INDICATORS
from inuk.stats.query import (
    COUNTRY_CODE,
    GROUP_PREFIX,
    Geography,
    Indicator,
    Period,
    Query,
    month_label,
)


@dataclass(frozen=True)
class Due:
    month: str
    day: dt.date


def next_due(line: follow_up.FollowUp | None, today: dt.date) -> Due:
    """The month a reporter should deliver next, and the last day it is on time.

    The oldest month still open if there is one, else the current month.
    """
    open_months = (
        [m.month for m in line.months if m.state is follow_up.MonthState.OPEN] if line else []
    )
    month = open_months[0] if open_months else (today.year, today.month)
    return Due(month_label(month), follow_up.window(month, follow_up.due_day())[1])


def _geographies(codes: list[str]) -> tuple[Geography, ...]:
    return tuple(Geography.parse(code) for code in codes)


@login_required
def start(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    month = Period.month(*last_complete_month())
    audience = audience_of(user)
    access = statistics_access(user)
    parts = overview_parts(user)
    context: dict = {"nav": "start", "month": month, "sections": []}

    lines = {line.kommunkod: line for line in follow_up_lines()}
    own_codes = sorted(own_municipality_codes(user.organisation))
    if access is not None and access.own_codes:
        own = sorted(access.own_codes)[0]
        county = Municipality.objects.get(code=own).county_code
        geographies = _geographies([own, county, COUNTRY_CODE])
        context["own"] = {
            "geographies": geographies,
            "cards": glance(geographies, month, audience),
            "follow_up": lines.get(own),
        }
    if parts.deliveries:
        latest = list(listing.visible(user).deliveries()[:5])
        context["reporter"] = {
            "deliveries": latest,
            "latest_final": next((d for d in latest if d.is_final), None),
            "due": next_due(lines.get(own_codes[0]) if own_codes else None, timezone.localdate()),
        }
    if parts.follow_up:
        context["follow_up"] = list(lines.values())
    if parts.country:
        country = _geographies([COUNTRY_CODE])
        context["national"] = {"cards": glance(country, month, audience)}
    if parts.regions:
        counties = list(
            Municipality.objects.order_by("county_code")
            .values_list("county_code", flat=True)
            .distinct()
        )
        groups = [
            GROUP_PREFIX + slug for slug in MunicipalityGroup.objects.values_list("slug", flat=True)
        ]
        context["regions"] = _side_by_side(_geographies(counties + groups), month, audience)
    return render(request, "web/start.html", context)


def _side_by_side(geographies: tuple[Geography, ...], month: Period, audience) -> dict:
    """Every indicator for ``geographies`` in one month: a row per geography."""
    # Results as on the cards: for the latest month whose 90-day window has closed.
    months = [
        settled(month) if definition.id is Indicator.RESULTS else month for definition in INDICATORS
    ]
    queries = [
        Query(definition.id, shown_month, geographies)
        for definition, shown_month in zip(INDICATORS, months, strict=True)
    ]
    columns = [
        (definition, [shown(row) for row in published.rows])
        for definition, published in zip(INDICATORS, answers(queries, audience), strict=True)
    ]
    rows = [
        (geography, [(definition, figures[i]) for definition, figures in columns])
        for i, geography in enumerate(geographies)
    ]
    headings = [
        (definition, None if shown_month == month else shown_month)
        for definition, shown_month in zip(INDICATORS, months, strict=True)
    ]
    return {"indicators": headings, "rows": rows}
