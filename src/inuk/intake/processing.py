"""Processing a received delivery: read, validate, pseudonymize, apply.

Two phases, so that a delivery is applied whole or not at all:

1. Reading. The file is streamed out of the vault, validated record by record,
   its personnummer looked up in the vault in batches, and the accepted
   transactions, now without personnummer, spooled to a private temporary
   file. A person the vault does not know yet gets a pseudonym drawn for them
   and waits, encrypted, in a spool of newcomers: nothing is stored in the
   vault while the file is read. Progress is reported on the receipt as it goes.
2. Applying. In one transaction of the vault the newcomers are admitted, and
   inside it, in one transaction of the statistics database, the spooled rows
   are appended to the ledger, the current state updated, the receipt's
   messages and counts written and the audit entry made. A delivery refused,
   rejected or failed therefore leaves no person in the vault.

A crash or a kill in either phase leaves both databases as they were; the
delivery stays claimable and a worker processes it again from the start.

A large dry run waits as a delivery marked ``dry_run``; a worker claims it
like any other, but only reads and reports on it (``inuk.intake.checking``).

A worker owns the delivery it claimed while it keeps its heartbeat (a thread
of its own reports it, on its own connection, however long the apply takes);
every write of the outcome is conditional on still owning the claim (the
lifecycle methods of ``Delivery``), so a worker that lost it (it stalled past
``INUK_WORKER_STALE_SECONDS`` and another took the delivery over) rolls its
work back instead of applying it twice. After ``MAX_ATTEMPTS`` attempts a
delivery fails for good, with a reason on its receipt, an audit entry and a
line in the operations log.
"""

from __future__ import annotations

import datetime as dt
import logging
import pickle
import tempfile
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.utils import timezone

from inuk.audit.log import Event
from inuk.audit.log import record as audit
from inuk.codes.models import Code
from inuk.format import readers
from inuk.format.errors import FileRefused, Problem
from inuk.format.records import Location
from inuk.format.report import Tally
from inuk.format.validation import Checked, Context, validate
from inuk.intake.models import FAILURE_CODE, Delivery, Message
from inuk.ledger import changes
from inuk.ledger.bulk import apply_delivery
from inuk.ledger.models import Status as TransactionStatus
from inuk.ledger.rows import LedgerRow, PersonRow
from inuk.organisations.authorisation import refusal as authorisation_refusal
from inuk.organisations.models import Organisation
from inuk.vault import files as vault_files
from inuk.vault import removals
from inuk.vault.pseudonymize import Newcomer, admit, look_up
from inuk.vault.routers import VAULT_DB

log = logging.getLogger(__name__)

BATCH = 10_000


class ClaimLost(Exception):
    """Another worker has taken over the delivery: this worker's work on it is dropped."""


class FileChanged(Exception):
    """What was read no longer holds: it is read again.

    A person was erased from the kept file after it was read, or a pseudonym
    looked up while reading has left the vault since (``vault.removals``).
    """


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
    return Context(codes=Code.code_list(), received_at=received_at, own_codes={})


