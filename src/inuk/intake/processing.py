"""Processing a received delivery: read, validate, pseudonymize, apply.

Two phases, so that a delivery is applied whole or not at all:

1. Reading. The file is streamed out of the vault, validated record by record,
   its personnummer pseudonymized in batches (the vault commits those on its
   own: a pseudonym for a person is harmless whatever happens next), and the
   accepted transactions, now without personnummer, spooled to a private
   temporary file. Progress is reported on the receipt as it goes.
2. Applying. In one transaction of the statistics database the spooled rows
   are appended to the ledger, the current state updated, the receipt's
   messages and counts written and the audit entry made.

A crash or a kill in either phase leaves the statistics database as it was;
the delivery stays claimable and a worker processes it again from the start.
"""

from __future__ import annotations

import datetime as dt
import logging
import pickle
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from inuk.audit.log import Event
from inuk.audit.log import record as audit
from inuk.codes.codelist import CodeList
from inuk.intake import formats
from inuk.intake.errors import RULES, FileRefused, Problem
from inuk.intake.models import Delivery, Message
from inuk.intake.records import Location
from inuk.intake.report import Tally
from inuk.intake.validation import Checked, Context, validate
from inuk.ledger.bulk import apply_delivery
from inuk.organisations.authorisation import refusal as authorisation_refusal
from inuk.organisations.models import Organisation
from inuk.stats import rollups
from inuk.vault import files as vault_files
from inuk.vault.pseudonymize import pseudonymize

log = logging.getLogger(__name__)

BATCH = 10_000
MAX_ATTEMPTS = 5


class Spool:
    """Batches of plain Python data in a private temporary file, read back in order."""

    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile(dir=settings.DATA_DIR)  # noqa: SIM115 (closed by close())
        self.count = 0

    def write(self, batch: list) -> None:
        if batch:
            pickle.dump(batch, self.file, protocol=pickle.HIGHEST_PROTOCOL)
            self.count += len(batch)

    def __iter__(self) -> Iterator[Any]:
        self.file.seek(0)
        while True:
            try:
                batch = pickle.load(self.file)  # noqa: S301 (our own file, written above)
            except EOFError:
                return
            yield from batch

    def close(self) -> None:
        self.file.close()


def message_row(problem: Problem) -> dict:
    row = problem.as_dict()
    row["severity"] = problem.severity
    return row


class Authoriser:
    """Checks each Kommun block of a file against who sent it; any failure refuses the file."""

    def __init__(self, sender: Organisation, on: dt.date) -> None:
        self.sender = sender
        self.on = on
        self.seen: set[tuple[str, str]] = set()

    def check(self, checked: Checked) -> None:
        if checked.orgnr is None or checked.kommunkod is None:
            return  # the record itself is rejected for its bad identifiers
        key = (checked.orgnr, checked.kommunkod)
        if key in self.seen:
            return
        line = checked.record.location.line
        if checked.orgnr != self.sender.orgnr:
            raise FileRefused("ORG_NOT_SENDER", line=line)
        code = authorisation_refusal(self.sender, checked.kommunkod, self.on)
        if code is not None:
            raise FileRefused(code, f"Kommunkod {checked.kommunkod}", line=line)
        self.seen.add(key)


def service_context(received_at: dt.datetime) -> Context:
    # Who may deliver for which kommunkod is the authoriser's call here, with
    # the registers of the service; the offline check of own codes is off.
    return Context(codes=CodeList.from_database(), received_at=received_at, own_codes={})


def checked_items(
    stream: BinaryIO, sender: Organisation, received_at: dt.datetime, format: str | None
) -> tuple[str, formats.Reading, Iterator[Checked | Problem]]:
    """The file's format, its reading (``bytes_read``), and its validated items,
    each Kommun block authorised."""
    detected, items = formats.open_delivery(
        stream, format=format or None, max_bytes=settings.INUK_MAX_DELIVERY_BYTES
    )
    authoriser = Authoriser(sender, timezone.localdate(received_at))

    def checked() -> Iterator[Checked | Problem]:
        for item in validate(items, service_context(received_at)):
            if isinstance(item, Checked):
                authoriser.check(item)
            yield item

    return detected, items, checked()


def check_delivery(stream: BinaryIO, submission, received_at: dt.datetime, checksum: str) -> dict:
    """The dry run: everything but pseudonymizing and storing."""
    from inuk.intake.receipts import dry_run_receipt, refused_receipt

    tally = Tally()
    errors: list[dict] = []
    try:
        _, _, items = checked_items(stream, submission.organisation, received_at, submission.format)
        for item in items:
            problems = tally.count(item)
            errors.extend(message_row(p) for p in problems if p.severity == "error")
        if tally.transactions == 0 and tally.errors == 0:
            raise FileRefused("FILE_NO_TRANSACTIONS")
    except FileRefused as refusal:
        return refused_receipt(submission.organisation, checksum, refusal, dry_run=True)
    return dry_run_receipt(submission.organisation, checksum, tally, errors)


