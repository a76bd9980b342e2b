"""The rollups kept by deliveries, withdrawals and the passing days equal the rollups rebuilt.

A delivery usually changes a small part of what a person contributes, and
the refresh may look only at what changed. These tests draw the changes that
move a person's contribution from one period to another and hold every
rollup row, after each step, equal to what ``rollups.rebuild()`` derives from
the state for the same day: end dates moved by an Ändring across month,
quarter and year boundaries (or taken away, or given to an open
intervention), Borttag, results on either side of the 90-day window's edges,
open interventions starting before and after the rollups' day, and that day
moved forwards and back across months.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inuk.ledger.bulk import LedgerRow, PersonRow, apply_delivery
from inuk.stats import rollups
from inuk.stats.models import Length, Rollup, RollupState
from tests.conftest import GOTEBORG_CODE, VALLENTUNA_CODE, VASBY_CODE
from tests.ledger.conftest import ANNA, BO, result, tx
from tests.stats.conftest import CILLA, EVA, PEOPLE, Book

D = dt.date
PERSONS = (ANNA, BO, CILLA, EVA)  # EVA is 19 in 2024 and 20 in 2025: age groups by start year
CODES = ("SYV", "KAR")
RESULT_CODES = ("ARB", "STU")
DEPLOYERS = ("vasby", "vallentuna", "af")
#: Starts on and around boundaries of months, quarters and the year.
STARTS = (
    D(2023, 12, 31),
    D(2024, 1, 1),
    D(2024, 1, 31),
    D(2024, 3, 30),
    D(2024, 4, 1),
    D(2024, 6, 20),
)
#: Ends likewise, None being an open intervention.
ENDS = (
    None,
    D(2024, 1, 31),
    D(2024, 2, 1),
    D(2024, 3, 31),
    D(2024, 4, 1),
    D(2024, 6, 30),
    D(2024, 7, 1),
    D(2024, 12, 31),
    D(2025, 1, 1),
)
#: A result's day from an intervention's: its start's neighbours and its window's edge.
RESULT_OFFSETS = ("start", -1), ("start", 0), ("end", 0), ("end", 89), ("end", 90), ("end", 91)
#: Days the rollups are moved to: around month ends and the starts above.
DAYS = (D(2024, 1, 30), D(2024, 3, 31), D(2024, 4, 1), D(2024, 6, 15), D(2024, 6, 19),
        D(2024, 6, 20), D(2024, 7, 1), D(2024, 12, 31))  # fmt: skip


CELL = ("indicator", "period", "geography", "source", "code", "sex", "age")


def snapshot() -> tuple[dict, dict]:
    """Every rollup and length row that is not zero (rows that fall to zero may stay)."""
    cells = {
        row[:7]: row[7:]
        for row in Rollup.objects.values_list(*CELL, "count", "persons", "key_sum")
        if any(row[7:])
    }
    lengths = {
        row[:7]: row[7]
        for row in Length.objects.values_list(
            "period", "geography", "source", "code", "sex", "age", "days", "count"
        )
        if row[7]
    }
    return cells, lengths


def rebuilt() -> tuple[dict, dict]:
    """The rollups ``rebuild()`` derives from the state for the rollups' day; nothing kept."""
    as_of = RollupState.objects.get().as_of
    with transaction.atomic():
        rollups.rebuild(as_of)
        made = snapshot()
        transaction.set_rollback(True)
    return made


def assert_kept_exact(step: Any) -> None:
    kept, expected = snapshot(), rebuilt()
    for name, have, want in zip(("cells", "lengths"), kept, expected, strict=True):
        wrong = {key for key in have.keys() | want.keys() if have.get(key) != want.get(key)}
        assert not wrong, (step, name, sorted((k, have.get(k), want.get(k)) for k in wrong)[:10])


def moment(minutes: int) -> str:
    return (dt.datetime(2024, 1, 1) + dt.timedelta(minutes=minutes)).isoformat(" ")


