"""``inuk audit verify`` proves the audit log whole; ``inuk audit list`` shows its latest entries.

``verify`` exits 0 when the chain holds and 1 when it is broken, so it can run
from cron or a monitoring check. Entries removed from the end, which the
chain alone cannot show, are caught against the anchor file the service keeps
(``inuk.audit.anchor``), with no argument needed. It also prints a checkpoint
(the last entry's number and digest); giving an older copy back with
``--expect`` (or letting ``--checkpoint FILE`` do both) checks against a copy
kept further away than the anchor.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from inuk.audit import anchor
from inuk.audit.log import Checkpoint, Event, verify
from inuk.audit.models import Entry


def _checkpoint(text: str) -> Checkpoint:
    try:
        return Checkpoint.parse(text)
    except ValueError as exc:
        raise CommandError(str(exc)) from None


def _write_atomically(path: Path, text: str) -> None:
    """Replace the file in one step, so a crash never leaves half a checkpoint."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(text)
    Path(temporary).replace(path)


class Command(BaseCommand):
    help = "Verify the audit log's hash chain, or list its latest entries."
    # Proving the log must work on a copy restored for investigation too,
    # whatever else about that deployment is wrong.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{verify,list}")
        check = actions.add_parser("verify", help="prove that no entry was altered or removed")
        given = check.add_mutually_exclusive_group()
        given.add_argument(
            "--expect",
            metavar="ID:DIGEST",
            help="a checkpoint printed by an earlier run; entries up to it must still be there",
        )
        given.add_argument(
            "--checkpoint",
            metavar="FILE",
            type=Path,
            help="read the expected checkpoint from FILE if it exists, and write the new one",
        )
        show = actions.add_parser("list", help="print the latest entries")
        show.add_argument("--last", type=int, default=20, metavar="N", help="how many (20)")
        show.add_argument("--event", choices=[e.value for e in Event], help="only this event")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "verify":
            self.verify(options["expect"], options["checkpoint"])
        else:
            self.show_latest(options["last"], options["event"])

    def verify(self, expect: str | None, checkpoint_file: Path | None) -> None:
        expected = _checkpoint(expect) if expect else None
        if checkpoint_file is not None and checkpoint_file.exists():
            expected = _checkpoint(checkpoint_file.read_text(encoding="utf-8"))
        try:
            result = verify(expected)
        except ValueError as exc:  # an anchor file that is not one
            self.stderr.write(
                f"Granskningsloggens ankare går inte att läsa / Unreadable anchor: {exc}"
            )
            sys.exit(1)
        if not result.ok:
            self.stderr.write(result.message_sv)
            self.stderr.write(result.message_en)
            sys.exit(1)
        self.stdout.write(result.message_sv)
        self.stdout.write(result.message_en)
        if result.checkpoint is None:
            return
        self.stdout.write(f"Kontrollpunkt / Checkpoint: {result.checkpoint}")
        if checkpoint_file is not None:
            _write_atomically(checkpoint_file, f"{result.checkpoint}\n")
        elif expected is None:
            self.stdout.write(
                f"Ankare / Anchor: {anchor.path()}\n"
                "Kopiera ankarfilen eller kontrollpunkten bort från maskinen och ange en kopia "
                "med --expect för att bevisa att inget tagits bort sedan dess.\n"
                "Copy the anchor file or the checkpoint off the machine, and give a copy "
                "with --expect to prove that nothing was removed since."
            )

    def show_latest(self, last: int, event: str | None) -> None:
        if last < 1:
            raise CommandError("--last must be at least 1")
        entries = Entry.objects.order_by("-id")
        if event:
            entries = entries.filter(event=event)
        for entry in list(entries[:last])[::-1]:
            at = entry.at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            details = json.dumps(entry.details, ensure_ascii=False, sort_keys=True)
            columns = [
                str(entry.id),
                at,
                entry.event,
                entry.actor or "-",
                entry.organisation or "-",
                entry.target or "-",
                entry.remote_addr or "-",
            ]
            self.stdout.write("  ".join(columns) + ("  " + details if entry.details else ""))