def ledger_row(checked: Checked, organisation_id: int, pseudonym: str) -> tuple:
    """An accepted transaction as the ledger keeps it, without its personnummer:
    the values of a ``LedgerRow``, in its order, as a plain tuple."""
    # Validation has set every value of an accepted record.
    return (
        checked.position,
        checked.record.kind,
        organisation_id,
        checked.kommunkod,
        pseudonym,
        checked.code,
        checked.start,
        checked.end,
        checked.system,
        checked.transaction_time,
        checked.status,
    )


# --- claiming -------------------------------------------------------------------


def claim(delivery_id: int, worker: str) -> bool:
    """Take a delivery for processing; False if another worker has it or it is done."""
    now = timezone.now()
    stale_before = now - dt.timedelta(seconds=settings.INUK_WORKER_STALE_SECONDS)
    taken = (
        Delivery.objects.filter(pk=delivery_id, attempts__lt=MAX_ATTEMPTS)
        .claimable(stale_before)
        .update(
            status=Delivery.Status.PROCESSING,
            claimed_by=worker[:100],
            heartbeat_at=now,
            attempts=F("attempts") + 1,
            bytes_read=0,
        )
    )
    return taken == 1


def next_claimable() -> int | None:
    stale_before = timezone.now() - dt.timedelta(seconds=settings.INUK_WORKER_STALE_SECONDS)
    return (
        Delivery.objects.claimable(stale_before)
        .filter(attempts__lt=MAX_ATTEMPTS)
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )


def release(delivery_id: int) -> None:
    """Give a delivery back after an unexpected failure, so that it can be tried again."""
    Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.PROCESSING).update(
        status=Delivery.Status.RECEIVED, heartbeat_at=None, claimed_by=""
    )


# --- processing -----------------------------------------------------------------


