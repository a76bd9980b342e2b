"""Swedish identifiers as the delivery format defines them (SPEC §3).

Neither python-stdnum nor the ``personnummer`` package fits the format alone:
stdnum rejects samordningsnummer and 16-prefixed organisation numbers, both
accept centuries and forms the format does not, and neither knows the date a
file was received. So the rules are written out here; the two libraries serve
as oracles in the tests.

The check digit is computed here too, not with ``stdnum.luhn``: a delivery
holds up to millions of personnummer, and stdnum's general-purpose Luhn (any
alphabet) takes about 2 µs, more than all the other checks of a personnummer
together; the table below takes a fifth of that. The tests hold
``luhn_is_valid`` to ``stdnum.luhn`` on every input they try.

Nothing here may let a personnummer escape: errors carry only a code, and a
parsed ``Personnummer`` shows itself masked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from inuk.format.errors import RULES, mask_personnummer

#: Centuries a personnummer may begin with: people born in the 1800s still
#: appear in old registers; nobody is born in the 2100s yet.
CENTURIES = frozenset({"18", "19", "20"})

#: A samordningsnummer (coordination number) adds this to the day of birth.
COORDINATION_DAY_OFFSET = 60


class InvalidIdentifier(ValueError):
    """An identifier breaks a rule; ``code`` is the rule's code in ``errors.RULES``.

    The message names the rule only, never the value, so the exception can be
    logged or shown in a traceback without revealing a personnummer.
    """

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(f"{code}: {RULES[code].en}")


@dataclass(frozen=True, slots=True, repr=False)
class Personnummer:
    """A valid personnummer or samordningsnummer, and what statistics may know of it."""

    #: The twelve digits as delivered (for a samordningsnummer, with day + 60).
    canonical: str
    #: The real date of birth (for a samordningsnummer, the day less 60).
    birth_date: dt.date
    birth_year: int
    #: 'M' if the second-to-last digit is odd, 'K' if it is even.
    sex: str
    #: True for a samordningsnummer.
    coordination: bool

    def __repr__(self) -> str:
        return f"Personnummer({mask_personnummer(self.canonical)})"

    def __str__(self) -> str:
        return mask_personnummer(self.canonical)


#: Two digits -> their share of a Luhn sum over an even number of digits: the
#: first is doubled (digits of the product summed), the second taken as it is.
_LUHN_PAIRS = {
    f"{first}{second}": sum(divmod(2 * first, 10)) + second
    for first in range(10)
    for second in range(10)
}


def luhn_is_valid(digits: str) -> bool:
    """The Luhn check of ten ASCII digits (the check digit last), as ``stdnum.luhn.is_valid``."""
    pairs = _LUHN_PAIRS
    total = (
        pairs[digits[0:2]]
        + pairs[digits[2:4]]
        + pairs[digits[4:6]]
        + pairs[digits[6:8]]
        + pairs[digits[8:10]]
    )
    return total % 10 == 0


def _is_ascii_digits(text: str) -> bool:
    # str.isdigit() alone accepts '²' and Arabic-Indic digits, which int() and
    # Luhn would then read as if they were ASCII.
    return text.isascii() and text.isdigit()


def parse_personnummer(value: str, today: dt.date) -> Personnummer:
    """Check a personnummer (12 digits, no dash) and return what it says.

    The checks run in a fixed order, so a number that breaks several rules
    always gets the same code: format, century, date, birth number, check
    digit, and finally a date of birth after ``today``.

    >>> parse_personnummer("198812121237", dt.date(2025, 1, 1)).sex
    'M'
    """
    digits = value.strip()
    if len(digits) != 12 or not (digits.isascii() and digits.isdigit()):
        raise InvalidIdentifier("PNR_FORMAT")
    if digits[:2] not in CENTURIES:
        raise InvalidIdentifier("PNR_CENTURY")
    # A samordningsnummer's day is 61-91; day 60 is caught as no date at all.
    coordination = digits[6] in "6789"
    try:
        if coordination:
            day = int(digits[6:8]) - COORDINATION_DAY_OFFSET
            birth_date = dt.date(int(digits[:4]), int(digits[4:6]), day)
        else:
            birth_date = dt.date.fromisoformat(digits[:8])  # the fastest way from YYYYMMDD
    except ValueError:
        raise InvalidIdentifier("PNR_DATE") from None
    if digits[8:11] == "000":
        raise InvalidIdentifier("PNR_BIRTH_NUMBER")
    if not luhn_is_valid(digits[2:]):
        raise InvalidIdentifier("PNR_CHECKSUM")
    if birth_date > today:
        raise InvalidIdentifier("PNR_FUTURE")
    # Positional: a frozen dataclass is slow to build, keywords make it slower.
    return Personnummer(
        digits,
        birth_date,
        birth_date.year,
        "M" if digits[10] in "13579" else "K",
        coordination,
    )


def parse_orgnr(value: str) -> str:
    """Check an organisation number and return its ten digits.

    Twelve digits beginning with 16 (the form some registers use) mean the
    same organisation as the ten digits after the 16.

    >>> parse_orgnr("162021002114")
    '2021002114'
    """
    digits = value.strip()
    if not _is_ascii_digits(digits):
        raise InvalidIdentifier("ORGNR_FORMAT")
    if len(digits) == 12 and digits.startswith("16"):
        digits = digits[2:]
    elif len(digits) != 10:
        raise InvalidIdentifier("ORGNR_FORMAT")
    if digits[2] < "2":
        raise InvalidIdentifier("ORGNR_THIRD_DIGIT")
    if not luhn_is_valid(digits):
        raise InvalidIdentifier("ORGNR_CHECKSUM")
    return digits


def normalise_orgnr(text: str) -> str:
    """An organisation number as people write it, as the ten digits stored.

    Accepts ten digits, the same with a dash before the last four
    (``212000-0019``) and the twelve-digit form beginning with 16
    (``162120000019``, ``16212000-0019``). Raises ``InvalidIdentifier`` (a
    ``ValueError``) with the intake's error code for anything else.

    >>> normalise_orgnr("202100-2114")
    '2021002114'
    """
    compact = text.strip()
    if "-" in compact:
        if compact.count("-") != 1 or len(compact) < 5 or compact[-5] != "-":
            raise InvalidIdentifier("ORGNR_FORMAT")
        compact = compact.replace("-", "")
    return parse_orgnr(compact)


def normalise_kommunkod(value: str) -> str:
    """Return a kommunkod as four digits: ``'114'`` is ``'0114'``."""
    digits = value.strip()
    if len(digits) not in (3, 4) or not _is_ascii_digits(digits):
        raise InvalidIdentifier("KOMMUNKOD_FORMAT")
    return digits.zfill(4)
