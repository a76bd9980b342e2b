"""Published figures in each format they leave in: rows (JSON), CSV, Excel and JSON-stat 2.0.

One function per format, used by the API, ``inuk stats`` and the pages, so
that every route shows the same figures the same way. Each takes only a
``Published`` (what ``inuk.stats.disclosure.protect`` returns): nothing here
can see a true figure that was not meant to be shown.

Rows are shaped like Kolada's values: the indicator, the geography's code and
name, the period, one key per breakdown named by its dimension (``sex``,
``age``, ``code``, ``source``; ``total`` for the margin), the ``value`` and its
``status`` (empty, or a mark: ``..`` protected, ``-`` no data, ``.`` not
applicable, with ``value`` null). ``results`` adds the ``share`` (0–1) and
``base``, ``ended`` the ``median_days``, each with its own status. Every
format names the protection method and its parameters, and links to the
indicator's methods text.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable
from typing import Any

from inuk.stats.indicators import definition
from inuk.stats.query import Dimension, Indicator
from inuk.stats.table import Figure, Mark, Published, Row, periods

#: The measures a row carries beyond its value, by indicator: (key, label sv, label en).
MEASURES: dict[Indicator, tuple[tuple[str, str, str], ...]] = {
    Indicator.RESULTS: (("share", "Andel", "Share"), ("base", "Bas", "Base")),
    Indicator.ENDED: (("median_days", "Median längd i dagar", "Median length in days"),),
}

#: Each measure's key in a row and the key of its status.
STATUS_KEYS = {
    "value": "status",
    "share": "share_status",
    "base": "base_status",
    "median_days": "median_status",
}

MARKS_SV = "'..' skyddat värde, '-' uppgift saknas, '.' ej tillämpligt."
MARKS_EN = "'..' protected value, '-' no data, '.' not applicable."

CATEGORY_LABELS_SV = {
    "total": "Totalt",
    "K": "Kvinnor",
    "M": "Män",
    "municipal": "Kommunal",
    "af": "Arbetsförmedlingen",
}
DIMENSION_LABELS_SV = {
    Dimension.CODE: "Kod",
    Dimension.SEX: "Kön",
    Dimension.AGE: "Åldersgrupp vid start",
    Dimension.SOURCE: "Källa",
}

MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json-stat": "application/json; charset=utf-8",
}


def _measures(published: Published) -> tuple[tuple[str, str, str], ...]:
    return MEASURES.get(published.query.indicator, ())


def _figure(row: dict[str, Any], key: str, status_key: str, figure: Figure | None) -> None:
    figure = figure or Figure(None, Mark.NOT_APPLICABLE)
    value = figure.value
    if isinstance(value, float) and key == "share":
        value = round(value, 4)
    row[key] = None if figure.mark else value
    row[status_key] = str(figure.mark)


def row_dict(published: Published, row: Row) -> dict[str, Any]:
    """One row as the API's JSON gives it."""
    query = published.query
    out: dict[str, Any] = {
        "indicator": str(query.indicator),
        "geography": row.geography.code,
        "geography_name": row.geography.name,
        "geography_kind": str(row.geography.kind),
        "period": row.period.label,
    }
    for dimension, category in zip(query.by, row.categories, strict=True):
        out[str(dimension)] = category
    _figure(out, "value", "status", row.value)
    for key, _sv, _en in _measures(published):
        figure = getattr(row, key)
        _figure(out, key, STATUS_KEYS[key], figure)
    return out


def rows(published: Published) -> list[dict[str, Any]]:
    return [row_dict(published, row) for row in published.rows]


def protection_dict(published: Published) -> dict[str, Any]:
    protection = published.protection
    return {
        "method": protection.method,
        "parameters": protection.parameters,
        "description_sv": protection.description_sv,
        "description_en": protection.description_en,
    }


