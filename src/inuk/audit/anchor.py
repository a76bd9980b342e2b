"""The audit log's anchor: its last entry, kept in a file outside the database.

The hash chain shows an entry altered or removed from the middle, but not
entries cut from the end: what is left is itself a valid chain. So after each
entry is committed, its number and digest (a ``Checkpoint``) are written to a
file (``INUK_AUDIT_ANCHOR``, by default ``audit-anchor`` in the data
directory), and ``verify()`` checks that the entry the anchor names is still
in the log, unchanged. Someone who can change the database but not that file
can no longer truncate or empty the log unseen. Copied off the machine (by
backup, log shipping or a monitoring system), the anchor also holds against
someone who controls the machine.

The file is replaced atomically (a temporary file, fsync, rename, fsync of
the directory), so a crash leaves the old anchor or the new, never half of
one. Entries are committed by several processes; a lock file orders their
writes and an anchor never moves back to an earlier entry, so a slow process
cannot overwrite a newer anchor with its older one. An anchor may lag the log
by the entries whose process crashed between commit and write; that is safe,
since the log may always be longer than its anchor, never shorter.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from pathlib import Path

from django.conf import settings

from inuk.audit.models import GENESIS


def path() -> Path:
    return Path(settings.INUK_AUDIT_ANCHOR)


def read() -> tuple[int, str] | None:
    """The anchored entry's number and digest; ``None`` if nothing was ever anchored.

    Raises ``ValueError`` for a file that is not an anchor, which is itself a
    sign of tampering.
    """
    try:
        text = path().read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    number, _, digest = text.strip().partition(":")
    if not number.isdigit() or len(digest) != len(GENESIS):
        raise ValueError(f"{path()} is not an audit anchor (number:digest)")
    return int(number), digest.lower()


def advance(number: int, digest: str) -> None:
    """Anchor the entry ``number`` unless the anchor already names a later one."""
    target = path()
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.with_name(target.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            current = read()
        except ValueError:
            current = None  # overwritten below; verify() has already said it is broken
        if current is not None and current[0] >= number:
            return
        _replace(target, f"{number}:{digest}\n")


def _replace(target: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a crash
    finally:
        os.close(directory)