@dataclass
class Run:
    delivery: Delivery
    tally: Tally = field(default_factory=Tally)
    persons: Spool = field(default_factory=Spool)
    rows: Spool = field(default_factory=Spool)
    messages: Spool = field(default_factory=Spool)
    #: Where each Ändring/Borttag stood, for a warning if its identity is unknown.
    places: dict[int, Location] = field(default_factory=dict)

    def read(self, stream: BinaryIO) -> None:
        delivery = self.delivery
        pending: list[Checked] = []
        problems: list[dict] = []
        detected, reading, items = checked_items(
            stream, delivery.organisation, delivery.received_at, delivery.format
        )
        if detected != delivery.format:
            delivery.format = detected
            Delivery.objects.filter(pk=delivery.pk).update(format=detected)
        for item in items:
            for problem in self.tally.count(item):
                problems.append(message_row(problem))
            if isinstance(item, Checked) and item.ok:
                pending.append(item)
            if len(pending) >= BATCH or len(problems) >= BATCH:
                self._flush(pending, problems)
                pending, problems = [], []
                self._heartbeat(reading.bytes_read)
        self._flush(pending, problems)
        self._heartbeat(reading.bytes_read)  # all read: what follows is the apply
        if self.tally.transactions == 0 and self.tally.errors == 0:
            raise FileRefused("FILE_NO_TRANSACTIONS")

    def _flush(self, pending: list[Checked], problems: list[dict]) -> None:
        self.messages.write(problems)
        if not pending:
            return
        pseudonyms = pseudonymize({c.person.canonical for c in pending if c.person})
        persons: dict[str, tuple] = {}  # the values of a PersonRow
        rows = []
        organisation_id = self.delivery.organisation_id
        for checked in pending:
            person = checked.person
            assert person is not None  # an accepted record has a valid personnummer
            pseudonym = pseudonyms[person.canonical]
            if pseudonym not in persons:
                persons[pseudonym] = (
                    pseudonym,
                    person.birth_year,
                    person.sex,
                    person.coordination,
                )
            rows.append(ledger_row(checked, organisation_id, pseudonym))
            if checked.status != "R":
                self.places[checked.position] = checked.record.location
        self.persons.write(list(persons.values()))
        self.rows.write(rows)

    def _heartbeat(self, done: int) -> None:
        Delivery.objects.filter(pk=self.delivery.pk).update(
            heartbeat_at=timezone.now(), bytes_read=done
        )

    def apply(self) -> None:
        delivery = self.delivery
        with transaction.atomic():
            outcome = apply_delivery(delivery.pk, self.persons, self.rows)
            rollups.delivery_applied(delivery.pk)
            self._save_messages(self.messages)
            warnings = [self._unknown_identity(position) for position in outcome.unknown_identity]
            self._save_messages(warnings)
            self._finish(
                Delivery.Status.APPLIED,
                accepted=outcome.accepted,
                already_known=outcome.already_known,
                warnings=len(warnings),
            )
            audit(
                Event.DELIVERY_APPLIED,
                actor=delivery.submitted_by,
                organisation=delivery.organisation.orgnr,
                target=str(delivery.public_id),
                details={
                    "accepted": outcome.accepted,
                    "rejected": self.tally.rejected,
                    "already_known": outcome.already_known,
                },
            )

    def reject(self) -> None:
        """Strict delivery with errors: nothing applied, the errors reported."""
        delivery = self.delivery
        with transaction.atomic():
            self._save_messages(self.messages)
            self._finish(Delivery.Status.REJECTED, accepted=0, already_known=0, warnings=0)
            audit(
                Event.DELIVERY_REJECTED,
                actor=delivery.submitted_by,
                organisation=delivery.organisation.orgnr,
                target=str(delivery.public_id),
                details={"rejected": self.tally.rejected, "errors": self.tally.errors},
            )

    def refuse(self, refusal: FileRefused) -> None:
        delivery = self.delivery
        rule = RULES[refusal.code]
        with transaction.atomic():
            Message.objects.filter(delivery=delivery).delete()
            self._save_messages([message_row(refusal.as_problem())])
            Delivery.objects.filter(pk=delivery.pk).update(
                status=Delivery.Status.REFUSED,
                refusal_code=refusal.code,
                refusal_sv=rule.sv,
                refusal_en=rule.en,
                finished_at=timezone.now(),
                persons=0,
                transactions=0,
                accepted=0,
                rejected=0,
                already_known=0,
                warnings=0,
            )
            audit(
                Event.DELIVERY_REFUSED,
                actor=delivery.submitted_by,
                organisation=delivery.organisation.orgnr,
                target=str(delivery.public_id),
                details={"code": refusal.code},
            )
        # Nothing of a refused file is kept but its receipt.
        vault_files.discard(delivery.pk)

    def _unknown_identity(self, position: int) -> dict:
        location = self.places.get(position)
        line, path = (location.line, location.path()) if location else (None, "")
        rule = RULES["IDENTITY_UNKNOWN"]
        return {
            "severity": "warning",
            "code": "IDENTITY_UNKNOWN",
            "field": "Status",
            "line": line,
            "path": path,
            "value": "",
            "message_sv": rule.sv,
            "message_en": rule.en,
        }

    def _save_messages(self, rows: Iterable[dict]) -> None:
        delivery_id = self.delivery.pk
        batch: list[Message] = []
        for row in rows:
            batch.append(
                Message(
                    delivery_id=delivery_id,
                    severity=row["severity"],
                    code=row["code"],
                    field=row["field"],
                    line=row["line"],
                    path=row["path"][:300],
                    value=row["value"][:120],
                    message_sv=row["message_sv"],
                    message_en=row["message_en"],
                )
            )
            if len(batch) >= 5_000:
                Message.objects.bulk_create(batch)
                batch = []
        Message.objects.bulk_create(batch)

    def _finish(self, status: str, *, accepted: int, already_known: int, warnings: int) -> None:
        tally = self.tally
        Delivery.objects.filter(pk=self.delivery.pk).update(
            status=status,
            finished_at=timezone.now(),
            bytes_read=F("size"),
            persons=tally.persons,
            transactions=tally.transactions,
            accepted=accepted,
            rejected=tally.rejected,
            already_known=already_known,
            warnings=warnings,
        )

    def close(self) -> None:
        for spool in (self.persons, self.rows, self.messages):
            spool.close()


def process(delivery_id: int, worker: str) -> bool:
    """Process one delivery if it can be claimed; True if this call processed it."""
    if not claim(delivery_id, worker):
        return False
    delivery = Delivery.objects.select_related("organisation").get(pk=delivery_id)
    run = Run(delivery)
    try:
        try:
            with vault_files.open_file(delivery.pk) as stream:
                run.read(stream)
        except FileRefused as refusal:
            run.refuse(refusal)
            return True
        if delivery.strict and run.tally.errors:
            run.reject()
        else:
            run.apply()
        return True
    except Exception:
        # The traceback names code, never data: messages of our own exceptions
        # hold no personnummer, and log lines pass the redacting filter besides.
        log.exception("Processing delivery %s failed; it will be tried again", delivery.public_id)
        release(delivery_id)
        return True
    finally:
        run.close()


def process_pending(worker: str, *, limit: int | None = None) -> int:
    """Process waiting deliveries until none is left (or ``limit``); returns how many."""
    done = 0
    while limit is None or done < limit:
        delivery_id = next_claimable()
        if delivery_id is None:
            break
        if process(delivery_id, worker):
            done += 1
    return done
