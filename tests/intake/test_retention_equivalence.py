"""After retention, state and statistics are what a fresh ingest of what is left gives.

The rule: a transaction whose Transaktionsdatum is before the limit goes,
counting or withdrawn, whatever delivery brought it; the rest of the same
deliveries stays. So the state and the statistics afterwards are exactly
those of a fresh ledger that received the same deliveries with the old
transactions cut out of each (a delivery left empty brings nothing). An
Ändring or Borttag that outlives its Registrering then counts as a fresh
ingest of it alone counts. Hypothesis draws the deliveries and the limit.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inuk.intake.retention import run
from inuk.ledger.models import Person, Transaction
from inuk.stats import rollups
from tests.ledger.conftest import STOCKHOLM, Ledger
from tests.ledger.test_order_independence import histories, row
from tests.stats.conftest import TODAY
from tests.stats.snapshot import apply, record_keys, statistics, use_record_keys

pytestmark = pytest.mark.django_db(databases=["default", "vault"])


def state_after(
    ledger: Ledger, history, deliveries, *, now: dt.datetime | None, keys=None
) -> tuple:
    """Apply the deliveries, then run retention as of ``now`` (if given); keep nothing."""
    with transaction.atomic():
        if keys is None:
            rollups.rebuild(TODAY)
        for delivery in deliveries:
            if delivery:
                apply(ledger, [row(ledger, history[i]) for i in delivery])
        drawn_keys = record_keys()
        if now is not None:
            run(now=now)
        if keys is not None:
            use_record_keys(keys)
            rollups.rebuild(TODAY)
        state = (ledger.interventions(), ledger.results())
        persons = set(Person.objects.values_list("pseudonym", flat=True))
        figures = statistics()
        transaction.set_rollback(True)
    return state, persons, figures, drawn_keys


@st.composite
def cut(draw) -> tuple:
    history, deliveries, _order = draw(histories())
    # The history runs 2024-01-01 to 2024-01-07; the limit falls anywhere around it.
    day = draw(st.integers(1, 9))
    return history, deliveries, day


@pytest.mark.slow
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(cut())
def test_retention_leaves_what_a_fresh_ingest_without_the_old_transactions_gives(
    ledger, settings, drawn
):
    history, deliveries, day = drawn
    settings.INUK_RETENTION_YEARS = 1
    now = dt.datetime(2025, 1, day, 12, tzinfo=STOCKHOLM)
    limit = dt.datetime(2024, 1, day, tzinfo=STOCKHOLM)

    after, persons, figures, keys = state_after(ledger, history, deliveries, now=now)
    young = [
        [i for i in d if row(ledger, history[i]).transaction_time >= limit] for d in deliveries
    ]
    fresh, fresh_persons, fresh_figures, _ = state_after(
        ledger, history, young, now=None, keys=keys
    )

    assert after == fresh
    assert persons == fresh_persons
    assert figures == fresh_figures


def test_a_run_refreshes_the_statistics_person_by_person_without_a_rebuild(
    ledger, settings, monkeypatch
):
    settings.INUK_RETENTION_YEARS = 1
    old = (("vasby", "a" * 32, "I", "SYV", dt.date(2024, 1, 1)), 0, "R", None, "SystemX")
    rollups.rebuild(TODAY)
    apply(ledger, [row(ledger, old)])

    def no_rebuild(*args, **kwargs):
        raise AssertionError("retention rebuilt the rollups")

    monkeypatch.setattr(rollups, "rebuild", no_rebuild)
    run(now=dt.datetime(2025, 6, 1, tzinfo=STOCKHOLM))

    assert not Transaction.objects.exists()
    assert statistics()["cells"] == {}


@pytest.fixture
def ledger(db) -> Ledger:
    return Ledger()
