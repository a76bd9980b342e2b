"""A small language for ledger tests: transactions by name, deliveries applied in order.

    ledger.apply(tx("R", at="2024-01-10 10:00"), tx("A", at="2024-02-01 09:00", end=FEB1))

applies one delivery of Upplands Väsby (kommunkod 0114) with those two
transactions, in that order in the file, and returns the ``Outcome``.
``ledger.interventions()`` is the current state as values, ids left out.
"""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.utils import timezone

from inuk.intake.models import Delivery
from inuk.ledger.bulk import LedgerRow, Outcome, PersonRow, apply_delivery
from inuk.ledger.models import Intervention, Result
from inuk.organisations.models import Organisation
from tests.conftest import AF_ORGNR, VASBY_CODE, VASBY_ORGNR

STOCKHOLM = ZoneInfo("Europe/Stockholm")
ANNA = "a" * 32  # pseudonyms
BO = "b" * 32
JAN1 = dt.date(2024, 1, 1)
FEB1 = dt.date(2024, 2, 1)
MAR1 = dt.date(2024, 3, 1)

_checksums = itertools.count(1)

INTERVENTION_VALUES = (
    "organisation__orgnr", "kommunkod", "person__pseudonym", "code", "start", "end", "system",
    "removed",
)  # fmt: skip
RESULT_VALUES = tuple(value for value in INTERVENTION_VALUES if value != "end")


def tx(
    status: str,
    *,
    at: str = "2024-01-10 10:00",
    code: str = "SYV",
    start: dt.date = JAN1,
    end: dt.date | None = None,
    system: str = "SystemX",
    kind: str = "I",
    person: str = ANNA,
    kommunkod: str = VASBY_CODE,
    organisation: int = 0,
) -> LedgerRow:
    """A transaction, ``at`` its Transaktionsdatum in Swedish time.

    Its position and (unless given) its organisation are set when it is applied.
    """
    moment = dt.datetime.fromisoformat(at).replace(tzinfo=STOCKHOLM)
    return LedgerRow(
        0, kind, organisation, kommunkod, person, code, start, end, system, moment, status
    )


def result(status: str, **fields) -> LedgerRow:
    return tx(status, kind="R", code=fields.pop("code", "STU"), **fields)


class Ledger:
    def __init__(self) -> None:
        self.vasby = Organisation.objects.get(orgnr=VASBY_ORGNR)
        self.af = Organisation.objects.get(orgnr=AF_ORGNR)

    def delivery(self, organisation: Organisation | None = None) -> int:
        return Delivery.objects.create(
            organisation=organisation or self.vasby,
            received_at=timezone.now(),
            checksum=f"{next(_checksums):064x}",
            size=1,
        ).pk

    def rows(self, rows, organisation: Organisation) -> list[LedgerRow]:
        return [
            row._replace(position=position, organisation_id=row.organisation_id or organisation.pk)
            for position, row in enumerate(rows)
        ]

    def apply(
        self,
        *rows: LedgerRow,
        organisation: Organisation | None = None,
        persons: list[PersonRow] | None = None,
    ) -> Outcome:
        """One delivery, applied in its own transaction as the pipeline does."""
        organisation = organisation or self.vasby
        rows_ = self.rows(rows, organisation)
        if persons is None:
            persons = [PersonRow(p, 2001, "K", False) for p in sorted({r.pseudonym for r in rows_})]
        delivery_id = self.delivery(organisation)
        with transaction.atomic():
            return apply_delivery(delivery_id, persons, rows_)

    @staticmethod
    def interventions(*, include_removed: bool = True) -> set[tuple]:
        """(orgnr, kommunkod, pseudonym, code, start, end, system, removed) of each record."""
        records = Intervention.objects.all() if include_removed else Intervention.objects.current()
        return set(records.values_list(*INTERVENTION_VALUES))

    @staticmethod
    def results(*, include_removed: bool = True) -> set[tuple]:
        """(orgnr, kommunkod, pseudonym, code, start, system, removed) of each record."""
        records = Result.objects.all() if include_removed else Result.objects.current()
        return set(records.values_list(*RESULT_VALUES))


@pytest.fixture
def ledger(db) -> Ledger:
    return Ledger()
