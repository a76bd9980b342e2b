"""Workers: one owner per delivery, a heartbeat while it works, and an end for every delivery."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

import pytest
from django.db import connections
from django.db.models import F
from django.test import override_settings

from inuk.audit.log import Event
from inuk.audit.models import Entry
from inuk.format.writers import Person
from inuk.intake import processing
from inuk.intake.models import MAX_ATTEMPTS, Delivery, Message
from inuk.intake.receipts import receipt
from inuk.intake.worker import process, process_pending
from inuk.ledger.models import Transaction
from inuk.vault.models import FileChunk, Identity
from tests.conftest import ANNA, BO, delivery_file, insats

pytestmark = [
    pytest.mark.slow,  # deliveries committed for real, workers in threads: seconds each
    pytest.mark.django_db(transaction=True, databases=["default", "vault"]),
]


def with_one_error() -> bytes:
    return delivery_file(
        [
            Person(ANNA, [insats("SYV"), insats("NOPE", "20240110")]),
            Person(BO, [insats("PRA", "20240201")]),
        ],
    )


def entries(event: Event, delivery: Delivery) -> int:
    return Entry.objects.filter(event=event, target=str(delivery.public_id)).count()


def in_another_thread(work):
    """What ``work()`` returns, run on a thread of its own (so on connections of its own)."""
    answer = []

    def run():
        try:
            answer.append(work())
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return answer[0]


def make_stale(delivery: Delivery) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(
        heartbeat_at=F("heartbeat_at") - dt.timedelta(hours=1)
    )


# --- one owner -------------------------------------------------------------------


def test_a_delivery_taken_over_from_a_stalled_worker_is_applied_once(
    cast, agreements, deliver, monkeypatch
):
    delivery = deliver(cast.vasby, with_one_error(), process_inline=False)
    read = processing.Run.read
    stalled = []

    def read_then_stall(run, stream):
        read(run, stream)
        if not stalled:
            # The first worker stalls past the stale time; a second takes over and finishes.
            stalled.append(run.delivery)
            make_stale(delivery)
            assert process(delivery.pk, "second")

    monkeypatch.setattr(processing.Run, "read", read_then_stall)
    assert process(delivery.pk, "first")

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.APPLIED
    assert (delivery.accepted, delivery.already_known, delivery.rejected) == (2, 0, 1)
    assert Message.objects.filter(delivery=delivery).count() == 1
    assert Transaction.objects.filter(delivery=delivery).count() == 2
    assert entries(Event.DELIVERY_APPLIED, delivery) == 1
    assert not delivery.claimed_by.startswith("first")


@pytest.mark.parametrize("phase", ["reading", "applying"])
def test_the_heartbeat_keeps_a_slow_delivery_from_being_taken_over(
    phase, cast, agreements, deliver, monkeypatch
):
    if phase == "applying" and connections["default"].vendor == "sqlite":
        pytest.skip("SQLite: the apply holds the write lock, so no other worker can claim then")
    delivery = deliver(cast.vasby, with_one_error(), process_inline=False)
    slow = processing.look_up if phase == "reading" else processing.apply_delivery
    taken = []

    def slow_then_try_to_take_over(*args, **kwargs):
        if not taken:
            time.sleep(2.5)  # more than twice the stale time below
            taken.append(
                in_another_thread(lambda: Delivery.objects.claimable().claim(delivery.pk, "second"))
            )
        return slow(*args, **kwargs)

    name = "look_up" if phase == "reading" else "apply_delivery"
    monkeypatch.setattr(processing, name, slow_then_try_to_take_over)
    with override_settings(INUK_WORKER_STALE_SECONDS=1):
        assert process(delivery.pk, "first")

    assert not taken[0]
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.APPLIED
    assert delivery.attempts == 1
    assert entries(Event.DELIVERY_APPLIED, delivery) == 1


def test_a_worker_that_lost_its_claim_rolls_its_apply_back_and_leaves_the_delivery(
    cast, agreements, deliver, monkeypatch
):
    delivery = deliver(cast.vasby, with_one_error(), process_inline=False)
    read = processing.Run.read

    def read_then_lose_the_claim(run, stream):
        read(run, stream)
        Delivery.objects.filter(pk=delivery.pk).update(claimed_by="second/1")

    monkeypatch.setattr(processing.Run, "read", read_then_lose_the_claim)
    assert process(delivery.pk, "first")

    delivery.refresh_from_db()
    assert (delivery.status, delivery.claimed_by) == (Delivery.Status.PROCESSING, "second/1")
    assert Transaction.objects.count() == 0
    assert Message.objects.count() == 0
    assert Identity.objects.count() == 0
    assert entries(Event.DELIVERY_APPLIED, delivery) == 0


# --- every delivery ends ---------------------------------------------------------------


def test_a_delivery_failing_at_every_attempt_ends_failed_with_a_reason(
    cast, agreements, deliver, monkeypatch, caplog
):
    delivery = deliver(cast.vasby, with_one_error(), process_inline=False)

    def broken(*args, **kwargs):
        raise RuntimeError("injected failure")

    monkeypatch.setattr(processing, "apply_delivery", broken)
    with caplog.at_level(logging.ERROR, logger="inuk.intake.processing"):
        process_pending("worker")

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.is_final
    assert delivery.attempts == MAX_ATTEMPTS
    assert delivery.finished_at is not None
    shown = receipt(delivery)
    assert shown["failure"]["code"] == "PROCESSING_FAILED"
    assert "Skicka filen igen" in shown["failure"]["message_sv"]
    assert "Send the file again" in shown["failure"]["message_en"]
    assert shown["errors_total"] == 0
    assert entries(Event.DELIVERY_FAILED, delivery) == 1
    assert entries(Event.DELIVERY_APPLIED, delivery) == 0
    assert any(
        str(delivery.public_id) in r.getMessage() and "will not be tried again" in r.getMessage()
        for r in caplog.records
    )
    assert not FileChunk.objects.filter(delivery_id=delivery.pk).exists()
    assert process_pending("worker") == 0


def test_a_delivery_whose_worker_died_in_its_last_attempt_ends_failed(cast, agreements, deliver):
    delivery = deliver(cast.vasby, with_one_error(), process_inline=False)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.PROCESSING,
        attempts=MAX_ATTEMPTS,
        claimed_by="dead/1",
        heartbeat_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    )

    process_pending("worker")

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.refusal_code == "PROCESSING_FAILED"
    assert entries(Event.DELIVERY_FAILED, delivery) == 1


def test_a_delivery_whose_worker_still_reports_is_not_failed(cast, agreements, deliver):
    delivery = deliver(cast.vasby, with_one_error(), process_inline=False)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.PROCESSING,
        attempts=MAX_ATTEMPTS,
        claimed_by="alive/1",
        heartbeat_at=dt.datetime.now(dt.UTC),
    )

    process_pending("worker")

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.PROCESSING


def test_a_failure_before_the_last_attempt_leaves_the_delivery_to_be_tried_again(
    cast, agreements, deliver, monkeypatch
):
    delivery = deliver(cast.vasby, with_one_error(), process_inline=False)
    apply = processing.apply_delivery
    failures = []

    def fails_twice(*args, **kwargs):
        if len(failures) < 2:
            failures.append(1)
            raise RuntimeError("injected failure")
        return apply(*args, **kwargs)

    monkeypatch.setattr(processing, "apply_delivery", fails_twice)
    process_pending("worker")

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.APPLIED
    assert delivery.attempts == 3
