"""Statistics: ``/api/v1/stats``, ``/api/v1/stats/{indicator}`` and ``.../delivery-follow-up``.

Every figure takes one way: the question is parsed (``Query.parse``), computed
(``engine.compute``), protected for the caller (``disclosure.protect`` with
``disclosure.audience_of``) and rendered by ``inuk.stats.render``, the same
functions ``inuk stats`` and the pages use. Who may ask at all is
``inuk.accounts.scoping``'s answer: a user with a statistics role, or a token
with the ``read`` permission; the delivery follow-up is for AF only.

The answer's format is chosen by ``format=`` (``json``, ``csv``, ``xlsx``,
``json-stat``) or else by the ``Accept`` header (``text/csv``, the Excel
media type); JSON otherwise. Files (CSV, Excel, JSON-stat) are exports and
audited as such.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Field, Query, Router, Schema

from inuk.accounts.scoping import may_follow_up_deliveries, statistics_access
from inuk.api.auth import Principal, caller_name, principal
from inuk.api.errors import ApiError
from inuk.api.schemas import ErrorBody
from inuk.audit.log import Event
from inuk.audit.log import record as audit
from inuk.client import client_address
from inuk.stats import follow_up, render
from inuk.stats.answers import answer, answers
from inuk.stats.disclosure import (
    TRUE_FIGURES,
    Audience,
    audience_of,
    configured_method,
)
from inuk.stats.explorer import MAX_PERIODS
from inuk.stats.indicators import COMMON_EN, COMMON_SV, INDICATORS
from inuk.stats.query import Period, QueryError
from inuk.stats.query import Query as Question
from inuk.stats.table import Published, periods, series

router = Router(tags=["statistics"])

FORMATS = ("json", "csv", "xlsx", "json-stat")


# --- schemas -------------------------------------------------------------------------


class IndicatorOut(Schema):
    id: str
    number: int
    name_sv: str
    name_en: str
    unit_sv: str
    unit_en: str
    methods_sv: str
    methods_en: str
    url: str = Field(description="where its figures are asked for")


class ProtectionOut(Schema):
    method: str = Field(description="cell-key, threshold or none")
    parameters: dict[str, Any]
    description_sv: str
    description_en: str


class IndicatorList(Schema):
    indicators: list[IndicatorOut]
    common_sv: str = Field(description="rules every indicator shares")
    common_en: str
    protection: ProtectionOut = Field(description="how the caller's figures are protected")
    marks_sv: str
    marks_en: str


class StatsParams(Schema):
    period: list[str] = Field(
        description="2026-10 (month), 2026-Q3 (quarter), 2026 (year), 2025-11..2026-10 (range); "
        "repeat or comma-separate for a series of periods (at most 36), each its own rows",
    )
    geography: list[str] = Field(
        description="repeat or comma-separate: 0114 (municipality), 01 (county), SE (country), "
        "g:SLUG (group); each is its own series, never summed with the others",
    )
    by: list[str] = Field([], description="zero to two of: code, sex, age, source")
    source: str = Field("both", max_length=20, description="municipal, af or both")
    format: str | None = Field(
        None, pattern="^(json|csv|xlsx|json-stat)$", description="overrides the Accept header"
    )


class StatRow(Schema):
    indicator: str
    geography: str = Field(description="kommunkod, county code, SE or g:GROUP")
    geography_name: str
    geography_kind: str
    period: str
    code: str | None = Field(None, description="with by=code: the category ('total': all)")
    sex: str | None = Field(None, description="with by=sex: K, M or total")
    age: str | None = Field(None, description="with by=age: 16-19, 20-24, 25-29, 30+ or total")
    source: str | None = Field(None, description="with by=source: municipal, af or total")
    value: int | None = Field(description="null when status is a mark")
    status: str = Field(description="'' or a mark: '..' protected, '-' no data, '.' n/a")
    share: float | None = Field(None, description="results: value / base, 0–1")
    share_status: str | None = None
    base: int | None = Field(None, description="results: persons whose intervention ended")
    base_status: str | None = None
    median_days: float | None = Field(None, description="ended: median length in days")
    median_status: str | None = None


class StatAnswer(Schema):
    indicator: str
    name_sv: str
    name_en: str
    unit_sv: str
    unit_en: str
    period: str
    first_day: str
    last_day: str
    by: list[str]
    source: str
    methods_url: str
    protection: ProtectionOut
    marks_sv: str
    marks_en: str
    rows: list[StatRow]


class LastDeliveryOut(Schema):
    id: str
    received_at: str
    status: str = Field(description="applied, rejected, refused, ..., or withdrawn")
    accepted: int
    rejected: int


class MonthOut(Schema):
    month: str
    state: str = Field(description="delivered, late, open or not_required")


class FollowUpLine(Schema):
    kommunkod: str
    name: str
    county_code: str
    agreement_state: str
    late: bool
    months_late: int
    last_delivery: LastDeliveryOut | None
    months: list[MonthOut]


class FollowUpAnswer(Schema):
    due_day: int
    methods_sv: str
    methods_en: str
    months: list[str]
    municipalities: list[FollowUpLine]


# --- the indicators ---------------------------------------------------------------------


def _methods_url(request: HttpRequest, slug: str) -> str:
    return request.build_absolute_uri(reverse("api-1:stats-indicators")) + f"#{slug}"


def _protection_for(caller: Principal) -> dict[str, Any]:
    method = TRUE_FIGURES if audience_of(caller) is Audience.TRUE else configured_method()
    protection = method.protection
    return {
        "method": protection.method,
        "parameters": protection.parameters,
        "description_sv": protection.description_sv,
        "description_en": protection.description_en,
    }


def _statistics_caller(request: HttpRequest) -> Principal:
    caller = principal(request)
    if statistics_access(caller) is None:
        raise ApiError("NOT_ALLOWED_STATISTICS")
    return caller


@router.get(
    "/stats",
    response={200: IndicatorList, 401: ErrorBody, 403: ErrorBody, 429: ErrorBody},
    url_name="stats-indicators",
    summary="The indicators and their methods texts / Indikatorerna och deras definitioner",
)
def list_indicators(request: HttpRequest):
    """Every indicator with its definition (methods text) in Swedish and English, the rules
    they share, and how the caller's figures are protected."""
    caller = _statistics_caller(request)
    indicators = [
        {
            "id": d.slug,
            "number": d.number,
            "name_sv": d.name_sv,
            "name_en": d.name_en,
            "unit_sv": d.unit_sv,
            "unit_en": d.unit_en,
            "methods_sv": d.methods_sv,
            "methods_en": d.methods_en,
            "url": request.build_absolute_uri(reverse("api-1:stats", kwargs={"indicator": d.slug})),
        }
        for d in INDICATORS
    ]
    methods_sv, methods_en = follow_up.methods_texts()
    indicators.append(
        {
            "id": follow_up.SLUG,
            "number": 6,
            "name_sv": follow_up.NAME_SV,
            "name_en": follow_up.NAME_EN,
            "unit_sv": "kommuner",
            "unit_en": "municipalities",
            "methods_sv": methods_sv,
            "methods_en": methods_en,
            "url": request.build_absolute_uri(reverse("api-1:stats-follow-up")),
        }
    )
    return {
        "indicators": indicators,
        "common_sv": COMMON_SV,
        "common_en": COMMON_EN,
        "protection": _protection_for(caller),
        "marks_sv": render.MARKS_SV,
        "marks_en": render.MARKS_EN,
    }


