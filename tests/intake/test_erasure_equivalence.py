"""After an erasure state and statistics are what the deliveries would give without the person.

Hypothesis draws deliveries over two persons' shared and own identities
(overlapping, repeated, whole histories sent again), applies them with the
rollups kept as deliveries arrive, erases one person, and compares the state,
the rollups and the engine's answers with a fresh ledger that received only
the other's, its rollups built from it.
"""

from __future__ import annotations

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings

from inuk.intake.erasure import erase_person
from inuk.ledger.bulk import PersonRow
from inuk.ledger.models import Person
from inuk.stats import rollups
from inuk.vault.pseudonymize import find, pseudonymize
from tests.conftest import ANNA as ANNA_NUMBER
from tests.conftest import BO as BO_NUMBER
from tests.ledger.conftest import ANNA, BO, Ledger
from tests.ledger.test_order_independence import histories, row
from tests.stats.conftest import TODAY
from tests.stats.snapshot import apply, record_keys, statistics, use_record_keys

pytestmark = pytest.mark.django_db(databases=["default", "vault"])

NUMBERS = {ANNA: ANNA_NUMBER, BO: BO_NUMBER}  # by pseudonym
FACTS = {ANNA: (1999, "K", False), BO: (2001, "M", False)}


def as_of(history: list[tuple], pseudonyms: dict[str, str]) -> list[tuple]:
    """The drawn history with the test's pseudonyms replaced by the vault's."""
    return [
        ((organisation, pseudonyms[person], kind, code, start), *rest)
        for (organisation, person, kind, code, start), *rest in history
    ]


def state_after(
    ledger: Ledger, history, deliveries, *, erase: str | None, keys: dict[str, int] | None = None
) -> tuple:
    """Apply the deliveries (persons as the vault knows them), erase one; keep nothing.

    Returns the state and the statistics, and each person's record key by name.
    With ``keys`` (a fresh ingest) the persons take those record keys and the
    rollups are built afterwards; without, they are kept as deliveries arrive.
    """
    with transaction.atomic(), transaction.atomic(using="vault"):
        known = pseudonymize(NUMBERS.values())
        pseudonyms = {name: known[number] for name, number in NUMBERS.items()}
        drawn = as_of(history, pseudonyms)
        if keys is None:
            rollups.rebuild(TODAY)
        for delivery in deliveries:
            rows = [row(ledger, drawn[i]) for i in delivery]
            if rows:
                persons = sorted({r.pseudonym for r in rows})
                names = {pseudonym: name for name, pseudonym in pseudonyms.items()}
                facts = [PersonRow(p, *FACTS[names[p]]) for p in persons]
                apply(ledger, rows, persons=facts)
        drawn_keys = {name: record_keys().get(pseudonyms[name]) for name in NUMBERS}
        if erase is not None:
            erase_person(NUMBERS[erase], reason="test", case_number="Af-1", actor="test")
            assert find(NUMBERS[erase]) is None
            assert not Person.objects.filter(pseudonym=pseudonyms[erase]).exists()
        if keys is not None:
            use_record_keys({pseudonyms[name]: key for name, key in keys.items() if key})
            rollups.rebuild(TODAY)
        # Pseudonyms are random per run: compare with the test's names put back.
        names = {pseudonym: name for name, pseudonym in pseudonyms.items()}
        state = tuple(
            {tuple(names.get(value, value) for value in record) for record in records}
            for records in (ledger.interventions(), ledger.results())
        )
        figures = statistics()
        transaction.set_rollback(True, using="vault")
        transaction.set_rollback(True)
    return state, figures, drawn_keys


@pytest.mark.slow
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(histories())
def test_erasing_a_person_leaves_what_a_fresh_ingest_of_the_rest_gives(ledger, drawn):
    history, deliveries, _order = drawn

    after, after_figures, keys = state_after(ledger, history, deliveries, erase=ANNA)
    without_anna = [[i for i in d if history[i][0][1] != ANNA] for d in deliveries]
    fresh, fresh_figures, _ = state_after(ledger, history, without_anna, erase=None, keys=keys)

    assert after == fresh
    assert after_figures == fresh_figures


@pytest.fixture
def ledger(db) -> Ledger:
    return Ledger()
