"""The statistics as a value, to hold two ways of reaching a state to the same figures.

``statistics()`` is every rollup cell and length row that is not all zero
(a row whose persons all left stays, at zero), the municipalities with
coverage, and the engine's answers to a few questions (participants and
results by sex and by source, per municipality, county and country). Record
keys are random per person, so a fresh ingest takes over the other run's
keys (``record_keys``, ``use_record_keys``) before its rollups are built.
"""

from __future__ import annotations

from django.db import transaction

from inuk.ledger.bulk import LedgerRow, Outcome, PersonRow, apply_delivery
from inuk.ledger.models import Person
from inuk.organisations.models import Organisation
from inuk.stats import engine, rollups
from inuk.stats.models import Coverage, Length, Rollup
from inuk.stats.query import Query
from tests.conftest import VASBY_CODE
from tests.ledger.conftest import Ledger
from tests.stats.conftest import TODAY

QUESTIONS = [
    (indicator, period, by)
    for indicator in ("participants", "results")
    for period in ("2024-01", "2024-Q1")
    for by in (("sex",), ("source",))
]
GEOGRAPHIES = [VASBY_CODE, "01", "SE"]


def apply(
    ledger: Ledger,
    rows: list[LedgerRow],
    *,
    organisation: Organisation | None = None,
    persons: list[PersonRow] | None = None,
) -> Outcome:
    """One delivery applied as ``intake.processing.Run.apply`` applies it, rollups kept."""
    organisation = organisation or ledger.vasby
    rows_ = ledger.rows(rows, organisation)
    if persons is None:
        persons = [PersonRow(p, 2001, "K", False) for p in sorted({r.pseudonym for r in rows_})]
    delivery_id = ledger.delivery(organisation)
    with transaction.atomic():
        outcome = apply_delivery(delivery_id, persons, rows_)
        rollups.delivery_applied(delivery_id)
    return outcome


def record_keys() -> dict[str, int]:
    return dict(Person.objects.values_list("pseudonym", "record_key"))


def use_record_keys(keys: dict[str, int]) -> None:
    for pseudonym, key in keys.items():
        Person.objects.filter(pseudonym=pseudonym).update(record_key=key)


def statistics() -> dict[str, object]:
    cells = {
        row[:7]: row[7:]
        for row in Rollup.objects.values_list(
            "indicator",
            "period",
            "geography",
            "source",
            "code",
            "sex",
            "age",
            "count",
            "persons",
            "key_sum",
        )
        if any(row[7:])
    }
    lengths = {
        row[:7]: row[7]
        for row in Length.objects.values_list(
            "period", "geography", "source", "code", "sex", "age", "days", "count"
        )
        if row[7]
    }
    answers = {
        question: engine.compute(
            Query.parse(
                indicator=question[0], period=question[1], geographies=GEOGRAPHIES, by=question[2]
            ),
            today=TODAY,
        ).cells
        for question in QUESTIONS
    }
    covered = set(Coverage.objects.values_list("kommunkod", flat=True))
    return {"cells": cells, "lengths": lengths, "answers": answers, "covered": covered}
