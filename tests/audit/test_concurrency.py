"""Writers in parallel make one unbroken chain (SQLite's write lock, PostgreSQL's advisory lock)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from inuk.audit.log import Event, record, verify
from inuk.audit.models import Entry

pytestmark = pytest.mark.slow  # writers in threads, committed for real: seconds each

WRITERS = 4
EACH = 25


def run_writers(write) -> list[BaseException]:
    start = threading.Barrier(WRITERS)
    failures: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            start.wait()
            for n in range(EACH):
                write(number, n)
        except BaseException as exc:  # reported by the test, not lost in the thread
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


@pytest.mark.django_db(transaction=True)
def test_writers_in_parallel_make_one_unbroken_chain():
    failures = run_writers(
        lambda w, n: record(Event.TOKEN_USED, actor=f"writer{w}", details={"n": n})
    )

    assert failures == []
    result = verify()
    assert (result.ok, result.checked) == (True, WRITERS * EACH)
    assert list(Entry.objects.values_list("id", flat=True)) == list(range(1, WRITERS * EACH + 1))
    assert set(Entry.objects.values_list("actor", flat=True)) == {
        f"writer{w}" for w in range(WRITERS)
    }


@pytest.mark.django_db(transaction=True)
def test_writers_inside_their_own_transactions_that_sometimes_roll_back_leave_no_hole():
    class Undone(Exception):
        pass

    def write(w: int, n: int) -> None:
        try:
            with transaction.atomic():
                record(Event.DELIVERY_APPLIED, actor=f"writer{w}", details={"n": n})
                if n % 3 == 0:
                    raise Undone
        except Undone:
            pass

    failures = run_writers(write)

    kept = WRITERS * sum(1 for n in range(EACH) if n % 3)
    assert failures == []
    result = verify()
    assert (result.ok, result.checked) == (True, kept)
