"""``inuk stats``: an indicator's figures on the server, as the API gives them.

    inuk stats participants --period 2026-10 --geography 0114 [--geography 01,SE]
               [--by sex] [--by age] [--source both] [--json | --csv]
               [--as-municipality 0114]
    inuk stats follow-up [--json]
    inuk stats refresh

For administrators on the server: true figures by default, as AF's national
analysts see them; with ``--as-municipality KOMMUNKOD`` protected exactly as
that municipality's analysts see them (the deployment's method, the same
``protect()``). ``--json`` prints the API's JSON answer, ``--csv`` its CSV;
otherwise a table. ``follow-up`` prints the delivery follow-up (indicator 6);
``refresh`` rebuilds the rollups from the current state.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, no_translations

from inuk.organisations.models import Municipality
from inuk.stats import engine, follow_up, render, rollups
from inuk.stats.disclosure import Audience, protect
from inuk.stats.query import Query, QueryError
from inuk.stats.table import Published

#: Where the methods texts are read: the API's list of indicators.
METHODS_PATH = "/api/v1/stats"


def _split(values: list[str]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


class Command(BaseCommand):
    help = "Print an indicator's figures as the API gives them; or the delivery follow-up; or "
    "refresh the rollups."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "indicator",
            metavar="INDICATOR",
            help="participants, started, ended, results, collaboration; or follow-up, refresh",
        )
        parser.add_argument("--period", help="2026-10, 2026-Q3, 2026 or 2025-11..2026-10")
        parser.add_argument(
            "--geography",
            action="append",
            default=[],
            help="0114, 01, SE or g:GROUP; repeat or comma-separate for several series",
        )
        parser.add_argument(
            "--by", action="append", default=[], help="code, sex, age or source (at most two)"
        )
        parser.add_argument("--source", default="both", help="municipal, af or both")
        shape = parser.add_mutually_exclusive_group()
        shape.add_argument("--json", action="store_true", help="the API's JSON answer")
        shape.add_argument("--csv", action="store_true", help="the API's CSV answer")
        parser.add_argument(
            "--as-municipality",
            metavar="KOMMUNKOD",
            help="protected as that municipality's analysts see the figures",
        )

    @no_translations
    def handle(self, *args: Any, indicator: str, **options: Any) -> None:
        if indicator == "refresh":
            self._refresh()
            return
        if indicator == "follow-up":
            self._follow_up(as_json=options["json"])
            return
        audience = Audience.TRUE
        if options["as_municipality"]:
            code = options["as_municipality"].strip().zfill(4)
            if not Municipality.objects.filter(code=code).exists():
                raise CommandError(f"there is no municipality {options['as_municipality']!r}")
            # A municipality's analysts all see the deployment's protected figures.
            audience = Audience.PROTECTED
        if not options["period"] or not options["geography"]:
            raise CommandError("give --period and at least one --geography")
        try:
            question = Query.parse(
                indicator=indicator,
                period=options["period"],
                geographies=_split(options["geography"]),
                by=_split(options["by"]),
                source=options["source"],
            )
        except QueryError as exc:
            raise CommandError(f"{exc.message_en} / {exc.message_sv}") from None
        published = protect(engine.compute(question), audience)
        if options["json"]:
            answer = render.as_json(published, methods_url=f"{METHODS_PATH}#{indicator}")
            self.stdout.write(json.dumps(answer, ensure_ascii=False, indent=2))
        elif options["csv"]:
            self.stdout.write(render.as_csv(published).lstrip("\ufeff"), ending="")
        else:
            self._table(published)

    def _table(self, published: Published) -> None:
        names = [n for n in render.columns(published) if n not in ("indicator", "protection")]
        names.remove("geography_kind")
        lines = [names]
        for row in render.rows(published):
            lines.append(["" if row[n] is None else str(row[n]) for n in names])
        widths = [max(len(line[i]) for line in lines) for i in range(len(names))]
        for line in lines:
            self.stdout.write(
                "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True))
            )
        protection = published.protection
        self.stdout.write(f"\n{protection.description_en}")

    def _follow_up(self, *, as_json: bool) -> None:
        lines = follow_up.follow_up()
        if as_json:
            answer = [
                {
                    "kommunkod": line.kommunkod,
                    "name": line.name,
                    "agreement_state": str(line.agreement_state),
                    "late": line.late,
                    "months_late": line.months_late,
                    "months": {m.label: str(m.state) for m in line.months},
                }
                for line in lines
            ]
            self.stdout.write(json.dumps(answer, ensure_ascii=False, indent=2))
            return
        marks = {"delivered": "x", "late": "!", "open": "?", "not_required": "."}
        for line in lines:
            months = "".join(marks[str(m.state)] for m in line.months)
            last = line.last_delivery
            received = last.received_at.date().isoformat() if last else "-"
            self.stdout.write(
                f"{line.kommunkod} {line.name[:24]:24} {line.agreement_state!s:18} {months} "
                f"{'LATE' if line.late else '    '} last {received}"
            )
        self.stdout.write("x delivered, ! late, ? open (due day not yet passed), . not required")

    def _refresh(self) -> None:
        rollups.rebuild()
        self.stdout.write("Rollups rebuilt from the current state.")