# --- the delivery follow-up ---------------------------------------------------------------


@router.get(
    "/stats/delivery-follow-up",
    response={200: FollowUpAnswer, 401: ErrorBody, 403: ErrorBody, 429: ErrorBody},
    url_name="stats-follow-up",
    summary="Delivery follow-up (AF) / Leveransuppföljning (AF)",
)
def delivery_follow_up(request: HttpRequest):
    """For every municipality with an agreement: its agreement's state, last delivery,
    which of the last twelve months it has delivered, late municipalities first.
    For AF's administrators and analysts, and AF's tokens with `read`."""
    if not may_follow_up_deliveries(principal(request)):
        raise ApiError("NOT_ALLOWED_FOLLOW_UP")
    lines = follow_up.follow_up()
    methods_sv, methods_en = follow_up.methods_texts()
    months = [m.label for m in lines[0].months] if lines else []
    return {
        "due_day": follow_up.due_day(),
        "methods_sv": methods_sv,
        "methods_en": methods_en,
        "months": months,
        "municipalities": [
            {
                "kommunkod": line.kommunkod,
                "name": line.name,
                "county_code": line.county_code,
                "agreement_state": str(line.agreement_state),
                "late": line.late,
                "months_late": line.months_late,
                "last_delivery": None
                if line.last_delivery is None
                else {
                    "id": line.last_delivery.id,
                    "received_at": line.last_delivery.received_at.isoformat(),
                    "status": line.last_delivery.status,
                    "accepted": line.last_delivery.accepted,
                    "rejected": line.last_delivery.rejected,
                },
                "months": [{"month": m.label, "state": str(m.state)} for m in line.months],
            }
            for line in lines
        ],
    }


# --- an indicator's figures --------------------------------------------------------------

