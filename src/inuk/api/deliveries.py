"""Deliveries and their receipts: ``/api/v1/deliveries``.

``POST`` takes a file in through ``inuk.intake.receive`` like every other
channel; its answer is always the receipt (``inuk.intake.receipts``), and the
HTTP status says what happened:

- 201 Created: received and already processed (small files are processed at
  once); ``status`` is final: applied, rejected (strict), refused or failed.
- 202 Accepted: received and waiting for a worker; fetch ``url`` until
  ``status`` is final.
- 200 OK with ``repeat: true`` and the header ``Inuk-Repeat: true``: the same
  bytes were received from the organisation before; this is that first
  receipt, and nothing changed.
- 200 OK for a dry run (``?dry_run=true``) of a file up to
  ``INUK_INLINE_MAX_BYTES``: the report, a receipt with ``id`` null. A larger
  dry run is answered 202 like a delivery, its receipt marked ``dry_run``;
  it ends ``checked`` with the same report, and nothing is stored.

Which receipts a caller sees is ``inuk.accounts.scoping``'s answer
(``delivery_scope``): besides those of the organisations it may see, a token
with the ``deliver`` permission sees the receipts of the deliveries it sent
itself, so that the sending system can follow what it sent. The list and its
filters are ``inuk.intake.listing``'s, the same the deliveries page shows, and
the CSV of a receipt's messages is ``inuk.intake.receipts.export_messages_csv``,
the receipt page's too. Another organisation's receipt id answers 404, never
403, so ids cannot be probed.
"""

from __future__ import annotations

import uuid

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.responses import Status
from pydantic import ValidationError as PydanticValidationError

from inuk.accounts.scoping import may_deliver, may_list_deliveries, may_withdraw
from inuk.api.auth import caller_name, principal
from inuk.api.errors import ApiError
from inuk.api.schemas import (
    DeliveryPage,
    DeliveryStatus,
    ErrorBody,
    Receipt,
    SubmittedReceipt,
    WithdrawalRequest,
)
from inuk.api.uploads import MULTIPART, RAW_TYPES, upload_from
from inuk.client import client_address
from inuk.intake import listing
from inuk.intake.models import Delivery
from inuk.intake.receipts import export_messages_csv, receipt
from inuk.intake.receive import Submission, dry_run, receive
from inuk.intake.withdrawal import WithdrawalRefused, withdraw_delivery

router = Router(tags=["deliveries"])

REPEAT_HEADER = "Inuk-Repeat"


def _delivery(request: HttpRequest, id: str) -> Delivery:
    try:
        public_id = uuid.UUID(id)
    except ValueError:
        raise ApiError("DELIVERY_NOT_FOUND") from None
    found = listing.visible(principal(request)).filter(public_id=public_id).first()
    if found is None:
        raise ApiError("DELIVERY_NOT_FOUND")
    return found


def _links(request: HttpRequest, delivery: Delivery) -> dict[str, str]:
    url = reverse("api-1:delivery", kwargs={"id": str(delivery.public_id)})
    csv_url = reverse("api-1:delivery-errors", kwargs={"id": str(delivery.public_id)})
    return {
        "url": request.build_absolute_uri(url),
        "errors_csv": request.build_absolute_uri(csv_url),
    }


def _receipt(request: HttpRequest, delivery: Delivery) -> dict:
    return {**receipt(delivery), **_links(request, delivery)}


# --- POST /deliveries -------------------------------------------------------------------

_FILE_SCHEMA = {"type": "string", "format": "binary"}
_BODY = {
    "required": True,
    "description": "The delivery file (XML, CSV or JSON, SPEC §2), as the raw body or as "
    "multipart/form-data in the field `file`.",
    "content": {
        **{media: {"schema": _FILE_SCHEMA} for media in RAW_TYPES if media},
        MULTIPART: {
            "schema": {"type": "object", "properties": {"file": _FILE_SCHEMA}, "required": ["file"]}
        },
    },
}


