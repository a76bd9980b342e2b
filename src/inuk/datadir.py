"""The data directory: private to the service's own user, and kept free of leftovers.

Everything the embedded default keeps there can hold personnummer or open
them: the vault's database and key, the statistics database, uploads being
received, spool files of deliveries being read. So the directory is created
readable by its owner only (``0700``), the SQLite databases are made so as
soon as they are opened (SQLite gives its ``-wal`` and ``-shm`` files the
database file's permissions), and system check ``inuk.W004`` names whatever in
it others can read. Only ``static/``, the public assets the pages load, is
left out of the check.

Spool files (``tempfile.TemporaryFile``) have no name and vanish with their
process whatever way it ends. Uploads that Django spools to ``uploads/`` have
a name; they are removed when their request ends, and ``sweep()``, run when
``inuk serve``, ``inuk worker`` or ``inuk demo`` starts, removes those a killed
process left behind.
"""

from __future__ import annotations

import logging
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.core.checks import CheckMessage, Warning, register

log = logging.getLogger(__name__)

PRIVATE_DIRECTORY = 0o700
PRIVATE_FILE = 0o600
#: An upload not written to for this long belongs to no request any more: a
#: request removes its upload when it ends, and writes it while it arrives.
LEFTOVER_SECONDS = 3600
#: Most paths a check message names.
SHOWN = 5


def make_private_directory(path: Path) -> Path:
    """Create ``path`` (and its parents) readable by its owner only, if it does not exist."""
    path.mkdir(mode=PRIVATE_DIRECTORY, parents=True, exist_ok=True)
    return path


def make_private_file(path: Path) -> None:
    """Take the group's and others' access to a file of ours away (no-op if there is none)."""
    try:
        mode = path.stat().st_mode
        if mode & 0o077 and path.stat().st_uid == os.geteuid():
            path.chmod(stat.S_IMODE(mode) & PRIVATE_FILE)
    except FileNotFoundError:
        pass


def private_sqlite_file(sender, connection, **kwargs) -> None:
    """On each new SQLite connection: its database file is private (``connection_created``)."""
    if connection.vendor == "sqlite":
        name = str(connection.settings_dict.get("NAME") or "")
        if name and name != ":memory:" and not name.startswith("file:"):
            make_private_file(Path(name))


def exposed(root: Path) -> Iterator[Path]:
    """``root`` and what under it others than its owner may read, write or enter."""
    if not root.exists():
        return
    if root.stat().st_mode & 0o077:
        yield root
    static = Path(settings.STATIC_ROOT).resolve()
    for directory, subdirectories, files in os.walk(root):
        here = Path(directory)
        subdirectories[:] = [d for d in subdirectories if (here / d).resolve() != static]
        for name in (*subdirectories, *files):
            path = here / name
            try:
                if path.lstat().st_mode & 0o077 and not path.is_symlink():
                    yield path
            except FileNotFoundError:
                continue  # removed while we looked


@register()
def data_directory_is_private(app_configs, **kwargs) -> list[CheckMessage]:
    root = Path(settings.DATA_DIR)
    found = []
    for path in exposed(root):
        found.append(path)
        if len(found) > SHOWN:
            break
    if not found:
        return []
    named = ", ".join(str(path) for path in found[:SHOWN]) + (" …" if len(found) > SHOWN else "")
    return [
        Warning(
            f"Other users can read the data directory or files in it: {named}.",
            hint=f"It holds the databases, keys and uploads: run `chmod -R go-rwx {root}` "
            "and start the service as the user that owns it.",
            id="inuk.W004",
        )
    ]


def sweep(*, now: float | None = None) -> int:
    """Remove uploads a killed process left in ``FILE_UPLOAD_TEMP_DIR``; returns how many."""
    directory = Path(settings.FILE_UPLOAD_TEMP_DIR)
    before = (time.time() if now is None else now) - LEFTOVER_SECONDS
    removed = 0
    for path in directory.glob("*"):
        try:
            if path.is_file() and not path.is_symlink() and path.stat().st_mtime < before:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    if removed:
        log.info("Removed %d upload(s) left behind by a stopped process", removed)
    return removed
