"""``inuk retention [--dry-run]``: remove what may no longer be kept (``inuk.intake.retention``).

Safe to run from cron every night: it removes only what the rules say, is
idempotent, and a run cut short is finished by the next one.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from inuk.intake import retention


class Command(BaseCommand):
    help = (
        "Gallra det som inte längre får sparas. / Remove what may no longer be kept "
        "(INUK_RETENTION_YEARS, INUK_AGREEMENT_RETENTION_DAYS)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="report what would be removed, remove nothing"
        )

    def handle(self, *args: Any, dry_run: bool = False, **options: Any) -> None:
        report = retention.run(dry_run=dry_run)
        for line in report.lines():
            self.stdout.write(line)
