"""The statistics pages: the indicator explorer and the methods page.

Thin: the explorer's question is read by ``inuk.stats.explorer``, answered by
the engine, protected by ``disclosure.protect()`` and drawn by
``inuk.stats.charts``. Its JSON twin, CSV and Excel are the API's answers to
the same question (``/api/v1/stats/...``), linked from the page.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language

from inuk.accounts.scoping import acting_user, statistics_access
from inuk.organisations.models import Municipality, MunicipalityGroup
from inuk.stats import charts, explorer, follow_up
from inuk.stats.disclosure import audience_of
from inuk.stats.indicators import INDICATORS, definition
from inuk.stats.labels import Labels, dimension_label
from inuk.stats.query import COUNTRY_CODE, GROUP_PREFIX, Dimension, Indicator, QueryError, Source


def require_statistics(view):
    from functools import wraps

    from django.contrib.auth.views import redirect_to_login
    from django.core.exceptions import PermissionDenied

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if statistics_access(acting_user(request)) is None:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _county_of() -> dict[str, str]:
    return dict(Municipality.objects.values_list("code", "county_code"))


def default_geographies(user) -> list[str]:
    access = statistics_access(user)
    own = sorted(access.own_codes) if access else []
    return explorer.default_geographies(own, _county_of())


def api_url(view: explorer.View, format: str) -> str:
    """The API's answer to the same question, as JSON, CSV or Excel."""
    query = view.query
    params: list[tuple[str, str]] = [("period", period.label) for period in view.periods]
    params += [("geography", g.code) for g in query.geographies]
    params += [("by", str(d)) for d in query.by]
    params += [("source", str(query.source))]
    if format != "json":
        params.append(("format", format))
    return reverse("api-1:stats", args=[query.indicator]) + "?" + urlencode(params)


@require_statistics
def explorer_page(request: HttpRequest) -> HttpResponse:
    """Choose an indicator, periods, breakdowns and places; see chart, table and exports."""
    labels = Labels()
    language = get_language() or "sv"
    error: QueryError | None = None
    view: explorer.View | None = None
    try:
        view = explorer.from_params(
            request.GET, default_geographies=default_geographies(acting_user(request))
        )
        view.answer(audience_of(acting_user(request)))
    except QueryError as problem:
        error = problem
    context: dict[str, Any] = {
        "nav": "statistics",
        "error": error,
        "view": view,
        "labels": labels,
        "form": _form_state(request, view),
    }
    if view is not None:
        indicator = definition(view.query.indicator)
        context |= {
            "definition": indicator,
            "indicator_name": indicator.name_sv if language.startswith("sv") else indicator.name_en,
            "table": _table(view, labels),
            "chart": charts.figure(
                view.rows,
                view.query.indicator,
                [str(d) for d in view.query.by],
                len(view.periods),
                f"inuk-{view.query.indicator}-{view.periods[0].label}-{view.periods[-1].label}",
                labels,
            ),
            "exports": {
                "json": api_url(view, "json"),
                "csv": api_url(view, "csv"),
                "xlsx": api_url(view, "xlsx"),
            },
        }
    return render(request, "stats/explorer.html", context, status=400 if error else 200)


def methods_page(request: HttpRequest) -> HttpResponse:
    """What each indicator counts, how figures are protected, and what the marks mean."""
    from inuk.stats.disclosure import configured_method

    language = get_language() or "sv"
    swedish = language.startswith("sv")
    protection = configured_method().protection
    follow_up_sv, follow_up_en = follow_up.methods_texts()
    return render(
        request,
        "stats/methods.html",
        {
            "nav": "statistics",
            "indicators": [
                {
                    "id": d.slug,
                    "name": d.name_sv if swedish else d.name_en,
                    "unit": d.unit_sv if swedish else d.unit_en,
                    "text": d.methods_sv if swedish else d.methods_en,
                }
                for d in INDICATORS
            ],
            "protection": protection.description_sv if swedish else protection.description_en,
            "follow_up": follow_up_sv if swedish else follow_up_en,
        },
    )


def _form_state(request: HttpRequest, view: explorer.View | None) -> dict:
    """What the form shows: the choices, and which are chosen."""
    user = acting_user(request)
    access = statistics_access(user)
    own = sorted(access.own_codes) if access else []
    chosen = (
        [g.code for g in view.query.geographies]
        if view
        else [g for g in request.GET.getlist("geography")] or default_geographies(user)
    )
    counties = (
        Municipality.objects.order_by("county_code")
        .values_list("county_code", "county_name")
        .distinct()
    )
    municipalities = list(Municipality.objects.values_list("code", "name"))
    groups = list(MunicipalityGroup.objects.values_list("slug", "name"))
    language = get_language() or "sv"
    swedish = language.startswith("sv")
    return {
        "indicators": [(str(d.id), d.name_sv if swedish else d.name_en) for d in INDICATORS],
        "indicator": str(view.query.indicator) if view else request.GET.get("indicator", ""),
        "period_type": str(view.period_kind) if view else "month",
        "from": view.periods[0].first.strftime("%Y-%m") if view else "",
        "to": view.periods[-1].last.strftime("%Y-%m") if view else "",
        "dimensions": [(str(d), dimension_label(d)) for d in Dimension],
        "by": [str(d) for d in view.query.by] if view else [],
        "sources": [(str(s), s) for s in Source],
        "source": str(view.query.source) if view else "both",
        "own": [(code, name) for code, name in municipalities if code in own],
        "counties": list(counties),
        "municipalities": municipalities,
        "groups": [(GROUP_PREFIX + slug, name) for slug, name in groups],
        "country": COUNTRY_CODE,
        "chosen": chosen,
    }


def _table(view: explorer.View, labels: Labels) -> dict:
    """The explorer's table: a row per period and category, a column group per geography."""
    query = view.query
    geographies = list(query.geographies)
    measures = ["value"]
    if query.indicator is Indicator.RESULTS:
        measures = ["share", "value", "base"]
    elif query.indicator is Indicator.ENDED:
        measures = ["value", "median_days"]
    rows: dict[tuple, dict] = {}
    for row in view.rows:
        key = (row.period.label, row.categories)
        line = rows.setdefault(
            key,
            {
                "period": row.period.label,
                "categories": [labels.category(c) for c in row.categories],
                "cells": {},
            },
        )
        line["cells"][row.geography.code] = [getattr(row, m) for m in measures]
    body = []
    for line in rows.values():
        cells: list[tuple[Any, str]] = []
        for geography in geographies:
            values = line["cells"].get(geography.code, [None] * len(measures))
            cells.extend(zip(values, measures, strict=True))
        body.append({**line, "values": cells})
    return {
        "geographies": geographies,
        "measures": measures,
        "dimensions": [dimension_label(d) for d in query.by],
        "rows": body,
    }