@st.composite
def histories(draw):
    """Transactions of a few interventions and results: (deliverer, row) each."""
    rows: list[tuple[str, LedgerRow]] = []
    interventions = []
    for _ in range(draw(st.integers(1, 5))):
        deliverer = draw(st.sampled_from(DEPLOYERS))
        kommunkod = {"vasby": VASBY_CODE, "vallentuna": VALLENTUNA_CODE}.get(deliverer) or draw(
            st.sampled_from((VASBY_CODE, VALLENTUNA_CODE, GOTEBORG_CODE))
        )
        person, code = draw(st.sampled_from(PERSONS)), draw(st.sampled_from(CODES))
        start = draw(st.sampled_from(STARTS))
        if draw(st.booleans()):
            start += dt.timedelta(days=366)  # another year, another age group for EVA
        # A Registrering, then Ändring moving the end and perhaps a Borttag.
        statuses = ["R", *draw(st.lists(st.sampled_from("AAB"), max_size=3))]
        for status in statuses:
            end = draw(st.sampled_from(ENDS))
            end = None if end is None else max(end, start)
            at = moment(draw(st.integers(0, 60_000)))
            row = tx(status, at=at, person=person, code=code, start=start, end=end,
                     kommunkod=kommunkod)  # fmt: skip
            rows.append((deliverer, row))
            interventions.append(row)
    for _ in range(draw(st.integers(0, 4))):
        near = draw(st.sampled_from(interventions))
        side, offset = draw(st.sampled_from(RESULT_OFFSETS))
        day = (near.end or near.start) if side == "end" else near.start
        deliverer = draw(st.sampled_from(DEPLOYERS))
        kommunkod = {"vasby": VASBY_CODE, "vallentuna": VALLENTUNA_CODE}.get(
            deliverer
        ) or near.kommunkod
        at = moment(draw(st.integers(0, 60_000)))
        status = draw(st.sampled_from("RRRB"))
        code = draw(st.sampled_from(RESULT_CODES))
        day += dt.timedelta(days=offset)
        row = result(
            status, at=at, person=near.pseudonym, code=code, kommunkod=kommunkod, start=day
        )
        rows.append((deliverer, row))
    return rows


@st.composite
def steps(draw):
    """Deliveries cut from the histories, in a random order, with days and withdrawals between."""
    rows = draw(histories())
    deliveries: list[tuple[str, list[LedgerRow]]] = []
    for deliverer, row in rows:
        ours = [d for d in deliveries if d[0] == deliverer]
        if ours and draw(st.booleans()):
            draw(st.sampled_from(ours))[1].append(row)
        else:
            deliveries.append((deliverer, [row]))
    order = draw(st.permutations(deliveries))
    plan: list[tuple] = []
    for delivery in order:
        plan.append(("apply", *delivery))
        if draw(st.integers(0, 3)) == 0:
            plan.append(("advance", draw(st.sampled_from(DAYS))))
        if draw(st.integers(0, 5)) == 0:
            plan.append(("withdraw", draw(st.integers(0, len(plan)))))
    return draw(st.sampled_from(DAYS)), plan


@pytest.mark.slow
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps())
def test_the_rollups_kept_step_by_step_equal_the_rollups_rebuilt(book: Book, drawn) -> None:
    first_day, plan = drawn
    with transaction.atomic():
        rollups.rebuild(first_day)
        applied: list[int] = []
        for step in plan:
            if step[0] == "apply":
                _, deliverer, rows = step
                book.apply(*rows, organisation=getattr(book, deliverer))
                applied.append(book.deliveries[-1])
            elif step[0] == "advance":
                rollups.advance(step[1])
            elif applied:
                delivery_id = applied.pop(step[1] % len(applied))
                book.withdraw(delivery_id)
            assert_kept_exact(step)
        transaction.set_rollback(True)


def test_a_delivery_that_changes_a_persons_birth_year_moves_them_between_age_groups(book):
    """The vault's description of a person may change (a corrected personnummer): the rollups
    follow, though the delivery changes none of the person's records."""
    rollups.rebuild(D(2024, 6, 15))
    first = tx("R", person=EVA, start=D(2024, 1, 10), end=D(2024, 2, 20))
    book.apply(first)
    assert_kept_exact("applied")

    corrected = PersonRow(EVA, PEOPLE[EVA][0] - 6, "M", False)
    delivery_id = book.delivery(book.vasby)
    with transaction.atomic():
        apply_delivery(delivery_id, [corrected], book.rows([first], book.vasby))
        rollups.delivery_applied(delivery_id)

    assert_kept_exact("corrected")
