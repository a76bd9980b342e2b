"""The receipt (kvittens) as data: the one shape the API, ``inuk ingest --json`` and pages share.

Its messages as CSV are an export: ``export_messages_csv`` is the one way out,
for the receipt page's link and the API's ``errors.csv`` alike, and records
the export in the audit log.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from itertools import islice

from django.http import StreamingHttpResponse

from inuk.audit.log import Event, record
from inuk.format.errors import RULES, FileRefused
from inuk.intake.models import Delivery, Message
from inuk.ledger.models import Withdrawal

#: A receipt lists at most this many errors; all of them are in the CSV download.
RECEIPT_MESSAGES = 1_000

#: The status of a dry run's report answered at once: no delivery is stored, so
#: it has none of ``Delivery.Status``.
DRY_RUN = "dry_run"

MESSAGE_FIELDS = ["code", "field", "line", "path", "message_sv", "message_en", "value"]


def _counts(**counts: int) -> dict:
    keys = ("persons", "transactions", "accepted", "rejected", "already_known", "warnings")
    return {key: counts.get(key, 0) for key in keys}


def message_dict(message: Message) -> dict:
    return {name: getattr(message, name) for name in MESSAGE_FIELDS}


def _withdrawal(withdrawal: Withdrawal | None) -> dict | None:
    """AF withdrew the delivery: its transactions no longer count (SPEC §11)."""
    if withdrawal is None:
        return None
    return {"withdrawn_at": withdrawal.withdrawn_at.isoformat(), "reason": withdrawal.reason}


def receipt(delivery: Delivery, *, limit: int = RECEIPT_MESSAGES) -> dict:
    messages = delivery.messages.all()
    errors = messages.filter(severity=Message.Severity.ERROR)
    warnings = messages.filter(severity=Message.Severity.WARNING)
    reason = {
        "code": delivery.refusal_code,
        "message_sv": delivery.refusal_sv,
        "message_en": delivery.refusal_en,
    }
    refusal = reason if delivery.status == Delivery.Status.REFUSED else None
    failure = reason if delivery.status == Delivery.Status.FAILED else None
    error_count = errors.count()
    warning_count = warnings.count()
    withdrawal = Withdrawal.objects.filter(delivery_id=delivery.pk).first()
    return {
        "id": str(delivery.public_id),
        "status": delivery.status,
        "organisation": delivery.organisation.orgnr,
        "received_at": delivery.received_at.isoformat(),
        "finished_at": delivery.finished_at.isoformat() if delivery.finished_at else None,
        "checksum": delivery.checksum,
        "format": delivery.format,
        "size": delivery.size,
        "strict": delivery.strict,
        "dry_run": delivery.dry_run,
        "progress": delivery.progress,
        "refusal": refusal,
        "failure": failure,
        "withdrawal": _withdrawal(withdrawal),
        "erased_persons": delivery.erased_persons,
        "counts": _counts(
            persons=delivery.persons,
            transactions=delivery.transactions,
            accepted=delivery.accepted,
            rejected=delivery.rejected,
            already_known=delivery.already_known,
            warnings=delivery.warnings,
        ),
        "errors": [message_dict(m) for m in errors[:limit]],
        "warnings": [message_dict(m) for m in warnings[:limit]],
        "errors_total": error_count,
        "warnings_total": warning_count,
    }


def dry_run_receipt(organisation, checksum: str, tally, errors: list[dict]) -> dict:
    shown = [{k: e[k] for k in MESSAGE_FIELDS} for e in errors[:RECEIPT_MESSAGES]]
    return {
        "id": None,
        "status": DRY_RUN,
        "dry_run": True,
        "organisation": organisation.orgnr,
        "checksum": checksum,
        "refusal": None,
        "failure": None,
        "withdrawal": None,
        "counts": _counts(
            persons=tally.persons,
            transactions=tally.transactions,
            accepted=tally.transactions - tally.rejected,
            rejected=tally.rejected,
        ),
        "errors": shown,
        "warnings": [],
        "errors_total": len(errors),
        "warnings_total": 0,
    }


def refused_receipt(organisation, checksum: str, refusal: FileRefused, *, dry_run: bool) -> dict:
    rule = RULES[refusal.code]
    return {
        "id": None,
        "status": DRY_RUN if dry_run else Delivery.Status.REFUSED,
        "dry_run": dry_run,
        "organisation": organisation.orgnr,
        "checksum": checksum,
        "refusal": {"code": refusal.code, "message_sv": rule.sv, "message_en": rule.en},
        "failure": None,
        "withdrawal": None,
        "counts": _counts(),
        "errors": [refusal.as_problem().as_dict()],
        "warnings": [],
        "errors_total": 1,
        "warnings_total": 0,
    }


def _cell(value) -> str:
    """A cell that a spreadsheet will show as text, never run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


CSV_HEADER = ["severity", *MESSAGE_FIELDS]
CSV_BATCH = 2_000


def _csv_row(message: Message) -> list[str]:
    return [message.severity, *(_cell(getattr(message, f)) for f in MESSAGE_FIELDS)]


def messages_csv(delivery: Delivery, batch: int | None = None) -> Iterator[str]:
    """A receipt's messages as CSV text, a batch at a time, so that memory stays flat.

    Begins with a byte order mark: spreadsheet programs then read the file as
    UTF-8, and the Swedish messages keep their å, ä and ö.
    """
    # Not delivery.messages: the related manager would attach the delivery to every row.
    batch = batch or CSV_BATCH
    rows = Message.objects.filter(delivery_id=delivery.pk).order_by("id").iterator(batch)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")

    def taken() -> str:
        text = out.getvalue()
        out.seek(0)
        out.truncate()
        return text

    writer.writerow(CSV_HEADER)
    yield "\ufeff" + taken()
    while chunk := list(islice(rows, batch)):
        writer.writerows(_csv_row(message) for message in chunk)
        yield taken()


def export_messages_csv(
    delivery: Delivery, *, actor: str, remote_addr: str
) -> StreamingHttpResponse:
    """Every error and warning of ``delivery`` as a CSV download, recorded in the audit log.

    ``actor`` is who downloads it, as the audit log names them.
    """
    record(
        Event.EXPORT,
        actor=actor,
        organisation=delivery.organisation.orgnr,
        target=str(delivery.public_id),
        remote_addr=remote_addr,
        details={"export": "receipt_messages", "rows": delivery.messages.count()},
    )
    response = StreamingHttpResponse(messages_csv(delivery), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="kvittens-{delivery.public_id}.csv"'
    return response
