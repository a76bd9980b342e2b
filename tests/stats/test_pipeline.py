"""Deliveries received the ordinary way keep the rollups current as they are applied."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from inuk.intake.models import Delivery
from inuk.ledger.withdrawal import withdraw
from inuk.stats import engine
from inuk.stats.models import RollupState
from inuk.stats.query import Query
from tests.intake.deliveries import AF, VASBY, Person, Tx, pnr, xml
from tests.conftest import VASBY_CODE

pytestmark = pytest.mark.django_db(databases=["default", "vault"])

MARCH = dt.date(2024, 3, 15)


def participants(period: str, by=()) -> tuple[str, list[int]]:
    query = Query.parse(indicator="participants", period=period, geographies=[VASBY_CODE], by=by)
    table = engine.compute(query, today=MARCH)
    return table.origin, [cell.count for cell in table.cells]


def test_an_applied_delivery_is_in_the_rollups_when_its_receipt_says_applied(vasby, deliver):
    assert RollupState.objects.exists()
    delivery = deliver(
        vasby,
        xml(
            *VASBY,
            [
                Person(pnr("20040312"), [Tx(start="20240105", end="20240220")]),
                Person(pnr("19980371", "456"), [Tx(code="KAR", start="20240201")]),  # samordningsnr
            ],
        ),
    )

    assert delivery.status == Delivery.Status.APPLIED
    assert participants("2024-01") == ("rollup", [1])
    assert participants("2024-Q1", by=["age"]) == ("rollup", [0, 1, 1, 0, 2])


def test_a_withdrawn_delivery_leaves_the_rollups(vasby, af, deliver):
    deliver(vasby, xml(*VASBY, [Person(pnr("20040312"), [Tx(end="20240110")])]))
    mistaken = deliver(
        af, xml(AF, VASBY[1], [Person(pnr("20010101", "222"), [Tx(code="JSA", end="20240110")])])
    )
    assert participants("2024-01") == ("rollup", [2])

    with transaction.atomic():
        withdraw(mistaken.pk)

    assert participants("2024-01") == ("rollup", [1])
