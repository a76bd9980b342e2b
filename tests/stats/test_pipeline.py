"""Deliveries received the ordinary way keep the rollups current as they are applied."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from inuk.format.synthetic import personnummer
from inuk.format.writers import Person
from inuk.intake.models import Delivery
from inuk.ledger.withdrawal import withdraw
from inuk.stats import engine
from inuk.stats.models import RollupState
from inuk.stats.query import Query
from tests.conftest import AF_ORGNR, VASBY_CODE, delivery_file, insats

pytestmark = pytest.mark.django_db(databases=["default", "vault"])

MARCH = dt.date(2024, 3, 15)
#: Twenty on the day; twenty-five, with a samordningsnummer.
TWENTY = personnummer(dt.date(2004, 3, 12), 123)
TWENTY_FIVE = personnummer(dt.date(1998, 3, 11), 456, coordination=True)


def participants(period: str, by=()) -> tuple[str, list[int]]:
    query = Query.parse(indicator="participants", period=period, geographies=[VASBY_CODE], by=by)
    table = engine.compute(query, today=MARCH)
    return table.origin, [cell.count for cell in table.cells]


def test_an_applied_delivery_is_in_the_rollups_when_its_receipt_says_applied(
    cast, agreements, deliver
):
    assert RollupState.objects.exists()
    delivery = deliver(
        cast.vasby,
        delivery_file(
            [
                Person(TWENTY, [insats(start="20240105", end="20240220")]),
                Person(TWENTY_FIVE, [insats(code="KAR", start="20240201")]),
            ]
        ),
    )

    assert delivery.status == Delivery.Status.APPLIED
    assert participants("2024-01") == ("rollup", [1])
    assert participants("2024-Q1", by=["age"]) == ("rollup", [0, 1, 1, 0, 2])


def test_a_withdrawn_delivery_leaves_the_rollups(cast, agreements, deliver):
    deliver(cast.vasby, delivery_file([Person(TWENTY, [insats(end="20240110")])]))
    mistaken = deliver(
        cast.af,
        delivery_file(
            [Person(personnummer(dt.date(2001, 1, 1), 222), [insats("JSA", end="20240110")])],
            orgnr=AF_ORGNR,
        ),
    )
    assert participants("2024-01") == ("rollup", [2])

    with transaction.atomic():
        withdraw(mistaken.pk)

    assert participants("2024-01") == ("rollup", [1])
