"""The shapes the API answers with, as its OpenAPI description publishes them.

A receipt is built by ``inuk.intake.receipts.receipt()`` (the one shape the
pages and ``inuk ingest --json`` share); these schemas only describe it, and
add the links a client follows.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Literal

from ninja import Field, Schema

from inuk.codes.models import Code
from inuk.intake.models import Delivery
from inuk.intake.receipts import DRY_RUN
from inuk.organisations.models import Organisation

if TYPE_CHECKING:
    DeliveryStatus = str
    ReceiptStatus = str
    CodeKind = str
    RegisterKind = str
else:
    # Literals of the models' own codes, so that the description lists each
    # value inline as it always has, and a code added to a model is published
    # with it. mypy cannot follow a Literal made at run time.
    DeliveryStatus = Literal[tuple(Delivery.Status.values)]
    ReceiptStatus = Literal[(*Delivery.Status.values, DRY_RUN)]
    CodeKind = Literal[tuple(Code.Kind.values)]
    #: The register lists the municipalities and AF, not suppliers or federations.
    RegisterKind = Literal[Organisation.Kind.MUNICIPALITY.value, Organisation.Kind.AGENCY.value]


class ErrorDetail(Schema):
    code: str = Field(description="stable error code, e.g. TOKEN_INVALID")
    message_sv: str
    message_en: str
    details: list[dict] | None = Field(
        None, description="for INVALID_REQUEST: which parameter was wrong (`where`) and why"
    )


class ErrorBody(Schema):
    error: ErrorDetail


class Counts(Schema):
    persons: int
    transactions: int
    accepted: int
    rejected: int
    already_known: int
    warnings: int


class Problem(Schema):
    """One error or warning: where, which field, a stable code, messages; values masked."""

    code: str
    field: str
    line: int | None
    path: str
    message_sv: str
    message_en: str
    value: str


class Refusal(Schema):
    code: str
    message_sv: str
    message_en: str


class WithdrawalInfo(Schema):
    withdrawn_at: str = Field(description="ISO 8601")
    reason: str


class WithdrawalRequest(Schema):
    reason: str = Field(description="why AF withdraws the delivery; kept and shown on the receipt")


class Receipt(Schema):
    """The receipt (kvittens) of a delivery, or of a dry run: answered at once (``id`` null,
    ``status`` dry_run), or, for a large file, kept for a worker (``dry_run`` true, ending
    ``checked``)."""

    id: str | None = Field(
        description="the receipt id (a UUID); null for a dry run answered at once"
    )
    status: ReceiptStatus = Field(
        description="received and processing: not final yet; applied, rejected (strict, "
        "with errors), refused (the whole file) and failed (the service could not process "
        "it after its last attempt; send it again): final; checked: a dry run's report, "
        "final, nothing stored; dry_run: a dry run answered at once"
    )
    dry_run: bool = Field(
        False, description="a dry run (provkörning): validated and reported, nothing stored"
    )
    organisation: str = Field(description="the delivering organisation's number")
    received_at: str | None = Field(None, description="ISO 8601")
    finished_at: str | None = Field(None, description="ISO 8601; null until final")
    checksum: str = Field(description="SHA-256 of the file, hex")
    format: str | None = None
    size: int | None = None
    strict: bool | None = None
    progress: float | None = Field(None, description="share of the file read, while processing")
    refusal: Refusal | None
    failure: Refusal | None = Field(
        None, description="why the service could not process the delivery (status failed)"
    )
    withdrawal: WithdrawalInfo | None = Field(
        None,
        description="set once AF has withdrawn the delivery: its transactions no longer count",
    )
    erased_persons: int = Field(
        0,
        description="persons erased (GDPR art. 17) from the kept file since it was received: "
        "the file was written again without them; checksum and counts stay those of the file "
        "as received",
    )
    counts: Counts
    errors: list[Problem] = Field(description="the first 1000 errors; all are in errors_csv")
    warnings: list[Problem]
    errors_total: int
    warnings_total: int
    url: str | None = Field(None, description="where to fetch this receipt again")
    errors_csv: str | None = Field(None, description="all errors and warnings as CSV")


class SubmittedReceipt(Receipt):
    repeat: bool = Field(
        False,
        description="true: the same bytes were delivered before; this is the first receipt",
    )


class DeliverySummary(Schema):
    id: str
    status: DeliveryStatus
    organisation: str
    filename: str
    channel: str
    received_at: str
    finished_at: str | None
    checksum: str
    format: str
    size: int
    strict: bool
    dry_run: bool = Field(description="a dry run: validated and reported, nothing stored")
    refusal_code: str | None
    counts: Counts
    url: str


class DeliveryPage(Schema):
    items: list[DeliverySummary]
    count: int = Field(description="deliveries matching the filters, on all pages")
    page: int
    page_size: int


class OrganisationOut(Schema):
    orgnr: str
    name: str
    kind: RegisterKind
    kommunkod: str | None
    kommun: str | None
    county_code: str | None
    county: str | None
    agreement_in_force: bool | None = Field(
        description="today; null for Arbetsförmedlingen, which needs no agreement"
    )


class CodeOut(Schema):
    kind: CodeKind
    code: str
    name_sv: str
    name_en: str
    description: str
    valid_from: dt.date
    valid_to: dt.date | None = Field(
        description="retired on this day; records that started before it may still use the code"
    )