@router.post(
    "/deliveries",
    response={
        200: SubmittedReceipt,
        201: SubmittedReceipt,
        202: SubmittedReceipt,
        400: ErrorBody,
        401: ErrorBody,
        403: ErrorBody,
        411: ErrorBody,
        413: ErrorBody,
        415: ErrorBody,
        429: ErrorBody,
    },
    url_name="deliveries-create",
    summary="Send a delivery / Skicka en leverans",
    openapi_extra={"requestBody": _BODY},
)
def create_delivery(
    request: HttpRequest,
    response: HttpResponse,
    dry_run_: bool = Query(
        False, alias="dry_run", description="validate, authorisation included; store nothing"
    ),
    strict: bool = Query(False, description="all or nothing"),
    filename: str = Query("", max_length=255, description="the file's name, shown on receipts"),
    format: str | None = Query(
        None, pattern="^(xml|csv|json)$", description="read the file as this format"
    ),
):
    """Send a delivery file; the answer is its receipt.

    201: received and processed at once (small files); 202: received, to be
    processed by a worker, fetch `url` until the status is final; 200 with
    `repeat: true` and header `Inuk-Repeat: true`: the same bytes were received
    before and this is the first receipt; 200 for a dry run (no id), but 202
    for a dry run too large to check at once: fetch `url` until the status is
    `checked` (`dry_run: true` on its receipt; nothing is stored).
    The content type names the format (`application/xml`, `text/csv`,
    `application/json`); with `application/octet-stream` or as multipart it is
    told from the content; `?format=` overrides both.
    """
    caller = principal(request)
    organisation = caller.organisation
    if not may_deliver(caller):
        raise ApiError("NOT_ALLOWED_TO_DELIVER")
    upload = upload_from(request)
    submission = Submission(
        organisation=organisation,
        filename=filename or upload.filename,
        format=format or upload.format,
        strict=strict,
        submitted_by=caller_name(caller),
        channel="api",
        remote_addr=client_address(request),
    )
    started = timezone.now()
    if dry_run_:
        outcome = dry_run(upload.stream, submission)
        if not isinstance(outcome, Delivery):
            return Status(200, {**outcome, "repeat": False})
        delivery = outcome  # a large file: checked by a worker, 202 below
    else:
        delivery = receive(upload.stream, submission)
    answer = {**_receipt(request, delivery), "repeat": False}
    if delivery.received_at < started:
        answer["repeat"] = True
        status = 200
    else:
        status = 201 if delivery.is_final else 202
    response["Location"] = answer["url"]
    if answer["repeat"]:
        response[REPEAT_HEADER] = "true"
    return Status(status, answer)


# --- GET /deliveries --------------------------------------------------------------------


class DeliveryFilters(Schema):
    month: str | None = Field(
        None,
        pattern=r"^20\d\d-(0[1-9]|1[0-2])$",
        description="received in this month (Swedish time), e.g. 2026-11",
    )
    status: DeliveryStatus | None = None
    organisation: str | None = Field(
        None, pattern=r"^\d{10}$", description="the delivering organisation's number"
    )
    page: int = Field(1, ge=1, le=1_000_000)
    page_size: int = Field(50, ge=1, le=500)


def _summary(request: HttpRequest, delivery: Delivery) -> dict:
    return {
        "id": str(delivery.public_id),
        "status": delivery.status,
        "organisation": delivery.organisation.orgnr,
        "filename": delivery.filename,
        "channel": delivery.channel,
        "received_at": delivery.received_at.isoformat(),
        "finished_at": delivery.finished_at.isoformat() if delivery.finished_at else None,
        "checksum": delivery.checksum,
        "format": delivery.format,
        "size": delivery.size,
        "strict": delivery.strict,
        "dry_run": delivery.dry_run,
        "refusal_code": delivery.refusal_code or None,
        "counts": {
            "persons": delivery.persons,
            "transactions": delivery.transactions,
            "accepted": delivery.accepted,
            "rejected": delivery.rejected,
            "already_known": delivery.already_known,
            "warnings": delivery.warnings,
        },
        "url": _links(request, delivery)["url"],
    }


