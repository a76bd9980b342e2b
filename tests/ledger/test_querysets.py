"""The queries statistics start from: current records and interventions ongoing in a period."""

from __future__ import annotations

import datetime as dt

from inuk.ledger.models import Intervention, Result
from tests.ledger.conftest import BO, FEB1, JAN1, MAR1, result, tx


def test_current_leaves_tombstones_out(ledger):
    ledger.apply(
        tx("R", code="SYV"),
        tx("R", code="KAR"),
        tx("B", code="KAR", at="2024-01-11 10:00"),
        result("R", code="STU"),
        result("B", code="STU", at="2024-01-11 10:00"),
    )

    assert list(Intervention.objects.current().values_list("code", flat=True)) == ["SYV"]
    assert Intervention.objects.count() == 2
    assert not Result.objects.current().exists()


def test_ongoing_in_finds_interventions_overlapping_the_period(ledger):
    ledger.apply(
        tx("R", code="SYV", start=JAN1),  # ongoing, no end
        tx("R", code="KAR", start=JAN1, end=dt.date(2024, 1, 31)),  # ended before February
        tx("R", code="MOT", start=JAN1, end=FEB1),  # ends on the first day
        tx("R", code="JSA", start=dt.date(2024, 2, 29)),  # starts on the last day
        tx("R", code="PRA", start=MAR1),  # starts after
        tx("R", code="ATR", start=JAN1, person=BO),
        tx("B", code="ATR", start=JAN1, person=BO, at="2024-01-11 10:00"),  # removed
    )

    ongoing = Intervention.objects.ongoing_in(FEB1, dt.date(2024, 2, 29))

    assert set(ongoing.values_list("code", flat=True)) == {"SYV", "MOT", "JSA"}
