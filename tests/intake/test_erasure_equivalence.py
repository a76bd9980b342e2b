"""After an erasure the state is what the deliveries would give had they never held the person.

Hypothesis draws deliveries over two persons' shared and own identities
(overlapping, repeated, whole histories sent again), applies them, erases one
person, and compares with a fresh ledger that received only the other's.
"""

from __future__ import annotations

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings

from inuk.intake.erasure import erase_person
from inuk.ledger.models import Person
from inuk.vault.pseudonymize import find, pseudonymize
from tests.intake.deliveries import pnr
from tests.ledger.conftest import ANNA, BO, Ledger
from tests.ledger.test_order_independence import histories, row

pytestmark = pytest.mark.django_db(databases=["default", "vault"])

NUMBERS = {ANNA: pnr("19990101", "123"), BO: pnr("20010202", "456")}


def as_of(history: list[tuple], pseudonyms: dict[str, str]) -> list[tuple]:
    """The drawn history with the test's pseudonyms replaced by the vault's."""
    return [
        ((organisation, pseudonyms[person], kind, code, start), *rest)
        for (organisation, person, kind, code, start), *rest in history
    ]


def state_after(ledger: Ledger, history, deliveries, *, erase: str | None) -> tuple:
    """Apply the deliveries (persons as the vault knows them), erase one; keep nothing."""
    with transaction.atomic(), transaction.atomic(using="vault"):
        known = pseudonymize(NUMBERS.values())
        pseudonyms = {name: known[number] for name, number in NUMBERS.items()}
        drawn = as_of(history, pseudonyms)
        for delivery in deliveries:
            rows = [row(ledger, drawn[i]) for i in delivery]
            if rows:
                ledger.apply(*rows)
        if erase is not None:
            erase_person(NUMBERS[erase], reason="test", case_number="Af-1", actor="test")
            assert find(NUMBERS[erase]) is None
            assert not Person.objects.filter(pseudonym=pseudonyms[erase]).exists()
        # Pseudonyms are random per run: compare with the test's names put back.
        names = {pseudonym: name for name, pseudonym in pseudonyms.items()}
        state = tuple(
            {tuple(names.get(value, value) for value in record) for record in records}
            for records in (ledger.interventions(), ledger.results())
        )
        transaction.set_rollback(True, using="vault")
        transaction.set_rollback(True)
    return state


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(histories())
def test_erasing_a_person_leaves_the_state_a_fresh_ingest_of_the_rest_gives(ledger, drawn):
    history, deliveries, _order = drawn

    after = state_after(ledger, history, deliveries, erase=ANNA)
    without_anna = [[i for i in d if history[i][0][1] != ANNA] for d in deliveries]
    fresh = state_after(ledger, history, without_anna, erase=None)

    assert after == fresh


@pytest.fixture
def ledger(db) -> Ledger:
    return Ledger()
