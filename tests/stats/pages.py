"""A small ledger for the statistics pages' tests, in months around today's.

Upplands Väsby (0114) and Vallentuna (0115), both in Stockholm county (01),
and AF, with interventions running through the last complete month, so that
the start pages and the explorer have figures to show without a demo.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from inuk.stats import rollups
from inuk.stats.explorer import last_complete_month
from tests.conftest import VALLENTUNA_CODE
from tests.ledger.conftest import result, tx
from tests.stats.conftest import ANNA, BO, CILLA, DAVID, EVA, Book


def month_start(months_back: int) -> dt.date:
    """The first day of the month ``months_back`` before the last complete one."""
    year, month = last_complete_month(timezone.localdate())
    index = year * 12 + month - 1 - months_back
    return dt.date(index // 12, index % 12 + 1, 1)


def load(book: Book) -> None:
    """Twelve persons' interventions and results over the last two years, rollups built."""
    rollups.rebuild()
    long_ago, last_year, recent = month_start(20), month_start(12), month_start(2)
    at = (timezone.localdate() - dt.timedelta(days=1)).isoformat() + " 10:00"
    book.apply(
        tx("R", person=ANNA, code="SYV", start=long_ago, end=recent, at=at),
        tx("R", person=BO, code="PRA", start=last_year, at=at),
        tx("R", person=CILLA, code="KAR", start=recent, at=at),
        tx("R", person=EVA, code="SYV", start=last_year, end=month_start(1), at=at),
        result("R", person=EVA, code="STU", start=month_start(0), at=at),
        result("R", person=ANNA, code="ARB", start=month_start(0), at=at),
    )
    book.apply(
        tx("R", person=DAVID, code="UTB", start=long_ago, kommunkod=VALLENTUNA_CODE, at=at),
        tx("R", person=BO, code="ATR", start=recent, kommunkod=VALLENTUNA_CODE, at=at),
        organisation=book.vallentuna,
    )
    book.apply(
        tx("R", person=ANNA, code="JSA", start=recent, at=at),
        tx("R", person=DAVID, code="JSA", start=last_year, kommunkod=VALLENTUNA_CODE, at=at),
        organisation=book.af,
    )
