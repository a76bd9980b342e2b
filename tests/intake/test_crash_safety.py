"""A delivery is applied whole or not at all, whatever happens midway (SPEC §4)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import time

import pytest
from django.db.models import F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inuk.format.synthetic import personnummer
from inuk.format.writers import Person
from inuk.intake import processing
from inuk.intake.models import Delivery, Message
from inuk.intake.worker import process_pending
from inuk.ledger.models import Intervention, Result, Transaction
from inuk.ledger.models import Person as LedgerPerson
from inuk.ledger.rows import LedgerRow
from tests.conftest import delivery_file, insats, resultat
from tests.intake.workers import start_worker

pytestmark = [
    pytest.mark.slow,  # deliveries committed for real and broken midway: seconds each
    pytest.mark.django_db(transaction=True, databases=["default", "vault"]),
]


def people(count: int) -> bytes:
    persons = []
    for i in range(count):
        birth = dt.date(1990, 1, 1) + dt.timedelta(days=i % 7000)
        persons.append(
            Person(
                personnummer(birth, 100 + i // 7000),
                [
                    insats("SYV", "20240105", "20240301", at=f"2024-01-05 10:00:{i % 60:02d}"),
                    insats("KAR", "20240302", status="Registrering", at="2024-03-02 09:00:00"),
                ],
                [resultat("STU", "20240401", at="2024-04-01 08:00:00")],
            )
        )
    return delivery_file(persons)


def nothing_applied() -> bool:
    return (
        Transaction.objects.count() == 0
        and Intervention.objects.count() == 0
        and Result.objects.count() == 0
        and LedgerPerson.objects.count() == 0
        and Message.objects.count() == 0
    )


FAILURE_POINTS = [
    "inuk.intake.processing.look_up",
    "inuk.intake.processing.admit",
    "inuk.intake.processing.apply_delivery",
    "inuk.intake.processing.Run._save_messages",
    "inuk.intake.processing.Run._finish",
    "inuk.intake.processing.audit",
]


@pytest.mark.parametrize("point", FAILURE_POINTS)
def test_a_failure_midway_leaves_nothing_applied_and_the_delivery_retryable(
    point, cast, agreements, deliver, monkeypatch
):
    module_path, _, name = point.rpartition(".")
    owner = processing if module_path == "inuk.intake.processing" else processing.Run
    original = getattr(owner, name)

    def fail_after_doing_the_work(*args, **kwargs):
        original(*args, **kwargs)
        raise RuntimeError("injected failure")

    monkeypatch.setattr(owner, name, fail_after_doing_the_work)
    delivery = deliver(cast.vasby, people(30))
    assert delivery.status == Delivery.Status.RECEIVED
    assert nothing_applied()

    monkeypatch.undo()
    assert process_pending("retry") == 1
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.APPLIED
    assert delivery.accepted == 90


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(fail_at=st.integers(min_value=0, max_value=89))
def test_a_failure_at_any_row_of_the_apply_leaves_nothing(
    fail_at, cast, agreements, deliver, monkeypatch
):
    original_iter = processing.Spool.__iter__

    def failing_iter(self):
        for index, item in enumerate(original_iter(self)):
            # The ledger's rows are spooled as plain tuples of a LedgerRow's values.
            if index == fail_at and isinstance(item, tuple) and len(item) == len(LedgerRow._fields):
                raise RuntimeError("injected failure")
            yield item

    with monkeypatch.context() as patch:
        patch.setattr(processing.Spool, "__iter__", failing_iter)
        delivery = deliver(cast.vasby, people(30) + f"<!-- {fail_at} -->".encode())
    assert delivery.status == Delivery.Status.RECEIVED
    assert Transaction.objects.filter(delivery=delivery).count() == 0
    Delivery.objects.filter(pk=delivery.pk).delete()


def _wait_for(condition, worker, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if worker.poll() is not None:
            raise AssertionError(f"the worker ended early: {worker.stderr.read()[-3000:]}")
        time.sleep(0.02)
    raise AssertionError("timed out waiting")


@pytest.mark.parametrize("phase", ["reading", "applying"])
def test_a_worker_killed_midway_leaves_nothing_applied(phase, cast, agreements, deliver):
    delivery = deliver(cast.vasby, people(20_000), process_inline=False)
    worker = start_worker()

    def progressed() -> bool:
        row = Delivery.objects.values("status", "bytes_read", "size").get(pk=delivery.pk)
        if row["status"] != Delivery.Status.PROCESSING:
            return False
        if phase == "reading":
            return 0 < row["bytes_read"] < row["size"]
        return row["bytes_read"] >= row["size"]

    _wait_for(progressed, worker)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.PROCESSING
    assert nothing_applied()

    # The worker stopped reporting: once it counts as stale, the delivery is taken up again.
    Delivery.objects.filter(pk=delivery.pk).update(
        heartbeat_at=F("heartbeat_at") - dt.timedelta(hours=1)
    )
    assert process_pending("after-kill") == 1
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.APPLIED
    assert delivery.accepted == 60_000
    assert Transaction.objects.count() == 60_000
    assert Intervention.objects.count() == 40_000
    assert Result.objects.count() == 20_000
    assert LedgerPerson.objects.count() == 20_000