def checked_items(
    stream: BinaryIO, sender: Organisation, received_at: dt.datetime, format: str | None
) -> tuple[str, readers.Reading, Iterator[Checked | Problem]]:
    """The file's format, its reading (``bytes_read``), and its validated items,
    each Kommun block authorised."""
    detected, items = readers.open_delivery(
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
            errors.extend(p.as_dict() for p in problems if p.severity == Message.Severity.ERROR)
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


# --- the claim ------------------------------------------------------------------


class Heartbeat:
    """Reports a claim alive from a thread of its own while the worker works.

    The thread has its own database connection, so it reports while the
    worker's connection is busy in a long transaction. If the claim is found
    lost the thread stops; the worker finds out when its next conditional
    write (a progress report, or the outcome) changes nothing.

    On SQLite the thread's write waits while the worker holds the write lock,
    but so does any other worker's claim: the delivery cannot be taken over then.
    """

    def __init__(self, delivery: Delivery, interval: float | None = None) -> None:
        self.delivery = delivery
        self.interval = interval or settings.INUK_WORKER_STALE_SECONDS / 4
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="inuk-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    beat = self.delivery.heartbeat()
                except DatabaseError:
                    log.warning("A heartbeat could not be written; the next one tries again")
                    continue
                if not beat:
                    return
        finally:
            connections.close_all()  # this thread's connections only


def end_failed(delivery: Delivery, *, abandoned: bool = False) -> bool:
    """End a delivery as failed after its last attempt; False if its claim is lost
    (``abandoned``: see ``Delivery.fail``).

    Nothing of it is applied; its messages, if any, are removed and its file
    discarded, as for a refused file. The reporter reads the reason on the
    receipt, the administrators in the audit log and the operations log.
    """
    with transaction.atomic():
        if not delivery.fail(abandoned=abandoned):
            return False
        Message.objects.filter(delivery=delivery).delete()
        audit(
            Event.DELIVERY_FAILED,
            actor=delivery.submitted_by,
            organisation=delivery.organisation.orgnr,
            target=str(delivery.public_id),
            details={"code": FAILURE_CODE, "attempts": delivery.attempts},
        )
    log.error(
        "Delivery %s failed after %d attempts; it will not be tried again",
        delivery.public_id,
        delivery.attempts,
    )
    vault_files.discard(delivery.pk)
    return True


def fail_abandoned() -> int:
    """Fail the deliveries whose worker died during their last attempt; returns how many."""
    abandoned = Delivery.objects.abandoned().select_related("organisation")
    return sum(end_failed(delivery, abandoned=True) for delivery in abandoned)


# --- processing -----------------------------------------------------------------


@dataclass
class Run:
    #: The delivery as claimed: every write of the outcome is conditional on its claim.
    delivery: Delivery
    tally: Tally = field(default_factory=Tally)
    persons: Spool = field(default_factory=Spool)
    rows: Spool = field(default_factory=Spool)
    messages: Spool = field(default_factory=Spool)
    #: Persons the vault did not know, admitted only when the delivery is applied.
    newcomers: Spool = field(default_factory=Spool)
    #: Where each Ändring/Borttag stood, for a warning if its identity is unknown.
    places: dict[int, Location] = field(default_factory=dict)
    #: Which stored file was read (``vault.files.version``): an erasure replaces it.
    file_version: int | None = None
    #: The latest removal from the vault before the read began (``vault.removals.latest_removal``).
    removals_seen: int = 0

    def read(self, stream: BinaryIO) -> None:
        delivery = self.delivery
        pending: list[Checked] = []
        problems: list[Problem] = []
        detected, reading, items = checked_items(
            stream, delivery.organisation, delivery.received_at, delivery.format
        )
        if detected != delivery.format:
            delivery.format = detected
            delivery.note_format(detected)
        for item in items:
            problems.extend(self.tally.count(item))
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

    def _flush(self, pending: list[Checked], problems: list[Problem]) -> None:
        self.messages.write(problems)
        if not pending:
            return
        pseudonyms, newcomers = look_up({c.person.canonical for c in pending if c.person})
        self.newcomers.write(
            [(n.lookup, n.pseudonym, n.key_version, n.ciphertext) for n in newcomers.values()]
        )
        pseudonyms.update((number, n.pseudonym) for number, n in newcomers.items())
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
            if checked.status != TransactionStatus.REGISTRATION:
                self.places[checked.position] = checked.record.location
        self.persons.write(list(persons.values()))
        self.rows.write(rows)

    def _heartbeat(self, done: int) -> None:
        if not self.delivery.heartbeat(bytes_read=done):
            raise ClaimLost

    def apply(self) -> None:
        """Admit the newcomers, append and apply the rows, write the receipt: all or nothing.

        The statistics database's work is one transaction, inside the vault's:
        if it fails (or the claim turns out lost) both roll back.
        """
        delivery = self.delivery
        with removals.applying(), transaction.atomic(using=VAULT_DB):
            self._check_file_unchanged()
            self._check_persons_kept()
            replaced = admit(Newcomer(*values) for values in self.newcomers)
            with transaction.atomic():
                persons = renamed(self.persons, replaced, PSEUDONYM_OF_PERSON)
                rows = renamed(self.rows, replaced, PSEUDONYM_OF_ROW)
                outcome = apply_delivery(delivery.pk, persons, rows)
                changes.delivery_applied(delivery.pk)
                self._save_messages(self.messages)
                warnings = [
                    self._unknown_identity(position) for position in outcome.unknown_identity
                ]
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

    def _check_file_unchanged(self) -> None:
        """Raise ``FileChanged`` if an erasure rewrote the file since it was read.

        Inside the vault's transaction, holding the file's first piece: an
        erasure's swap of the file (``files.replace``) waits until this apply
        has committed, and the erasure then takes out of the ledger what it
        applied; a swap made before is seen here, and the file is read again.
        """
        if vault_files.version(self.delivery.pk, lock=True) != self.file_version:
            raise FileChanged

    def _check_persons_kept(self) -> None:
        """Raise ``FileChanged`` if a pseudonym looked up while reading has left the vault.

        Under ``removals.applying()``, so that no removal is under way; the
        pseudonyms are asked about only if one came since the read began.
        """
        if removals.latest_removal() == self.removals_seen:
            return
        drawn = {pseudonym for _, pseudonym, _, _ in self.newcomers}
        looked_up = {person[PSEUDONYM_OF_PERSON] for person in self.persons} - drawn
        if removals.gone(looked_up):
            raise FileChanged

    def reject(self) -> None:
        """Strict delivery with errors: nothing applied, the errors reported."""
        delivery = self.delivery
        with transaction.atomic():
            self._finish(Delivery.Status.REJECTED, accepted=0, already_known=0, warnings=0)
            self._save_messages(self.messages)
            audit(
                Event.DELIVERY_REJECTED,
                actor=delivery.submitted_by,
                organisation=delivery.organisation.orgnr,
                target=str(delivery.public_id),
                details={"rejected": self.tally.rejected, "errors": self.tally.errors},
            )
        # All or nothing, and it was nothing: the file is not kept either.
        vault_files.discard(delivery.pk)

    def refuse(self, refusal: FileRefused) -> None:
        delivery = self.delivery
        with transaction.atomic():
            if not delivery.refuse(refusal.code):
                raise ClaimLost
            Message.objects.filter(delivery=delivery).delete()
            self._save_messages([refusal.as_problem()])
            audit(
                Event.DELIVERY_REFUSED,
                actor=delivery.submitted_by,
                organisation=delivery.organisation.orgnr,
                target=str(delivery.public_id),
                details={"code": refusal.code},
            )
        # Nothing of a refused file is kept but its receipt.
        vault_files.discard(delivery.pk)

    def process(self) -> None:
        """Read the file, then apply it, reject it or refuse it."""
        try:
            self.removals_seen = removals.latest_removal()
            self.file_version = vault_files.version(self.delivery.pk)
            with vault_files.open_file(self.delivery.pk) as stream:
                self.read(stream)
        except FileRefused as refusal:
            self.refuse(refusal)
            return
        if self.delivery.strict and self.tally.errors:
            self.reject()
        else:
            self.apply()

    def _unknown_identity(self, position: int) -> Problem:
        location = self.places.get(position)
        return Problem(
            "IDENTITY_UNKNOWN",
            "Status",
            location,
            severity=Message.Severity.WARNING,
            # The transaction's own element, not its Status.
            explicit_path=location.path() if location else "",
        )

    def _save_messages(self, problems: Iterable[Problem]) -> None:
        delivery_id = self.delivery.pk
        batch: list[Message] = []
        for problem in problems:
            batch.append(Message.from_problem(delivery_id, problem))
            if len(batch) >= 5_000:
                Message.objects.bulk_create(batch)
                batch = []
        Message.objects.bulk_create(batch)

    def _finish(self, status: str, *, accepted: int, already_known: int, warnings: int) -> None:
        tally = self.tally
        ended = self.delivery.finish(
            status,
            persons=tally.persons,
            transactions=tally.transactions,
            accepted=accepted,
            rejected=tally.rejected,
            already_known=already_known,
            warnings=warnings,
        )
        if not ended:
            raise ClaimLost

    def close(self) -> None:
        for spool in (self.persons, self.rows, self.messages, self.newcomers):
            spool.close()


PSEUDONYM_OF_PERSON = PersonRow._fields.index("pseudonym")
PSEUDONYM_OF_ROW = LedgerRow._fields.index("pseudonym")


def renamed(rows: Iterable[tuple], replaced: dict[str, str], index: int) -> Iterable[tuple]:
    """``rows`` with each pseudonym drawn for a newcomer who was admitted under another."""
    if not replaced:
        return rows
    return (
        (*row[:index], replaced[row[index]], *row[index + 1 :]) if row[index] in replaced else row
        for row in rows
    )
