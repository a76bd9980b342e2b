"""A delivery's lifecycle: claimed once, kept alive, given back or ended, only by its claim."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connections
from django.db.models import F
from django.utils import timezone

from inuk.intake.models import FAILURE, FAILURE_CODE, MAX_ATTEMPTS, Delivery
from inuk.organisations.models import Organisation
from tests.conftest import VASBY_ORGNR

pytestmark = pytest.mark.django_db

COUNTS = {
    "persons": 2,
    "transactions": 3,
    "accepted": 2,
    "rejected": 1,
    "already_known": 0,
    "warnings": 0,
}


@pytest.fixture
def waiting(db) -> Delivery:
    """A received delivery, waiting for a worker (its file plays no part here)."""
    return Delivery.objects.create(
        organisation=Organisation.objects.get(orgnr=VASBY_ORGNR),
        received_at=timezone.now(),
        checksum="0" * 64,
        size=1000,
    )


def claim(delivery: Delivery, worker: str = "first") -> Delivery | None:
    return Delivery.objects.claimable().claim(delivery.pk, worker)


def make_stale(delivery: Delivery) -> None:
    """The worker of ``delivery`` stopped reporting an hour ago."""
    Delivery.objects.filter(pk=delivery.pk).update(
        heartbeat_at=F("heartbeat_at") - dt.timedelta(hours=1)
    )


def row(delivery: Delivery) -> Delivery:
    return Delivery.objects.get(pk=delivery.pk)


# --- claim ---------------------------------------------------------------------------


def test_a_waiting_delivery_is_claimed_under_a_token_of_this_claim(waiting):
    held = claim(waiting, "first")

    assert held is not None
    assert held.status == Delivery.Status.PROCESSING
    assert held.claimed_by.startswith("first/") and held.claimed_by != "first/"
    assert held.attempts == 1
    assert held.heartbeat_at is not None
    assert held.organisation.orgnr == VASBY_ORGNR
    assert row(waiting).claimed_by == held.claimed_by


def test_a_claimed_delivery_is_not_claimed_again_while_its_worker_reports(waiting):
    assert claim(waiting, "first") is not None

    assert claim(waiting, "second") is None
    assert row(waiting).claimed_by.startswith("first/")
    assert row(waiting).attempts == 1


@pytest.mark.django_db(transaction=True)
def test_of_two_workers_racing_for_a_delivery_one_takes_it(waiting):
    start = threading.Barrier(2)
    taken: dict[str, Delivery | None] = {}

    def race(worker: str) -> None:
        try:
            start.wait()
            taken[worker] = claim(waiting, worker)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=race, args=(name,)) for name in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    winners = [held for held in taken.values() if held is not None]
    assert len(winners) == 1
    assert row(waiting).claimed_by == winners[0].claimed_by
    assert row(waiting).attempts == 1


def test_a_delivery_whose_worker_stopped_reporting_is_taken_over(waiting):
    first = claim(waiting, "first")
    assert first is not None
    make_stale(first)

    second = claim(waiting, "second")

    assert second is not None
    assert row(waiting).claimed_by == second.claimed_by
    assert row(waiting).attempts == 2


def test_two_processes_of_one_worker_name_hold_two_claims(waiting):
    first = claim(waiting, "inline")
    assert first is not None
    make_stale(first)
    second = claim(waiting, "inline")
    assert second is not None

    assert second.claimed_by != first.claimed_by
    assert not first.heartbeat()
    assert second.heartbeat()


# --- a claim lost ----------------------------------------------------------------


@pytest.fixture
def taken_over(waiting) -> tuple[Delivery, Delivery]:
    """The first worker's claim, and the second's that took the delivery over from it."""
    first = claim(waiting, "first")
    assert first is not None
    make_stale(first)
    second = claim(waiting, "second")
    assert second is not None
    return first, second


def test_a_worker_whose_claim_was_taken_over_can_no_longer_report_it_alive(taken_over):
    first, second = taken_over

    assert not first.heartbeat(bytes_read=500)
    assert row(second).bytes_read == 0
    assert second.heartbeat(bytes_read=500)
    assert row(second).bytes_read == 500


def test_a_worker_whose_claim_was_taken_over_cannot_end_the_delivery(taken_over):
    first, second = taken_over

    assert not first.finish(Delivery.Status.APPLIED, **COUNTS)
    assert not first.refuse("FILE_NO_TRANSACTIONS")
    assert not first.fail()
    assert not first.release()
    assert not first.note_format("csv")

    after = row(second)
    assert (after.status, after.claimed_by) == (Delivery.Status.PROCESSING, second.claimed_by)
    assert (after.accepted, after.refusal_code, after.format) == (0, "", "")
    assert after.finished_at is None
    assert after.attempts == 2


# --- heartbeat -----------------------------------------------------------------------


def test_a_heartbeat_moves_the_claim_on_and_reports_how_much_is_read(waiting):
    held = claim(waiting)
    assert held is not None
    make_stale(held)

    assert held.heartbeat(bytes_read=250)

    after = row(held)
    assert after.heartbeat_at is not None and after.heartbeat_at > held.heartbeat_at
    assert after.bytes_read == 250
    assert after.progress == 0.25
    assert claim(waiting, "second") is None


def test_a_heartbeat_without_progress_leaves_what_was_read(waiting):
    held = claim(waiting)
    assert held is not None
    assert held.heartbeat(bytes_read=250)

    assert held.heartbeat()
    assert row(held).bytes_read == 250


# --- release -------------------------------------------------------------------------


def test_a_released_delivery_waits_to_be_claimed_again(waiting):
    first = claim(waiting, "first")
    assert first is not None

    assert first.release()

    after = row(waiting)
    assert after.status == Delivery.Status.RECEIVED
    assert (after.claimed_by, after.heartbeat_at) == ("", None)
    assert after.attempts == 1  # the attempt is used up
    assert Delivery.objects.claimable().filter(pk=waiting.pk).exists()
    second = claim(waiting, "second")
    assert second is not None
    assert row(waiting).attempts == 2
    assert not first.heartbeat()


def test_a_release_not_counted_gives_the_attempt_back(waiting):
    held = claim(waiting)
    assert held is not None

    assert held.release(counted=False)

    assert row(waiting).attempts == 0


def test_a_delivery_is_claimed_at_most_max_attempts_times(waiting):
    for attempt in range(1, MAX_ATTEMPTS + 1):
        held = claim(waiting, f"worker{attempt}")
        assert held is not None
        assert held.attempts == attempt
        assert held.last_attempt == (attempt == MAX_ATTEMPTS)
        if not held.last_attempt:
            assert held.release()

    assert held.release()
    assert not Delivery.objects.claimable().filter(pk=waiting.pk).exists()
    assert claim(waiting, "one more") is None


# --- the end ------------------------------------------------------------------------


def test_a_finished_delivery_has_its_counts_and_the_whole_file_read(waiting):
    held = claim(waiting)
    assert held is not None
    assert held.heartbeat(bytes_read=400)

    assert held.finish(Delivery.Status.APPLIED, **COUNTS)

    after = row(held)
    assert after.status == Delivery.Status.APPLIED
    assert after.is_final and after.finished_at is not None
    assert after.bytes_read == after.size
    assert {name: getattr(after, name) for name in COUNTS} == COUNTS


def test_a_finished_delivery_is_nobody_s_to_change_or_claim(waiting):
    held = claim(waiting)
    assert held is not None
    assert held.finish(Delivery.Status.APPLIED, **COUNTS)
    make_stale(held)

    assert not held.heartbeat()
    assert not held.release()
    assert not held.refuse("FILE_NO_TRANSACTIONS")
    assert not held.fail()
    assert claim(waiting, "second") is None
    assert row(held).status == Delivery.Status.APPLIED


def test_a_refused_delivery_has_the_rule_s_reason_and_counts_nothing(waiting):
    held = claim(waiting)
    assert held is not None
    Delivery.objects.filter(pk=held.pk).update(transactions=7, accepted=7)

    assert held.refuse("FILE_NO_TRANSACTIONS")

    after = row(held)
    assert after.status == Delivery.Status.REFUSED
    assert after.refusal_code == "FILE_NO_TRANSACTIONS"
    assert after.refusal_sv and after.refusal_en
    assert after.finished_at is not None
    assert (after.transactions, after.accepted) == (0, 0)


def test_a_failed_delivery_keeps_its_attempts_and_says_why(waiting):
    for _ in range(MAX_ATTEMPTS - 1):
        held = claim(waiting)
        assert held is not None and held.release()
    held = claim(waiting)
    assert held is not None and held.last_attempt

    assert held.fail()

    after = row(held)
    assert after.status == Delivery.Status.FAILED
    assert after.attempts == MAX_ATTEMPTS
    assert (after.refusal_code, after.refusal_sv, after.refusal_en) == (
        FAILURE_CODE,
        FAILURE.sv,
        FAILURE.en,
    )
    assert after.heartbeat_at is None and after.finished_at is not None
    assert after.is_final


# --- abandoned -----------------------------------------------------------------------


@pytest.fixture
def in_last_attempt(waiting) -> Delivery:
    """The delivery as its worker holds it in its last attempt."""
    Delivery.objects.filter(pk=waiting.pk).update(attempts=MAX_ATTEMPTS - 1)
    held = claim(waiting, "last")
    assert held is not None and held.last_attempt
    return held


def test_a_delivery_whose_worker_died_in_its_last_attempt_is_abandoned(in_last_attempt):
    assert not Delivery.objects.abandoned().exists()
    make_stale(in_last_attempt)

    assert list(Delivery.objects.abandoned()) == [in_last_attempt]
    assert not Delivery.objects.claimable().exists()


def test_an_abandoned_delivery_is_failed_as_it_was_read(in_last_attempt):
    make_stale(in_last_attempt)
    abandoned = Delivery.objects.abandoned().get()

    assert abandoned.fail(abandoned=True)

    after = row(abandoned)
    assert (after.status, after.refusal_code) == (Delivery.Status.FAILED, FAILURE_CODE)
    assert after.attempts == MAX_ATTEMPTS


def test_an_abandoned_delivery_whose_worker_reported_since_is_not_failed(in_last_attempt):
    make_stale(in_last_attempt)
    abandoned = Delivery.objects.abandoned().get()

    assert in_last_attempt.heartbeat()

    assert not abandoned.fail(abandoned=True)
    assert row(abandoned).status == Delivery.Status.PROCESSING
    assert in_last_attempt.finish(Delivery.Status.APPLIED, **COUNTS)


# --- not the claim's ---------------------------------------------------------------------


def test_an_erasure_is_counted_whatever_the_delivery_s_state(waiting):
    waiting.count_erasure()
    held = claim(waiting)
    assert held is not None
    assert held.finish(Delivery.Status.APPLIED, **COUNTS)
    held.count_erasure()

    assert row(waiting).erased_persons == 2


def test_the_format_found_is_recorded_under_the_claim(waiting):
    held = claim(waiting)
    assert held is not None

    assert held.note_format("json")

    assert row(held).format == "json"
