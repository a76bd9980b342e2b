"""Pseudonyms that leave the vault while deliveries are being applied.

A worker looks a delivery's personnummer up in the vault while it reads the
file, and applies what it read a while later. If in between a person's
pseudonym leaves the vault (an erasure, retention, or a merge of two persons
into one), the apply would bring the person back into the statistics under a
pseudonym the vault no longer knows: a person nobody can find, extract or
erase, and an erased person's data back.

So whatever takes pseudonyms out of the vault does it inside ``removing()``:
it waits for every apply in progress to end, holds new ones off until it has
finished (its statistics steps too), and counts itself (``Removal``). An apply
runs inside ``applying()``, and there compares the count with the one it saw
before it began to read; only if a removal came in between does it ask which
of its pseudonyms are ``gone()``, and if any is, it reads the file again.

The lock is one the processes share: an advisory lock of PostgreSQL on the
vault's connection, shared by applies and exclusive for a removal; on SQLite,
where every process runs on the one machine, a lock on a file in the data
directory. It is taken before any transaction, so that nobody waits for it
while holding a database's write lock.
"""

from __future__ import annotations

import fcntl
import threading
from collections.abc import Iterable
from typing import BinaryIO

from django.conf import settings
from django.db import connections
from django.db.models import Max

from inuk.vault.models import Identity, Removal
from inuk.vault.routers import VAULT_DB

#: Key of PostgreSQL's advisory lock between applies and removals ("INUKVREM").
LOCK_KEY = 0x494E554B_5652454D
#: Pseudonyms asked about per query.
CHUNK = 500

_held = threading.local()


def latest_removal() -> int:
    """The number of the latest removal (0 if none): compare it before and after."""
    return Removal.objects.aggregate(last=Max("id"))["last"] or 0


def gone(pseudonyms: Iterable[str]) -> set[str]:
    """Those of ``pseudonyms`` the vault no longer holds."""
    wanted = sorted(set(pseudonyms))
    found: set[str] = set()
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        found.update(
            Identity.objects.filter(pseudonym__in=chunk).values_list("pseudonym", flat=True)
        )
    return set(wanted) - found


def removing() -> _Lock:
    """Hold every apply off while pseudonyms leave the vault; counted as one removal."""
    return _Lock(exclusive=True)


def applying() -> _Lock:
    """Apply a delivery with no removal under way (applies do not wait for each other)."""
    return _Lock(exclusive=False)


class _Lock:
    """The lock between applies and removals, as a context manager.

    Held once per thread: a removal inside a removal (retention erasing a
    person, say) does not wait for itself. Any exception passes through
    unchanged (a plain class, not a generator, so that frozen exceptions do too).
    """

    def __init__(self, *, exclusive: bool) -> None:
        self.exclusive = exclusive
        self.file: BinaryIO | None = None
        self.outermost = False

    def __enter__(self) -> None:
        depth = getattr(_held, "depth", 0)
        _held.depth = depth + 1
        if depth:
            return
        self.outermost = True
        connection = connections[VAULT_DB]
        try:
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(f"SELECT pg_advisory_lock{self._kind}(%s)", [LOCK_KEY])
            else:
                self.file = open(settings.DATA_DIR / "vault-removals.lock", "a+b")
                fcntl.flock(self.file, fcntl.LOCK_EX if self.exclusive else fcntl.LOCK_SH)
        except BaseException:
            _held.depth = depth
            raise

    def __exit__(self, *exc_info: object) -> None:
        _held.depth -= 1
        if not self.outermost:
            return
        try:
            if self.exclusive:
                Removal.objects.create()
        finally:
            if self.file is None:
                with connections[VAULT_DB].cursor() as cursor:
                    cursor.execute(f"SELECT pg_advisory_unlock{self._kind}(%s)", [LOCK_KEY])
            else:
                fcntl.flock(self.file, fcntl.LOCK_UN)
                self.file.close()

    @property
    def _kind(self) -> str:
        return "" if self.exclusive else "_shared"
