"""The fingerprint of a transaction: the ledger's key for "already known".

Two transactions with the same identity, Transaktionsdatum, status and values
have the same fingerprint, and the ledger keeps only one of them. The
fingerprint is the first 128 bits of SHA-256 over a canonical form:

- a head of big-endian integers: the organisation id (8 bytes), the start and
  end dates as days since 2000-01-01 (4 bytes each; no end is 2**31 - 1) and
  the Transaktionsdatum as microseconds since 2000-01-01 00:00 UTC (8 bytes);
- then kind, status, kommunkod, pseudonym, code and system joined by "|", in
  UTF-8.

The head is PostgreSQL's own binary form of these values (``int8send``,
``date_send`` with 'infinity' for no end, ``timestamptz_send``), so the
database computes the fingerprint without formatting dates as text, and its
result does not depend on the session's time zone or date style. System, the
only free text, comes last, so the form cannot be read two ways.

SQLite has no SHA-256: there the fingerprint is computed in Python while the
rows are staged, by the same definition.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import struct

from inuk.ledger.rows import LedgerRow

SIZE = 16

_HEAD = struct.Struct(">qiiq")
_EPOCH = dt.datetime(2000, 1, 1)
_EPOCH_DAY = _EPOCH.toordinal()
_NO_END = 2**31 - 1  # PostgreSQL's date 'infinity'
_MICROSECOND = dt.timedelta(microseconds=1)


def utc(moment: dt.datetime) -> dt.datetime:
    """``moment`` as a naive UTC datetime (the form Django stores on SQLite)."""
    if moment.tzinfo is None:
        raise ValueError("a Transaktionsdatum must be timezone-aware")
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def digest(row: LedgerRow, utc_time: dt.datetime) -> bytes:
    """The fingerprint of ``row`` whose Transaktionsdatum is ``utc_time`` (naive UTC)."""
    head = _HEAD.pack(
        row.organisation_id,
        row.start.toordinal() - _EPOCH_DAY,
        _NO_END if row.end is None else row.end.toordinal() - _EPOCH_DAY,
        (utc_time - _EPOCH) // _MICROSECOND,
    )
    tail = "|".join((row.kind, row.status, row.kommunkod, row.pseudonym, row.code, row.system))
    return hashlib.sha256(head + tail.encode()).digest()[:SIZE]


def fingerprint(row: LedgerRow) -> bytes:
    """The fingerprint of one transaction."""
    return digest(row, utc(row.transaction_time))


def postgresql(alias: str) -> str:
    """The same fingerprint as an SQL expression over the columns of table ``alias``."""
    return f"""substring(sha256(
        int8send({alias}.organisation_id) || date_send({alias}.start)
        || date_send(coalesce({alias}."end", 'infinity'))
        || timestamptz_send({alias}.transaction_time)
        || convert_to(concat_ws('|', {alias}.kind, {alias}.status, {alias}.kommunkod,
                                {alias}.pseudonym, {alias}.code, {alias}.system), 'UTF8')
    ) from 1 for {SIZE})"""