def as_json(published: Published, *, methods_url: str) -> dict[str, Any]:
    """The API's JSON answer: the question, the protection, the methods link and the rows."""
    query = published.query
    indicator = definition(query.indicator)
    return {
        "indicator": str(query.indicator),
        "name_sv": indicator.name_sv,
        "name_en": indicator.name_en,
        "unit_sv": indicator.unit_sv,
        "unit_en": indicator.unit_en,
        "period": ",".join(period.label for period in periods(published)),
        "first_day": periods(published)[0].first.isoformat(),
        "last_day": periods(published)[-1].last.isoformat(),
        "by": [str(d) for d in query.by],
        "source": str(query.source),
        "methods_url": methods_url,
        "protection": protection_dict(published),
        "marks_sv": MARKS_SV,
        "marks_en": MARKS_EN,
        "rows": rows(published),
    }


# --- CSV ----------------------------------------------------------------------------


def columns(published: Published) -> list[str]:
    """The columns of the CSV and Excel tables, in order: the JSON rows' keys and the method."""
    query = published.query
    names = ["indicator", "geography", "geography_name", "geography_kind", "period"]
    names += [str(d) for d in query.by]
    names += ["value", "status"]
    for key, _sv, _en in _measures(published):
        names += [key, STATUS_KEYS[key]]
    return [*names, "protection"]


def _protection_text(published: Published) -> str:
    protection = published.protection
    parameters = ", ".join(f"{k}={v}" for k, v in sorted(protection.parameters.items()))
    return f"{protection.method} ({parameters})" if parameters else protection.method


def _table_lines(published: Published) -> Iterable[list[Any]]:
    names = columns(published)
    method = _protection_text(published)
    yield names
    for row in rows(published):
        row["protection"] = method
        yield [row[name] for name in names]


def _csv_value(value: Any) -> Any:
    return "" if value is None else value


def as_csv(published: Published) -> str:
    """The rows as CSV (``;``, UTF-8 with BOM for Excel), a column naming the protection.

    A mark leaves the value empty and stands in its status column, as in the
    JSON rows. The methods text is linked from the answer's ``Link`` header.
    """
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    for line in _table_lines(published):
        writer.writerow([_csv_value(value) for value in line])
    return buffer.getvalue()


# --- Excel --------------------------------------------------------------------------


def as_xlsx(published: Published, *, methods_url: str) -> bytes:
    """The rows on a sheet "Data" and the definitions, method and marks on a sheet "Metod"."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Data"
    for number, line in enumerate(_table_lines(published)):
        sheet.append(line)
        if number == 0:
            for cell in sheet[1]:
                cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"

    query = published.query
    indicator = definition(query.indicator)
    protection = published.protection
    about = workbook.create_sheet("Metod")
    for about_line in (
        ("Indikator / Indicator", f"{indicator.name_sv} / {indicator.name_en}"),
        ("Enhet / Unit", f"{indicator.unit_sv} / {indicator.unit_en}"),
        ("Period", _period_text(published)),
        ("Källa / Source", str(query.source)),
        ("Definition (sv)", indicator.methods_sv),
        ("Definition (en)", indicator.methods_en),
        ("Röjandeskydd / Protection", _protection_text(published)),
        ("Skydd (sv)", protection.description_sv),
        ("Protection (en)", protection.description_en),
        ("Tecken / Marks", f"{MARKS_SV} / {MARKS_EN}"),
        ("Metodbeskrivning / Methods", methods_url),
    ):
        about.append(about_line)
    about.column_dimensions["A"].width = 28
    about.column_dimensions["B"].width = 120
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# --- JSON-stat 2.0 -----------------------------------------------------------------


def _period_text(published: Published) -> str:
    """``2026-10 (2026-10-01 – 2026-10-31)``, or a series' first and last periods."""
    found = periods(published)
    first, last = found[0], found[-1]
    labels = first.label if len(found) == 1 else f"{first.label} – {last.label}"
    return f"{labels} ({first.first} – {last.last})"


