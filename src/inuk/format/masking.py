"""The one rule for what could be a personnummer in free text, and how it is masked.

A personnummer leaks as readily through a file name, a login name, a System
value, an error message or a traceback as through the Personnummer field, and
it need not be written the register's way: glued to letters
(``rapport198812120387.xml``), split by a space (``881212 0387``), with a dash
or plus, in 10 or 12 digits. Every place that shows or stores text masks it
with ``redact()``, so there is one rule to reason about and to test:

    A run of 10 or 12 digits (not touching another digit; letters around it
    do not matter), or 6 or 8 digits and 4 digits with one separator between
    them (``-``, ``+``, a dash of another kind or a space), whose four digits
    before the last four are a plausible month and day of a personnummer or
    samordningsnummer (day + 60), is shown as the digits before its last four
    and ``-****``.

So ``19881212-0387``, ``198812120387``, ``881212 0387`` and
``x8812120387y`` become ``19881212-****``, ``19881212-****``,
``881212-****`` and ``x881212-****y``: the date of birth stays readable for
whoever must find the record, and none of the last four digits (birth number
and check digit) is ever shown. The century is not required and the check
digit not checked, because a mistyped personnummer is still someone's.
Organisation numbers (third digit 2 or more, so never a month) and longer
runs of digits (checksums, counts) are left as they are.

No Django here: the offline validator, ``inuk submit`` and the log filter use
it too.
"""

from __future__ import annotations

import re
import uuid

#: Characters that may stand between a date and a birth number: the dash and
#: plus of the register, a space or other white space, and dashes that word
#: processors put in place of a hyphen.
_SEPARATORS = r"[-+\s\u2010-\u2015\u2212]"

#: Candidates: the date part (6 or 8 digits), an optional separator and four
#: digits, touching no other digit. Whether the date is plausible is decided
#: in Python, which is clearer than a regular expression of calendars.
_CANDIDATE = re.compile(rf"(?<!\d)(\d{{6}}(?:\d{{2}})?)({_SEPARATORS}?)(\d{{4}})(?!\d)")

#: The longest day of each month; 29 for February, since the century is unknown.
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

#: A samordningsnummer adds this to the day of birth.
_COORDINATION_OFFSET = 60

MASK = "-****"


def plausible_month_and_day(month_day: str) -> bool:
    """True if four digits ``MMDD`` are a month and day, or a samordningsnummer's day + 60.

    >>> plausible_month_and_day("1212"), plausible_month_and_day("0161")
    (True, True)
    >>> plausible_month_and_day("1300"), plausible_month_and_day("0231")
    (False, False)
    """
    month, day = int(month_day[:2]), int(month_day[2:])
    if not 1 <= month <= 12:
        return False
    if day > _COORDINATION_OFFSET:
        day -= _COORDINATION_OFFSET
    return 1 <= day <= _DAYS_IN_MONTH[month - 1]


def _mask_candidate(match: re.Match[str]) -> str:
    date = match.group(1)
    if plausible_month_and_day(date[-4:]):
        return date + MASK
    return match.group(0)


def redact(text: str) -> str:
    """``text`` with everything that could be a personnummer masked to its date part.

    >>> redact("leverans_198812120387.xml")
    'leverans_19881212-****.xml'
    >>> redact("kontakt 881212 0387, org 2120000142")
    'kontakt 881212-****, org 2120000142'
    """
    return _CANDIDATE.sub(_mask_candidate, text)


def holds_personnummer(text: str) -> bool:
    """True if ``text`` contains anything ``redact()`` would mask."""
    return any(plausible_month_and_day(m.group(1)[-4:]) for m in _CANDIDATE.finditer(text))


def is_personnummer(text: str) -> bool:
    """True if ``text``, apart from surrounding space, is nothing but what ``redact()`` masks.

    >>> is_personnummer(" 19881212-0387 "), is_personnummer("SystemX 19881212-0387")
    (True, False)
    """
    match = _CANDIDATE.fullmatch(text.strip())
    return match is not None and plausible_month_and_day(match.group(1)[-4:])


def mask_personnummer(value: str) -> str:
    """A value meant as a personnummer, shown without its last four digits, whatever its shape.

    A well-formed one shows its date part (``19881212-****``, ``881212-****``);
    anything else that holds one is masked by the general rule; anything else
    again (too short, a date that is no date) is shown as stars, since it is
    still someone's personnummer, mistyped.

    >>> mask_personnummer("8812120387"), mask_personnummer("19881212038")
    ('881212-****', '***********')
    """
    text = value.strip()
    match = _CANDIDATE.fullmatch(text)
    if match is not None:
        return match.group(1) + MASK
    masked = redact(text)
    return masked if masked != text else "*" * len(text)


def random_id() -> uuid.UUID:
    """A random UUID that ``redact()`` leaves whole, written with dashes or as hex.

    Ids that logs and the audit log name (a receipt's, a request's) pass the
    masking like any other text; one in a few hundred random UUIDs holds a run
    of digits that reads as a personnummer and would be cut, and could then no
    longer be found. Those are drawn again.
    """
    while True:
        drawn = uuid.uuid4()
        if not (holds_personnummer(str(drawn)) or holds_personnummer(drawn.hex)):
            return drawn
