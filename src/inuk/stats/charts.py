"""Charts of published figures, as plotly figure specifications the page carries.

The server decides what a chart shows, so that it is tested here and the
browser only draws it (``static/stats/charts.js``): a time series when the
question runs over several periods, bars when it is broken down or compares
places in one period. A value shown as a mark (``..``, ``-``, ``.``) is a gap
in the chart; the table beside it says why.

The colours are Okabe and Ito's palette, told apart by readers with any of
the common colour vision deficiencies, and each series also has its own
marker symbol or dash, so that nothing depends on colour alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from inuk.stats.labels import Labels, indicator_label
from inuk.stats.query import Indicator
from inuk.stats.table import Figure, Row

#: Okabe & Ito (2008), "Color Universal Design": blue, orange, green, reddish purple,
#: sky blue, vermillion, yellow, black.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "cross", "star", "hexagon")
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot", "solid", "dash")

TOTAL = "total"


@dataclass(frozen=True)
class Series:
    name: str
    x: list[str]
    y: list[float | int | None]


def plotted(row: Row, indicator: Indicator) -> Figure:
    """What the chart shows of a row: the share for results, the value otherwise."""
    if indicator is Indicator.RESULTS and row.share is not None:
        return row.share
    return row.value


def _number(figure: Figure, indicator: Indicator) -> float | int | None:
    if figure.mark or figure.value is None:
        return None
    if indicator is Indicator.RESULTS and isinstance(figure.value, float):
        return round(figure.value * 100, 1)
    return figure.value


def y_title(indicator: Indicator) -> str:
    return {
        Indicator.PARTICIPANTS: _("persons"),
        Indicator.STARTED: _("interventions"),
        Indicator.ENDED: _("interventions"),
        Indicator.RESULTS: _("share with a result, per cent"),
        Indicator.COLLABORATION: _("persons"),
    }[indicator]


def time_series(rows: Sequence[Row], indicator: Indicator, labels: Labels) -> list[Series]:
    """One line per geography (and category), over the periods, in the rows' order."""
    lines: dict[tuple[str, tuple[str, ...]], Series] = {}
    for row in rows:
        key = (row.geography.code, row.categories)
        if key not in lines:
            name = row.geography.name
            if row.categories:
                parts = [labels.category(c) for c in row.categories if c != TOTAL]
                name = " · ".join([name, *parts]) if parts else name
            lines[key] = Series(name, [], [])
        lines[key].x.append(row.period.label)
        lines[key].y.append(_number(plotted(row, indicator), indicator))
    return list(lines.values())


def bars(
    rows: Sequence[Row], indicator: Indicator, by: Sequence[str], labels: Labels
) -> list[Series]:
    """Bars for one period: categories of the first breakdown along the axis, one
    series per geography (and per category of a second breakdown); totals left out."""
    series: dict[tuple[str, str], Series] = {}
    for row in rows:
        if by and row.categories[0] == TOTAL:
            continue
        second = row.categories[1] if len(row.categories) > 1 else ""
        if second == TOTAL:
            continue
        key = (row.geography.code, second)
        if key not in series:
            name = row.geography.name
            if second:
                name = f"{name} · {labels.category(second)}"
            series[key] = Series(name, [], [])
        x = labels.category(row.categories[0]) if by else row.geography.name
        series[key].x.append(x)
        series[key].y.append(_number(plotted(row, indicator), indicator))
    return list(series.values())


def figure(
    rows: Sequence[Row],
    indicator: Indicator,
    by: Sequence[str],
    periods: int,
    filename: str,
    labels: Labels,
) -> dict:
    """The plotly specification of the chart of ``rows``: {data, layout, filename}."""
    if periods > 1 and not by:
        kind = "line"
        traces = time_series(rows, indicator, labels)
    else:
        last = rows[-1].period if rows else None
        kind = "bar"
        traces = bars([r for r in rows if r.period == last], indicator, by, labels)
    data = []
    for i, trace in enumerate(traces):
        colour = PALETTE[i % len(PALETTE)]
        spec: dict = {"name": trace.name, "x": trace.x, "y": trace.y}
        if kind == "line":
            spec |= {
                "type": "scatter",
                "mode": "lines+markers",
                "connectgaps": False,
                "line": {"color": colour, "width": 3, "dash": DASHES[i % len(DASHES)]},
                "marker": {"symbol": SYMBOLS[i % len(SYMBOLS)], "size": 7, "color": colour},
            }
        else:
            spec |= {
                "type": "bar",
                "marker": {
                    "color": colour,
                    "pattern": {"shape": ["", "/", ".", "x", "-", "|", "+", "\\"][i % 8]},
                },
            }
        data.append(spec)
    swedish = (get_language() or "sv").startswith("sv")
    layout = {
        "title": {"text": indicator_label(indicator)},
        "separators": ", " if swedish else ".,",
        "font": {
            "family": 'system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif',
            "size": 14,
            "color": "#1b1b1b",
        },
        "colorway": list(PALETTE),
        "margin": {"l": 60, "r": 20, "t": 50, "b": 60},
        "legend": {"orientation": "h", "y": -0.2},
        "hovermode": "x unified" if kind == "line" else "closest",
        "barmode": "group",
        "yaxis": {"title": {"text": y_title(indicator)}, "rangemode": "tozero"},
        "xaxis": {"type": "category"},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
    }
    return {"data": data, "layout": layout, "filename": filename, "kind": kind}
