"""Receiving a delivery (SPEC §4): from bytes on the wire to a receipt.

``receive()`` is the one way in, whether the file came by API, upload page,
``inuk submit`` or ``inuk ingest``. It checksums the file, returns the first
receipt if the same organisation sent the same bytes before and that delivery
is applied or on its way (a rejected, refused or failed one does not count:
the file is received anew), keeps the file
(encrypted, in the vault) and queues it. Small files are processed at once;
larger ones by a worker (``inuk worker``, or the thread ``inuk serve`` runs).
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import BinaryIO, Literal, overload

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from inuk.audit.log import Event
from inuk.audit.log import record as audit
from inuk.format.errors import RULES, FileRefused
from inuk.intake.models import Delivery
from inuk.logging import redact
from inuk.organisations.models import Organisation
from inuk.vault import files as vault_files

log = logging.getLogger(__name__)

COPY_CHUNK = 1024 * 1024
#: What a write answers when the disk, or the user's quota on it, is full.
NO_ROOM = (errno.ENOSPC, errno.EDQUOT)


class StorageFull(Exception):
    """The data directory has no room for the file: nothing of it is kept, no receipt
    made; the sender is told to try again later (``STORAGE_FULL``)."""


@dataclass(frozen=True)
class Submission:
    """Who sent a file, how, and with which options.

    ``received_at`` is left out for a file arriving now. Only a history loaded
    in one go (``inuk demo``) gives each file the time it would have come, so
    that its Transaktionsdatum are checked, and its month followed up, as then.
    """

    organisation: Organisation
    filename: str = ""
    format: str | None = None
    strict: bool = False
    submitted_by: str = ""
    channel: str = "cli"
    remote_addr: str = ""
    received_at: dt.datetime | None = None
    dry_run: bool = False


@contextmanager
def spooled(stream: BinaryIO, max_bytes: int) -> Iterator[tuple[BinaryIO, str, int]]:
    """Copy ``stream`` to a private temporary file, yielding it with its SHA-256 and size.

    The copy is deleted when the block ends; it is read again for the dry run or
    streamed into the vault.
    """
    digest = hashlib.sha256()
    size = 0
    with tempfile.TemporaryFile(dir=settings.DATA_DIR) as spool:
        try:
            while chunk := stream.read(COPY_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise FileRefused("FILE_TOO_LARGE")
                digest.update(chunk)
                spool.write(chunk)
            if size == 0:
                raise FileRefused("FILE_EMPTY")
            spool.seek(0)  # writes out what the file's buffer held
        except OSError as exc:
            if exc.errno in NO_ROOM:
                log.error("The data directory is full: a delivery could not be received")
                raise StorageFull from exc
            raise
        yield spool, digest.hexdigest(), size


def receive(
    stream: BinaryIO, submission: Submission, *, process_inline: bool | None = None
) -> Delivery:
    """Take a delivery in; returns its receipt (a ``Delivery``), possibly an earlier one.

    A file that is empty or too large is refused here, and only its receipt is
    stored. ``process_inline`` forces (or forbids) processing before returning;
    by default files up to ``INUK_INLINE_MAX_BYTES`` are processed at once.
    """
    organisation = submission.organisation
    received_at = submission.received_at or timezone.now()
    try:
        with spooled(stream, settings.INUK_MAX_DELIVERY_BYTES) as (spool, checksum, size):
            earlier = Delivery.objects.holding(organisation, checksum).first()
            if earlier is not None:
                return earlier
            delivery = _store(spool, submission, received_at, checksum, size)
            if delivery is None:  # the same bytes arrived at the same moment
                return Delivery.objects.holding(organisation, checksum).get()
    except FileRefused as refusal:
        return _refused_on_arrival(submission, received_at, refusal)
    inline = size <= settings.INUK_INLINE_MAX_BYTES if process_inline is None else process_inline
    if inline:
        from inuk.intake.worker import process

        process(delivery.pk, worker="inline")
        delivery.refresh_from_db()
    return delivery


def _store(
    spool: BinaryIO, submission: Submission, received_at, checksum: str, size: int
) -> Delivery | None:
    try:
        with transaction.atomic():
            delivery = Delivery.objects.create(
                organisation=submission.organisation,
                received_at=received_at,
                submitted_by=submission.submitted_by[:200],
                channel=submission.channel,
                filename=redact(submission.filename)[:255],
                checksum=checksum,
                size=size,
                format=submission.format or "",
                strict=submission.strict,
                dry_run=submission.dry_run,
            )
            vault_files.store(delivery.pk, spool)
            audit(
                Event.DELIVERY_RECEIVED,
                actor=submission.submitted_by,
                organisation=submission.organisation.orgnr,
                target=str(delivery.public_id),
                remote_addr=submission.remote_addr,
                details={
                    "checksum": checksum,
                    "size": size,
                    "channel": submission.channel,
                    "strict": submission.strict,
                    "dry_run": submission.dry_run,
                },
            )
    except IntegrityError:
        return None
    return delivery


def _refused_on_arrival(submission: Submission, received_at, refusal: FileRefused) -> Delivery:
    rule = RULES[refusal.code]
    delivery = Delivery.objects.create(
        organisation=submission.organisation,
        received_at=received_at,
        submitted_by=submission.submitted_by[:200],
        channel=submission.channel,
        filename=redact(submission.filename)[:255],
        checksum="",
        size=0,
        format=submission.format or "",
        strict=submission.strict,
        status=Delivery.Status.REFUSED,
        refusal_code=refusal.code,
        refusal_sv=rule.sv,
        refusal_en=rule.en,
        finished_at=received_at,
    )
    audit(
        Event.DELIVERY_REFUSED,
        actor=submission.submitted_by,
        organisation=submission.organisation.orgnr,
        target=str(delivery.public_id),
        remote_addr=submission.remote_addr,
        details={"code": refusal.code},
    )
    return delivery


@overload
def dry_run(stream: BinaryIO, submission: Submission, *, inline: Literal[True]) -> dict: ...


@overload
def dry_run(
    stream: BinaryIO, submission: Submission, *, inline: bool | None = None
) -> dict | Delivery: ...


def dry_run(
    stream: BinaryIO, submission: Submission, *, inline: bool | None = None
) -> dict | Delivery:
    """Validate as a delivery would be, authorisation included, and store nothing.

    A file up to ``INUK_INLINE_MAX_BYTES`` (any file with ``inline=True``, as
    ``inuk ingest`` has no worker to wait for) is checked at once: the answer
    is its report, a receipt as a dict of the same shape as a stored one, with
    no id. A larger one would hold the web process as long as it takes to read
    it, so it is kept (encrypted, in the vault, as a delivery is) for a worker,
    and the answer is its receipt, a ``Delivery`` marked ``dry_run``, that ends
    ``checked``; the worker then discards the file. Neither stores a person.
    """
    from inuk.intake.processing import check_delivery

    received_at = submission.received_at or timezone.now()
    submission = replace(submission, dry_run=True)
    try:
        with spooled(stream, settings.INUK_MAX_DELIVERY_BYTES) as (spool, checksum, size):
            if size <= settings.INUK_INLINE_MAX_BYTES if inline is None else inline:
                return check_delivery(spool, submission, received_at, checksum)
            delivery = _store(spool, submission, received_at, checksum, size)
    except FileRefused as refusal:
        from inuk.intake.receipts import refused_receipt

        return refused_receipt(submission.organisation, "", refusal, dry_run=True)
    # Dry runs hold no bytes, so no constraint can refuse one.
    assert delivery is not None
    return delivery
