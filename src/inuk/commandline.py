"""What INUK's management commands share: an organisation number as an argument, and
how the audit log names whoever runs a command.

Every command that takes an organisation number declares it with
``type=orgnr_argument``, so a bad number is refused in the same words by each
(``inuk user``, ``inuk token``, ``inuk ingest``, ``inuk agreement``), before
anything is looked up or changed.
"""

from __future__ import annotations

import argparse
import getpass

from inuk.format.errors import RULES
from inuk.format.identifiers import InvalidIdentifier, normalise_orgnr

#: The forms ``orgnr_argument`` accepts, in both languages.
ORGNR_FORMS = (
    "10 siffror, med eller utan bindestreck före de fyra sista, eller 12 siffror som börjar "
    "med 16 / 10 digits, with or without a dash before the last four, or 12 digits "
    "beginning with 16"
)


def orgnr_argument(text: str) -> str:
    """An organisation number given on the command line, as the ten digits stored.

    Anything else is refused with the reason in Swedish and English. The text
    given is not repeated: a personnummer typed by mistake must not reach a
    terminal's log or a script's.

    >>> orgnr_argument("16212000-0019")
    '2120000019'
    """
    try:
        return normalise_orgnr(text)
    except InvalidIdentifier as exc:
        rule = RULES[exc.code]
        raise argparse.ArgumentTypeError(
            "ogiltigt organisationsnummer / not a valid organisation number: "
            f"{rule.sv} / {rule.en} ({ORGNR_FORMS})"
        ) from None


def cli_actor() -> str:
    """Who runs a command, as the audit log names them: ``cli:<login name>``.

    Just ``cli`` where the login name cannot be known (a bare container).
    """
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"