@router.get(
    "/deliveries",
    response={200: DeliveryPage, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 429: ErrorBody},
    url_name="deliveries",
    summary="List deliveries / Lista leveranser",
)
def list_deliveries(request: HttpRequest, filters: Query[DeliveryFilters]):
    """The deliveries the caller may see, newest first: its own organisation's (AF's
    administrators and identity officers: all), filtered by the month received,
    status and organisation."""
    caller = principal(request)
    if not may_list_deliveries(caller):
        raise ApiError("NOT_ALLOWED")
    deliveries = listing.deliveries(
        caller,
        listing.Filters(
            month=filters.month or "",
            status=filters.status or "",
            organisation=filters.organisation or "",
        ),
    )
    offset = (filters.page - 1) * filters.page_size
    page = deliveries[offset : offset + filters.page_size]
    return {
        "items": [_summary(request, delivery) for delivery in page],
        "count": deliveries.count(),
        "page": filters.page,
        "page_size": filters.page_size,
    }


# --- GET /deliveries/{id} ---------------------------------------------------------------


@router.get(
    "/deliveries/{id}",
    response={200: Receipt, 401: ErrorBody, 404: ErrorBody, 429: ErrorBody},
    url_name="delivery",
    summary="A receipt / En kvittens",
)
def get_delivery(request: HttpRequest, id: str):
    """The receipt of one delivery; 404 if there is none the caller may see."""
    return _receipt(request, _delivery(request, id))


# --- GET /deliveries/{id}/errors.csv ----------------------------------------------------


@router.get(
    "/deliveries/{id}/errors.csv",
    response={401: ErrorBody, 404: ErrorBody, 429: ErrorBody},
    url_name="delivery-errors",
    summary="All errors as CSV / Alla fel som CSV",
    openapi_extra={
        "responses": {
            "200": {
                "description": "Every error and warning of the receipt; UTF-8 with BOM, ';'.",
                "content": {"text/csv": {"schema": {"type": "string"}}},
            }
        }
    },
)
def delivery_errors_csv(request: HttpRequest, id: str):
    """Every error and warning of a receipt as CSV (`severity;code;field;line;path;...`)."""
    delivery = _delivery(request, id)
    return export_messages_csv(
        delivery, actor=caller_name(principal(request)), remote_addr=client_address(request)
    )


# --- POST /deliveries/{id}/withdrawal ---------------------------------------------------


@router.post(
    "/deliveries/{id}/withdrawal",
    response={
        200: Receipt,
        400: ErrorBody,
        401: ErrorBody,
        403: ErrorBody,
        404: ErrorBody,
        409: ErrorBody,
        429: ErrorBody,
    },
    url_name="delivery-withdrawal",
    summary="Withdraw a delivery / Återkalla en leverans",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": WithdrawalRequest.model_json_schema()}},
        }
    },
)
def withdraw(request: HttpRequest, id: str):
    """AF's administrator withdraws an applied delivery, with a reason; answers the receipt.

    Its transactions stop counting, and the current state and statistics are
    derived again as if it had never arrived. 409 if it is not applied or
    already withdrawn; 403 for anyone but AF's administrators (never a token).
    """
    # The body is read only after the caller is let in: whoever may not
    # withdraw learns no more than that, whatever they send.
    caller = principal(request)
    delivery = _delivery(request, id)
    if not may_withdraw(caller):
        raise ApiError("NOT_ALLOWED")
    try:
        reason = WithdrawalRequest.model_validate_json(request.body or b"{}").reason
    except PydanticValidationError:
        reason = ""
    try:
        withdraw_delivery(
            delivery,
            reason=reason,
            actor=caller_name(caller),
            remote_addr=client_address(request),
        )
    except WithdrawalRefused as refused:
        raise ApiError(refused.code) from None
    return _receipt(request, delivery)
