"""A small language for statistics tests: people by name, deliveries applied, questions asked.

    book.apply(tx("R", person=ANNA, start=JAN1, end=FEB1))
    book.ask("participants", "2024-01") == [1]

``book.apply`` is one delivery of Upplands Väsby (``organisation=book.af`` for
AF's, ``book.vallentuna`` for Vallentuna's), applied as the pipeline applies
it. ``book.ask`` returns the counts of the table's cells in table order, and
``book.table`` the whole table; both answer as of ``TODAY``, straight from the
state unless ``straight=False`` (then from the rollups where they cover it).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from inuk.ledger.bulk import LedgerRow, Outcome, PersonRow, apply_delivery
from inuk.ledger.models import RECORD_KEY_RANGE, Person
from inuk.ledger.withdrawal import withdraw
from inuk.organisations.models import Organisation
from inuk.stats import engine, rollups
from inuk.stats.query import Query
from inuk.stats.table import Table
from tests.conftest import VALLENTUNA_ORGNR, VASBY_CODE
from tests.ledger.conftest import ANNA, BO, Ledger

CILLA = "c" * 32
DAVID = "d" * 32
EVA = "e" * 32

#: Birth year, sex and samordningsnummer of everyone the tests name.
PEOPLE = {
    ANNA: (2004, "K", False),  # 20 in 2024
    BO: (2007, "M", False),  # 17 in 2024
    CILLA: (1990, "K", False),  # 34 in 2024
    DAVID: (1998, "M", True),  # 26 in 2024, has a samordningsnummer
    EVA: (2005, "K", False),  # 19 in 2024, 20 in 2025
}

TODAY = dt.date(2024, 6, 15)


class Book(Ledger):
    def __init__(self) -> None:
        super().__init__()
        self.vallentuna = Organisation.objects.get(orgnr=VALLENTUNA_ORGNR)
        self.deliveries: list[int] = []

    def apply(  # type: ignore[override]
        self, *rows: LedgerRow, organisation: Organisation | None = None
    ) -> Outcome:
        organisation = organisation or self.vasby
        rows_ = self.rows(rows, organisation)
        persons = [PersonRow(p, *PEOPLE[p]) for p in sorted({r.pseudonym for r in rows_})]
        delivery_id = self.delivery(organisation)
        self.deliveries.append(delivery_id)
        with transaction.atomic():
            outcome = apply_delivery(delivery_id, persons, rows_)
            rollups.delivery_applied(delivery_id)  # as intake.processing.Run.apply does
            return outcome

    def withdraw(self, delivery_id: int) -> None:
        with transaction.atomic():
            withdraw(delivery_id)

    def table(
        self,
        indicator: str,
        period: str,
        geographies=(VASBY_CODE,),
        by=(),
        source="both",
        *,
        straight: bool = True,
    ) -> Table:
        query = Query.parse(
            indicator=indicator, period=period, geographies=list(geographies), by=by, source=source
        )
        if straight:
            return engine.compute_straight(query, today=TODAY)
        return engine.compute(query, today=TODAY)

    def ask(self, *args, **kwargs) -> list[int]:
        return [cell.count for cell in self.table(*args, **kwargs).cells]

    @staticmethod
    def key(*pseudonyms: str) -> int:
        """The cell key of exactly these persons."""
        keys = Person.objects.filter(pseudonym__in=pseudonyms).values_list("record_key", flat=True)
        return sum(keys) % RECORD_KEY_RANGE


@pytest.fixture
def book(db) -> Book:
    return Book()
