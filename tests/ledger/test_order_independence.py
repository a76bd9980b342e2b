"""SPEC §5: any order of the same deliveries gives the same state; re-sending is harmless.

Hypothesis draws a history of transactions (Registrering, Ändring and Borttag
of a few identities, each at its own Transaktionsdatum) and deliveries that
carry parts of it: overlapping, repeating a transaction within a file, full
histories sent again, and the very same delivery sent twice. Applied in two
different orders they must give the same state, the one a plain reading of
the rules predicts, and the one a rebuild from the ledger derives.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inuk.ledger.bulk import LedgerRow, rebuild
from tests.conftest import VASBY_CODE
from tests.ledger.conftest import ANNA, BO, FEB1, JAN1, MAR1, Ledger, tx

# (organisation, person, kind, code, start): few, so that transactions meet.
IDENTITIES = [
    ("vasby", ANNA, "I", "SYV", JAN1),
    ("vasby", ANNA, "I", "SYV", FEB1),
    ("vasby", BO, "I", "SYV", JAN1),
    ("af", ANNA, "I", "SYV", JAN1),
    ("vasby", ANNA, "R", "STU", FEB1),
]


@st.composite
def transactions(draw) -> list[tuple]:
    count = draw(st.integers(1, 10))
    # Distinct Transaktionsdatum: two different transactions of one identity
    # at the same moment would make the outcome depend on arrival (ties go to
    # the later delivery), which SPEC §5 accepts; order independence is about
    # everything else.
    minutes = draw(st.lists(st.integers(0, 10_000), min_size=count, max_size=count, unique=True))
    drawn = []
    for minute in minutes:
        identity = draw(st.sampled_from(IDENTITIES))
        status = draw(st.sampled_from("RAB"))
        end = draw(st.sampled_from([None, FEB1, MAR1])) if identity[2] == "I" else None
        system = draw(st.sampled_from(["SystemX", "SystemY"]))
        drawn.append((identity, minute, status, end, system))
    return drawn


@st.composite
def histories(draw) -> tuple[list[tuple], list[list[int]], list[int]]:
    history = draw(transactions())
    indexes = st.sampled_from(range(len(history)))
    deliveries = draw(st.lists(st.lists(indexes, min_size=1, max_size=6), min_size=1, max_size=3))
    if draw(st.booleans()):  # the whole history sent again, in any order
        deliveries.append(draw(st.permutations(range(len(history)))))
    if draw(st.booleans()):  # the same delivery sent twice
        deliveries.append(list(draw(st.sampled_from(deliveries))))
    order = draw(st.permutations(range(len(deliveries))))
    return history, deliveries, order


def row(ledger: Ledger, transaction_: tuple) -> LedgerRow:
    (organisation, person, kind, code, start), minute, status, end, system = transaction_
    moment = dt.datetime(2024, 1, 1) + dt.timedelta(minutes=minute)
    return tx(
        status,
        at=moment.isoformat(),
        code=code,
        start=start,
        end=end,
        system=system,
        kind=kind,
        person=person,
        organisation=getattr(ledger, organisation).pk,
    )


def applied(ledger: Ledger, history: list[tuple], deliveries: list[list[int]]) -> tuple:
    """The state after the deliveries, in this order; nothing of it is kept."""
    with transaction.atomic():
        accepted = 0
        for delivery in deliveries:
            accepted += ledger.apply(*(row(ledger, history[i]) for i in delivery)).accepted
        state = (ledger.interventions(), ledger.results())
        rebuild()
        rebuilt = (ledger.interventions(), ledger.results())
        transaction.set_rollback(True)
    assert rebuilt == state
    return state, accepted


def predicted(ledger: Ledger, history: list[tuple], deliveries: list[list[int]]) -> tuple:
    """The state by a plain reading of SPEC §5: per identity, the latest transaction's values."""
    latest: dict[tuple, tuple] = {}
    for index in {i for delivery in deliveries for i in delivery}:
        identity, minute, status, end, system = history[index]
        if identity not in latest or minute > latest[identity][0]:
            latest[identity] = (minute, status, end, system)
    interventions, results = set(), set()
    for (organisation, person, kind, code, start), (_, status, end, system) in latest.items():
        orgnr = getattr(ledger, organisation).orgnr
        if kind == "I":
            interventions.add((orgnr, VASBY_CODE, person, code, start, end, system, status == "B"))
        else:
            results.add((orgnr, VASBY_CODE, person, code, start, system, status == "B"))
    return interventions, results


@pytest.mark.slow  # many drawn histories: seconds
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(histories())
def test_any_order_of_the_same_deliveries_gives_the_same_state(ledger, drawn):
    history, deliveries, order = drawn

    state, accepted = applied(ledger, history, deliveries)
    reordered, accepted_reordered = applied(ledger, history, [deliveries[i] for i in order])

    assert state == reordered == predicted(ledger, history, deliveries)
    # Each distinct transaction is appended exactly once, whoever brought it first.
    assert accepted == accepted_reordered == len({i for d in deliveries for i in d})
