"""``inuk ptable``: perturbation tables of the cell key method.

    inuk ptable generate [--max-noise D] [--variance V] [--smallest-shown JS] [-o FILE]
        make a table from its parameters, as a pcv,ckey,pvalue CSV
    inuk ptable describe [FILE] [--cycle N]
        what a table does: the smallest count shown, the largest noise, and the
        mean and variance of the noise of each count (default: the table in use)

A deployment that loads another agency's table (``INUK_STATS_PTABLE``) can see
with ``describe`` what its users will get before switching.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from inuk.stats import ptable
from inuk.stats.disclosure import perturbation_table
from inuk.stats.ptable import PerturbationTable, PerturbationTableError


class Command(BaseCommand):
    help = "Make or describe a perturbation table of the cell key method."
    # ``describe`` is how to find out what is wrong with a table the checks refuse.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        generate = actions.add_parser("generate", help="make a table from its parameters")
        generate.add_argument("--max-noise", type=int, default=ptable.DEFAULT_MAX_NOISE)
        generate.add_argument("--variance", type=float, default=ptable.DEFAULT_VARIANCE)
        generate.add_argument("--smallest-shown", type=int, default=ptable.DEFAULT_SMALLEST_SHOWN)
        generate.add_argument("--key-range", type=int, default=ptable.DEFAULT_KEY_RANGE)
        generate.add_argument("--output", "-o", help="file to write; standard output by default")
        describe = actions.add_parser("describe", help="what a table does to each count")
        describe.add_argument("file", nargs="?", help="default: the table in use")
        describe.add_argument("--cycle", type=int, default=None)

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        try:
            if action == "generate":
                self._generate(**options)
            else:
                self._describe(options["file"], options["cycle"])
        except (PerturbationTableError, ImproperlyConfigured) as exc:
            raise CommandError(str(exc)) from None

    def _generate(self, **options: Any) -> None:
        table = ptable.generate(
            options["max_noise"],
            options["variance"],
            options["smallest_shown"],
            options["key_range"],
        )
        if options["output"]:
            Path(options["output"]).write_text(table.to_csv(), encoding="utf-8")
        else:
            self.stdout.write(table.to_csv(), ending="")

    def _describe(self, file: str | None, cycle: int | None) -> None:
        if cycle is None:
            cycle = 0 if file else settings.INUK_STATS_PTABLE_CYCLE
        if file:
            table = PerturbationTable.from_file(file, cycle=cycle)
        else:
            table = perturbation_table(settings.INUK_STATS_PTABLE, cycle)
        self.stdout.write(
            f"{table.name}: counts 1..{table.max_pcv}, cell keys 0..{table.key_range - 1}, "
            f"largest noise ±{table.max_noise}, smallest count shown {table.smallest_shown}"
        )
        self.stdout.write("count  mean noise  variance  published values")
        for count in range(1, min(table.max_pcv, 30) + 1):
            distribution = table.distribution(count)
            mean = sum((v - count) * p for v, p in distribution.items())
            variance = sum((v - count - mean) ** 2 * p for v, p in distribution.items())
            values = " ".join(str(v) for v in distribution)
            self.stdout.write(f"{count:5d}  {mean:10.3f}  {variance:8.3f}  {values}")
