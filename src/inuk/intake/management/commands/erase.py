"""``inuk erase --case DNR --reason TEXT --by NAME``: erase a person (art. 17), as AF has decided.

The personnummer is read from standard input (one line), never from the
command line, where it would stay in the shell's history and the process
list. What was removed is printed and audited; the number never is.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from inuk.intake.erasure import ErasureRefused, erase_person


class Command(BaseCommand):
    help = (
        "Radera en person ur identitetsvalvet och statistiken (personnumret läses från "
        "standard in). / Erase a person from the identity vault and the statistics "
        "(the personnummer is read from standard input)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--case", required=True, help="AF's case number (diarienummer)")
        parser.add_argument("--reason", required=True, help="why the person is erased")
        parser.add_argument("--by", required=True, help="the identity officer who decided it")

    def handle(self, *args: Any, **options: Any) -> None:
        number = sys.stdin.readline().strip()
        try:
            done = erase_person(
                number,
                reason=options["reason"],
                case_number=options["case"],
                actor=f"inuk erase: {options['by']}",
            )
        except ErasureRefused as refused:
            raise CommandError(f"{refused.message_sv} / {refused.message_en}") from None
        self.stdout.write(
            f"Raderat / Erased: {done.personnummer} personnummer from the vault, "
            f"{done.transactions} transactions, {done.interventions} interventions and "
            f"{done.results} results from the statistics database; "
            f"{done.files} kept delivery files written again without the person."
        )