#: With ``format=json-stat``: a JSON-stat 2.0 dataset (https://json-stat.org/full/).
_JSONSTAT_SCHEMA = {
    "type": "object",
    "description": "a JSON-stat 2.0 dataset: format=json-stat",
    "required": ["version", "class", "id", "size", "dimension", "value"],
    "properties": {"version": {"const": "2.0"}, "class": {"const": "dataset"}},
}


def _split(values: list[str]) -> list[str]:
    """Repeated parameters and comma lists alike: ``geography=0114&geography=01,SE``."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _format(request: HttpRequest, asked: str | None) -> str:
    if asked:
        return asked
    accept = request.headers.get("Accept", "")
    if "text/csv" in accept:
        return "csv"
    if render.MEDIA_TYPES["xlsx"] in accept:
        return "xlsx"
    return "json"


def published_for(caller: Principal, question: Question) -> Published:
    """The question's figures as ``caller`` may see them: the one way through for the API."""
    return answer(question, audience_of(caller))


def _file(request: HttpRequest, caller: Principal, published: Published, fmt: str) -> HttpResponse:
    question = published.query
    methods_url = _methods_url(request, str(question.indicator))
    if fmt == "csv":
        body: bytes | str = render.as_csv(published)
    elif fmt == "xlsx":
        body = render.as_xlsx(published, methods_url=methods_url)
    else:
        body = render.jsonstat_text(published, methods_url=methods_url)
    audit(
        Event.EXPORT,
        actor=caller_name(caller),
        organisation=caller.organisation.orgnr,
        target=f"stats:{question.indicator}",
        remote_addr=client_address(request),
        details={
            "export": "statistics",
            "format": fmt,
            "period": [period.label for period in periods(published)],
            "geographies": [g.code for g in question.geographies],
            "by": [str(d) for d in question.by],
            "source": str(question.source),
            "protection": published.protection.method,
            "rows": len(published.rows),
        },
    )
    response = HttpResponse(body, content_type=render.MEDIA_TYPES[fmt])
    if fmt != "json-stat":
        extension = {"csv": "csv", "xlsx": "xlsx"}[fmt]
        found = periods(published)
        span = found[0].label if len(found) == 1 else f"{found[0].label}_{found[-1].label}"
        name = f"inuk-{question.indicator}-{span.replace('..', '_')}.{extension}"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Link"] = f'<{methods_url}>; rel="describedby"'
    return response


@router.get(
    "/stats/{indicator}",
    response={200: StatAnswer, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 429: ErrorBody},
    url_name="stats",
    summary="An indicator's figures / En indikators värden",
    exclude_unset=True,
    openapi_extra={
        # 200 as an int, as in ``response``, so that the two merge into one entry.
        "responses": {
            200: {
                "description": "The rows, as JSON (default), CSV, Excel or JSON-stat 2.0.",
                "content": {
                    "application/json": {
                        "schema": {
                            "oneOf": [
                                {"$ref": "#/components/schemas/StatAnswer"},
                                _JSONSTAT_SCHEMA,
                            ]
                        }
                    },
                    "text/csv": {"schema": {"type": "string"}},
                    render.MEDIA_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}},
                },
            }
        }
    },
)
def indicator_figures(request: HttpRequest, indicator: str, params: Query[StatsParams]):
    """The figures of an indicator (participants, started, ended, results, collaboration)
    for a period, one or more geographies side by side, and up to two breakdowns, each
    category with its total. Protected for every caller but AF's national analysts; the
    answer names the method.

    400 answers carry the question's own code: INDICATOR_UNKNOWN, PERIOD_INVALID,
    PERIOD_ORDER, GEOGRAPHY_UNKNOWN, GEOGRAPHY_MISSING, GEOGRAPHY_TOO_MANY,
    BREAKDOWN_UNKNOWN, BREAKDOWN_REPEATED, BREAKDOWN_TOO_MANY, SOURCE_UNKNOWN."""
    caller = _statistics_caller(request)
    labels = _split(params.period)
    try:
        if not labels or len(labels) > MAX_PERIODS or any(len(p) > 40 for p in labels):
            raise QueryError(
                "PERIOD_INVALID",
                f"Ange en till {MAX_PERIODS} perioder.",
                f"Give one to {MAX_PERIODS} periods.",
            )
        question = Question.parse(
            indicator=indicator,
            period=labels[0],
            geographies=_split(params.geography),
            by=_split(params.by),
            source=params.source,
        )
        questions = [question] + [
            replace(question, period=Period.parse(label)) for label in labels[1:]
        ]
    except QueryError as exc:
        raise ApiError.bad_question(exc.code, exc.message_sv, exc.message_en) from None
    audience = audience_of(caller)
    published = series(answers(questions, audience))
    fmt = _format(request, params.format)
    if fmt != "json":
        return _file(request, caller, published, fmt)
    return render.as_json(published, methods_url=_methods_url(request, indicator))
