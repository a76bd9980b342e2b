"""Writing the audit log (SPEC §11, R14) and proving it whole.

``record()`` appends one entry. Each entry is numbered one above the last and
sealed with an HMAC-SHA-256 (key ``INUK_AUDIT_KEY``) over its fields and the
digest of the entry before it; the first entry chains to ``GENESIS``.
``verify()`` walks the chain and names the first entry that does not hold.

What the chain proves, and what it does not:

- an entry changed in place: its digest no longer matches (``altered``);
- an entry removed from the start or the middle: the numbers jump and the next
  entry's ``previous`` no longer matches (``missing``);
- an entry inserted or forged: without the key its digest cannot be right
  (``altered``), and numbers cannot be squeezed in between without
  re-sealing every later entry, which again needs the key;
- entries removed from the end (truncation), or all of them: NOT visible in
  the chain, since what is left is itself a valid chain. So each committed
  entry is anchored in a file outside the database (``inuk.audit.anchor``),
  and ``verify()`` checks that the anchored entry is still there
  (``truncated``); it also reports a checkpoint (the last entry's number and
  digest) and checks one given back to it, for copies kept further away;
- anyone who holds the key can rewrite the whole log undetected. Keep the key
  out of the database and away from those who administer it.

Transactions: ``record()`` joins a transaction already open on the
connection, so an entry about something that rolls back rolls back with it
and the chain stays without holes. A caller that must keep the entry even if
its own work fails (a refused login, a failed attempt) calls ``record()``
outside its transaction or after it. Because the log's lock is then held until
the caller's transaction ends, record as the last step of a long transaction,
not the first. The log lives in the ``default`` database: inside a transaction
on the vault database, ``record()`` is its own transaction.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import functools
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, router, transaction
from django.utils import timezone

from inuk.audit import anchor
from inuk.audit.models import CHAINED_FIELDS, GENESIS, Entry, seal
from inuk.logging import redact


class Event(enum.StrEnum):
    """Every kind of audit entry. Values are stored, so they are never renamed."""

    DELIVERY_RECEIVED = "delivery.received"
    DELIVERY_APPLIED = "delivery.applied"
    DELIVERY_REJECTED = "delivery.rejected"
    DELIVERY_REFUSED = "delivery.refused"
    DELIVERY_WITHDRAWN = "delivery.withdrawn"
    DELIVERY_FAILED = "delivery.failed"
    DELIVERY_CHECKED = "delivery.checked"
    LOGIN = "auth.login"
    LOGIN_FAILED = "auth.login_failed"
    LOGOUT = "auth.logout"
    TOKEN_USED = "token.used"  # noqa: S105
    TOKEN_CREATED = "token.created"  # noqa: S105
    TOKEN_REVOKED = "token.revoked"  # noqa: S105
    USER_CREATED = "user.created"
    USER_CHANGED = "user.changed"
    USER_REMOVED = "user.removed"
    AGREEMENT_CHANGED = "agreement.changed"
    IDENTITY_LOOKUP = "identity.lookup"
    IDENTITY_LINKED = "identity.linked"
    IDENTITY_EXTRACT = "identity.extract"
    IDENTITY_THROTTLED = "identity.throttled"
    PERSON_ERASED = "person.erased"
    RETENTION_APPLIED = "retention.applied"
    KEY_ROTATED = "vault.key_rotated"
    EXPORT = "export"
    ADMIN_CHANGE = "admin.change"


# A fixed key for pg_advisory_xact_lock that no other part of INUK uses.
_PG_LOCK_KEY = 0x494E554B_41554454  # "INUKAUDT"

_BATCH = 5000

ORGNR = re.compile(r"\d{2}[2-9]\d{7}")


def _key() -> bytes:
    key = getattr(settings, "INUK_AUDIT_KEY", None)
    if not key:
        raise ImproperlyConfigured("INUK_AUDIT_KEY is not set: the audit log cannot be sealed.")
    return key.encode("utf-8")


def _redact(text: str) -> str:
    # redact() keeps organisation numbers whole (their third digit is never a
    # month's), and receipt ids and checksums nearly always: only a run of
    # exactly 10 or 12 digits in one that reads as a date is masked, a rare loss
    # of detail that is the price of a rule no disguised personnummer escapes.
    return redact(text)


def _text(value: object, limit: int | None = None) -> str:
    """A string safe to store: no personnummer, no NUL, no lone surrogate."""
    text = _redact(str(value)).replace("\x00", "\ufffd")
    text = text.encode("utf-8", "replace").decode("utf-8")
    return text if limit is None else text[:limit]


def _clean(value: Any) -> Any:
    """Details as plain JSON that reads back exactly as written, on either database.

    Floats become their shortest text (PostgreSQL's jsonb may read ``1e100``
    back as an integer, which would change the digest); UUIDs, dates,
    datetimes and decimals become text too. Anything else is refused.
    """
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, float | decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return _clean(value.value)
    if isinstance(value, dict):
        return {_text(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(item) for item in value]
    raise TypeError(f"audit details cannot hold a {type(value).__name__}")


def _utc(at: dt.datetime | None) -> dt.datetime:
    if at is None:
        return timezone.now().astimezone(dt.UTC)
    if timezone.is_naive(at):
        raise ValueError("an audit entry's time must carry its time zone")
    return at.astimezone(dt.UTC)


def _lock(using: str) -> None:
    """Serialise writers so that two entries never claim the same predecessor.

    On SQLite the settings open every transaction with BEGIN IMMEDIATE, so the
    atomic block around this already holds the database's write lock. On
    PostgreSQL the last entry is read after the lock is taken, which in READ
    COMMITTED (Django's default) sees the entry the previous holder committed.
    """
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_LOCK_KEY])


def record(
    event: str,
    *,
    actor: str = "",
    organisation: str = "",
    target: str = "",
    remote_addr: str = "",
    details: dict | None = None,
    at: dt.datetime | None = None,
) -> Entry:
    """Append one entry to the audit log and return it.

    ``event`` is one of ``Event``; ``actor`` who did it (a user name, a token's
    name, ``system``); ``organisation`` the organisation number (10 digits) the
    event concerns; ``target`` what it was done to, e.g. a receipt id. Free
    text passes through ``inuk.logging.redact`` so no personnummer is kept;
    organisation numbers, receipt ids and checksums, which it would mask too,
    are kept whole.

    For example::

        record(Event.DELIVERY_RECEIVED, actor="api:token-7", organisation="2120000142",
               target=str(delivery.public_id), details={"size": 18232, "format": "xml"})
    """
    kind = Event(event)
    if organisation and not ORGNR.fullmatch(organisation):
        # Also keeps a personnummer out: its third digit (a month's) is 0 or 1.
        raise ValueError("organisation must be a 10-digit organisation number")
    values: dict[str, Any] = {
        "at": _utc(at),
        "event": kind.value,
        "actor": _text(actor, 200),
        "organisation": organisation,
        "target": _text(target, 200),
        "remote_addr": _text(remote_addr, 64),
        "details": _clean(details or {}),
    }
    key = _key()
    using = router.db_for_write(Entry)
    with transaction.atomic(using=using):
        _lock(using)
        last = Entry.objects.using(using).order_by("-id").values_list("id", "digest").first()
        values["id"], values["previous"] = (last[0] + 1, last[1]) if last else (1, GENESIS)
        entry = Entry(**values, digest=seal(values, key))
        entry.save(using=using)
        # Only once committed: an entry that rolls back with its caller was never in the log.
        # Robust: the entry stands even if the file cannot be written; the anchor then lags.
        transaction.on_commit(
            functools.partial(anchor.advance, entry.id, entry.digest), using=using, robust=True
        )
    return entry


# --- verification --------------------------------------------------------------


class Reason(enum.StrEnum):
    ALTERED = "altered"
    MISSING = "missing"
    UNLINKED = "unlinked"
    TRUNCATED = "truncated"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The last entry's number and digest, kept outside the database to catch truncation."""

    id: int
    digest: str

    def __str__(self) -> str:
        return f"{self.id}:{self.digest}"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        number, _, digest = text.strip().partition(":")
        if not number.isdigit() or len(digest) != 64:
            raise ValueError(f"not a checkpoint (number:digest): {text.strip()!r}")
        return cls(int(number), digest.lower())


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    checked: int
    first_broken: int | None = None
    reason: str = ""
    #: For ``missing``: the numbers of the first and last entry gone.
    missing: tuple[int, int] | None = None
    #: The last entry read, to keep outside the database (None for an empty log).
    checkpoint: Checkpoint | None = None

    @property
    def message_sv(self) -> str:
        if self.ok:
            return f"Granskningsloggen är hel: {self.checked} poster kontrollerade."
        return f"Granskningsloggen är bruten vid post {self.first_broken}: {self._why('sv')}"

    @property
    def message_en(self) -> str:
        if self.ok:
            return f"Audit log intact: {self.checked} entries checked."
        return f"The audit log is broken at entry {self.first_broken}: {self._why('en')}"

    def _why(self, language: str) -> str:
        first, last = self.missing or (0, 0)
        if first == last:
            gone_sv = f"post {first} före den saknas; den har tagits bort."
            gone_en = f"entry {first} before it is missing; it was removed."
        else:
            gone_sv = f"posterna {first}–{last} före den saknas; de har tagits bort."
            gone_en = f"entries {first}–{last} before it are missing; they were removed."
        texts = {
            Reason.ALTERED: (
                "dess innehåll stämmer inte med dess kontrollsumma; "
                "den har ändrats eller skrivits utan loggens nyckel.",
                "its contents do not match its digest; "
                "it was changed or written without the log's key.",
            ),
            Reason.MISSING: (gone_sv, gone_en),
            Reason.UNLINKED: (
                "den hänger inte ihop med posten före; poster har tagits bort, "
                "flyttats eller lagts in.",
                "it does not chain to the entry before it; entries were removed, "
                "moved or inserted.",
            ),
            Reason.TRUNCATED: (
                "kontrollpunkten finns inte längre i loggen eller har ändrats; "
                "poster i slutet har tagits bort.",
                "the checkpoint is no longer in the log or was changed; "
                "entries at the end were removed.",
            ),
        }
        sv, en = texts[Reason(self.reason)]
        return sv if language == "sv" else en


def _batches(using: str) -> Iterator[list[tuple]]:
    """The log in id order, a batch at a time, so memory stays flat for any size."""
    after = 0
    fields = (*CHAINED_FIELDS, "digest")
    queryset = Entry.objects.using(using).order_by("id").values_list(*fields)
    while batch := list(queryset.filter(id__gt=after)[:_BATCH]):
        yield batch
        after = batch[-1][0]


def _problem(
    values: dict[str, Any], digest: str, expected_id: int, previous: str, key: bytes
) -> tuple[Reason, tuple[int, int] | None] | None:
    number = values["id"]
    if number > expected_id:
        return Reason.MISSING, (expected_id, number - 1)
    if seal(values, key) != digest:
        return Reason.ALTERED, None
    if values["previous"] != previous:
        return Reason.UNLINKED, None
    return None


def anchored() -> Checkpoint | None:
    """The entry the anchor file names (``inuk.audit.anchor``); None if there is none yet.

    Raises ``ValueError`` if the file is there but is no anchor.
    """
    found = anchor.read()
    return Checkpoint(*found) if found is not None else None


def verify(checkpoint: Checkpoint | None = None) -> Verification:
    """Walk the whole chain and report the first entry that does not hold.

    Also prove that the entry the anchor file names, and the ``checkpoint``
    from an earlier run if given, are still there, unchanged: removing entries
    from the end leaves a chain that is valid in itself, and only this catches
    it, an emptied log included.
    """
    key = _key()
    using = router.db_for_read(Entry)
    expected = {point.id: point.digest for point in (checkpoint, anchored()) if point is not None}
    if checkpoint is not None and expected[checkpoint.id] != checkpoint.digest:
        # The anchor names the same entry with another digest: one of them is false.
        return Verification(False, 0, checkpoint.id, Reason.TRUNCATED)
    previous, expected_id, checked = GENESIS, 1, 0
    last: Checkpoint | None = None
    for batch in _batches(using):
        for row in batch:
            values = dict(zip(CHAINED_FIELDS, row, strict=False))
            number, digest = values["id"], row[-1]
            problem = _problem(values, digest, expected_id, previous, key)
            if problem is None and number in expected and digest != expected.pop(number):
                problem = Reason.TRUNCATED, None
            if problem is not None:
                reason, missing = problem
                return Verification(False, checked, number, reason, missing, last)
            previous, expected_id, checked = digest, number + 1, checked + 1
            last = Checkpoint(number, digest)
    if expected:
        return Verification(False, checked, min(expected), Reason.TRUNCATED, None, last)
    return Verification(True, checked, checkpoint=last)