def _category(labels: dict[str, str]) -> dict[str, Any]:
    return {"index": list(labels), "label": labels}


def as_jsonstat(published: Published, *, methods_url: str) -> dict[str, Any]:
    """One JSON-stat 2.0 dataset: geography x period x each breakdown x measure.

    Values are row-major over ``id``, the measure varying fastest (the value,
    and for ``results`` the share and base, for ``ended`` the median). A mark
    makes the value null and stands in ``status`` at the value's index, as
    Statistics Sweden's and Eurostat's APIs mark theirs.
    """
    query = published.query
    indicator = definition(query.indicator)
    measures = [("value", indicator.name_sv, indicator.name_en)]
    measures += list(_measures(published))

    geographies: dict[str, str] = {}
    for row in published.rows:
        geographies.setdefault(row.geography.code, row.geography.name)
    breakdowns: list[dict[str, str]] = [{} for _ in query.by]
    for row in published.rows:
        for position, category in enumerate(row.categories):
            breakdowns[position].setdefault(category, CATEGORY_LABELS_SV.get(category, category))

    period_labels = [period.label for period in periods(published)]
    ids = ["geography", "period", *(str(d) for d in query.by), "measure"]
    sizes = [len(geographies), len(period_labels), *(len(b) for b in breakdowns), len(measures)]
    dimension: dict[str, Any] = {
        "geography": {"label": "Geografi", "category": _category(geographies)},
        "period": {"label": "Period", "category": _category({p: p for p in period_labels})},
    }
    for dim, labels in zip(query.by, breakdowns, strict=True):
        dimension[str(dim)] = {"label": DIMENSION_LABELS_SV[dim], "category": _category(labels)}
    units = {
        "value": {"label": indicator.unit_sv, "decimals": 0},
        "share": {"label": "andel", "decimals": 4},
        "base": {"label": indicator.unit_sv, "decimals": 0},
        "median_days": {"label": "dagar", "decimals": 1},
    }
    dimension["measure"] = {
        "label": "Mått",
        "category": {
            **_category({key: sv for key, sv, _en in measures}),
            "unit": {key: units[key] for key, _sv, _en in measures},
        },
    }

    values: list[int | float | None] = []
    status: dict[str, str] = {}
    # Row-major over ``id``: geography, then period, then the categories as the rows have them.
    geography_index = {code: i for i, code in enumerate(geographies)}
    period_index = {label: i for i, label in enumerate(period_labels)}
    ordered = sorted(
        enumerate(published.rows),
        key=lambda item: (
            geography_index[item[1].geography.code],
            period_index[item[1].period.label],
            item[0],
        ),
    )
    for _, row in ordered:
        for key, _sv, _en in measures:
            figure: Figure | None = getattr(row, key)
            figure = figure or Figure(None, Mark.NOT_APPLICABLE)
            if figure.mark:
                status[str(len(values))] = str(figure.mark)
                values.append(None)
            else:
                value = figure.value
                values.append(round(value, 4) if isinstance(value, float) else value)

    protection = published.protection
    dataset: dict[str, Any] = {
        "version": "2.0",
        "class": "dataset",
        "label": f"{indicator.name_sv}, {_period_text(published)}",
        "source": "INUK",
        "updated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "id": ids,
        "size": sizes,
        "role": {"geo": ["geography"], "time": ["period"], "metric": ["measure"]},
        "dimension": dimension,
        "value": values,
        "note": [
            indicator.methods_sv,
            protection.description_sv,
            MARKS_SV,
        ],
        "link": {"describedby": [{"href": methods_url, "label": "Metodbeskrivning / Methods"}]},
        "extension": {
            "indicator": str(query.indicator),
            "source": str(query.source),
            "protection": protection_dict(published),
        },
    }
    if status:
        dataset["status"] = status
    return dataset


def jsonstat_text(published: Published, *, methods_url: str) -> str:
    return json.dumps(as_jsonstat(published, methods_url=methods_url), ensure_ascii=False)
