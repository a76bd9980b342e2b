"""``inuk groups``: AF's municipality groups, imported from a ``kommunkod;grupp`` file or listed.

    inuk groups import grupper.csv [--actor NAME]
    inuk groups list

The import checks the whole file first: a bad line changes nothing, and the
command exits non-zero naming every bad line (``inuk.organisations.groups``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, no_translations
from django.db.models import Count

from inuk.commandline import cli_actor
from inuk.organisations.groups import GroupFileError, import_groups
from inuk.organisations.models import MunicipalityGroup


class Command(BaseCommand):
    help = "Import AF's municipality groups from a kommunkod;grupp CSV file, or list them."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        load = actions.add_parser("import", help="give each group in FILE exactly its lines")
        load.add_argument("file", type=Path, metavar="FILE")
        load.add_argument(
            "--actor",
            default=cli_actor(),
            help="who makes the change, for the audit log (default: cli:<login name>)",
        )
        actions.add_parser("list", help="every group, its short name and size")

    @no_translations
    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "list":
            groups = MunicipalityGroup.objects.annotate(size=Count("municipalities"))
            for group in groups:
                self.stdout.write(f"g:{group.slug}\t{group.size}\t{group.name}")
            return
        path: Path = options["file"]
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from None
        try:
            result = import_groups(data, actor=options["actor"])
        except GroupFileError as exc:
            raise CommandError(
                f"{exc.message_en}\n{exc.message_sv}\nNothing was changed."
            ) from None
        self.stdout.write(
            f"{len(result.created)} groups created, {len(result.changed)} changed, "
            f"{len(result.unchanged)} unchanged; {result.memberships} memberships."
        )
