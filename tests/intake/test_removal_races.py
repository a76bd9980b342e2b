"""A delivery applied while a person leaves the vault brings nothing of the old person back.

A worker reads a delivery (looking its numbers up in the vault) and applies it
a while later. Here an identity officer erases a person, or merges two, or
retention empties a person, in between, at each point where it could go
wrong: the worker has read the file and reaches its apply during the act
(before the erasure's statistics step, or before its vault step) or only
after it has ended. Whatever the timing, the outcome is one of the orders the
two could have run in one after the other: the delivery applied after the
act, its number a new person (or the one left of a merge); every person of
the statistics one the vault knows; no kept file holding an erased number
that no person of the vault holds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connections
from django.utils import timezone

from inuk.format.writers import Person as Written
from inuk.identity import officer as officer_module
from inuk.identity.officer import Officer, Purpose, link_numbers
from inuk.intake import erasure as erasure_module
from inuk.intake import retention
from inuk.intake.erasure import erase_person
from inuk.intake.models import Delivery
from inuk.intake.processing import Run
from inuk.intake.worker import process_pending
from inuk.ledger.models import Person, Transaction
from inuk.vault import pseudonymize
from inuk.vault.files import open_file
from inuk.vault.models import Identity
from inuk.vault.pseudonymize import find
from tests.conftest import ANNA, ANNA_SAMORDNING, BO, Cast, delivery_file, insats

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, databases=["default", "vault"]),
]

#: How long a worker that is not held off is given to apply before the test goes on.
HELD_OFF = 2.0

#: When the worker reaches its apply: during the officer's act, or after it has ended.
DURING, AFTER = "during", "after"


def delivery(*persons: tuple[str, str, str]) -> bytes:
    """A delivery from Upplands Väsby: (personnummer, code, start) for each person."""
    return delivery_file(
        Written(number, [insats(code, start, at=f"{start[:4]}-{start[4:6]}-{start[6:]} 10:00:00")])
        for number, code, start in persons
    )


class Worker:
    """``process_pending`` in a thread of its own, which has read its delivery and goes to apply it.

    ``DURING``: it goes on to apply while the test's thread waits (or until
    ``HELD_OFF`` if it is held off). ``AFTER``: it waits at its apply until
    ``go()``, after the officer's act.
    """

    def __init__(self, when: str) -> None:
        self.when = when
        self.reached_apply = threading.Event()
        self.may_apply = threading.Event()
        self.done = threading.Event()
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._run)
        if when == DURING:
            self.may_apply.set()

    def _run(self) -> None:
        try:
            process_pending("racing")
        except BaseException as exc:  # reported by the test's thread
            self.errors.append(exc)
        finally:
            self.done.set()
            connections.close_all()

    def at_apply(self) -> None:
        self.reached_apply.set()
        self.may_apply.wait(timeout=60)

    def start(self) -> None:
        self.thread.start()
        assert self.reached_apply.wait(timeout=60), "the worker never reached its apply"
        if self.when == DURING:
            self.done.wait(timeout=HELD_OFF)

    def finish(self) -> None:
        self.may_apply.set()
        self.thread.join(timeout=120)
        assert not self.thread.is_alive()
        assert not self.errors, self.errors


def racing(monkeypatch, when: str) -> Worker:
    worker = Worker(when)
    apply = Run.apply
    reached = []

    def announce_then_apply(run: Run) -> None:
        if not reached:  # its first apply only; a second read is not held
            reached.append(True)
            worker.at_apply()
        apply(run)

    monkeypatch.setattr(Run, "apply", announce_then_apply)
    return worker


def before(monkeypatch, module, name: str, act: Callable[[], None]) -> None:
    """Run ``act`` once, just before ``module.name`` is called."""
    real = getattr(module, name)
    acted = []

    def act_first(*args, **kwargs):
        if not acted:
            acted.append(True)
            act()
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, act_first)


def kept(delivery_id: int) -> bytes:
    with open_file(delivery_id) as stream:
        return stream.read()


def assert_every_person_known_to_the_vault() -> None:
    in_vault = set(Identity.objects.values_list("pseudonym", flat=True))
    assert set(Person.objects.values_list("pseudonym", flat=True)) <= in_vault


@pytest.mark.parametrize(
    ("when", "step"),
    [
        (DURING, (erasure_module, "_erase_statistics")),
        (DURING, (pseudonymize, "erase")),
        (AFTER, (erasure_module, "_erase_statistics")),
    ],
    ids=["during-statistics-step", "during-vault-step", "after"],
)
def test_a_delivery_that_arrives_during_an_erasure_makes_a_new_person(
    when, step, cast: Cast, agreements, deliver, monkeypatch
):
    first = deliver(cast.vasby, delivery((ANNA, "SYV", "20240105"), (BO, "PRA", "20240105")))
    erased = find(ANNA)
    worker = racing(monkeypatch, when)
    arriving: list[Delivery] = []

    def a_delivery_arrives_and_is_read() -> None:
        # After the erasure scanned the kept files, so this file keeps the number.
        arriving.append(
            deliver(cast.vasby, delivery((ANNA, "KAR", "20240301")), process_inline=False)
        )
        worker.start()

    before(monkeypatch, *step, a_delivery_arrives_and_is_read)
    erase_person(ANNA, reason="Beslut", case_number="Af-2026/7", actor="officer")
    worker.finish()

    (late,) = arriving
    late.refresh_from_db()
    assert late.status == Delivery.Status.APPLIED
    assert late.attempts == 1  # read again, without using up an attempt
    anna = find(ANNA)
    assert anna is not None and anna != erased
    assert set(Person.objects.values_list("pseudonym", flat=True)) == {anna, find(BO)}
    codes = set(Transaction.objects.filter(person__pseudonym=anna).values_list("code", flat=True))
    assert codes == {"KAR"}
    assert_every_person_known_to_the_vault()
    assert ANNA.encode() not in kept(first.pk)


@pytest.mark.parametrize("when", [DURING, AFTER])
def test_a_delivery_read_before_two_persons_merge_counts_for_the_one_left(
    when, cast: Cast, agreements, deliver, monkeypatch
):
    deliver(cast.vasby, delivery((ANNA_SAMORDNING, "SYV", "20240105")))
    deliver(cast.vasby, delivery((ANNA, "PRA", "20240201")))
    survivor, absorbed = find(ANNA_SAMORDNING), find(ANNA)
    late = deliver(cast.vasby, delivery((ANNA, "KAR", "20240301")), process_inline=False)
    worker = racing(monkeypatch, when)

    before(monkeypatch, officer_module, "link_merging", worker.start)
    link_numbers(
        Officer(cast.identity_officer),
        Purpose("Af-2026/8", "Nytt personnummer"),
        ANNA_SAMORDNING,
        ANNA,
    )
    worker.finish()

    late.refresh_from_db()
    assert late.status == Delivery.Status.APPLIED
    assert find(ANNA) == find(ANNA_SAMORDNING) == survivor
    assert list(Person.objects.values_list("pseudonym", flat=True)) == [survivor]
    assert not Person.objects.filter(pseudonym=absorbed).exists()
    assert set(Transaction.objects.values_list("code", flat=True)) == {"SYV", "PRA", "KAR"}
    assert_every_person_known_to_the_vault()


def test_a_delivery_read_before_retention_empties_its_person_makes_a_new_person(
    cast: Cast, agreements, deliver, monkeypatch, settings
):
    settings.INUK_RETENTION_YEARS = 1
    deliver(cast.vasby, delivery((BO, "PRA", "20240201")))  # older than a year: retention's
    old = find(BO)
    worker = racing(monkeypatch, DURING)
    arriving: list[Delivery] = []

    def a_delivery_of_bo_is_read() -> None:
        arriving.append(
            deliver(cast.vasby, delivery((BO, "KAR", "20261101")), process_inline=False)
        )
        worker.start()

    before(monkeypatch, pseudonymize, "erase", a_delivery_of_bo_is_read)
    retention.run(now=timezone.now())
    worker.finish()

    (late,) = arriving
    late.refresh_from_db()
    assert late.status == Delivery.Status.APPLIED
    bo = find(BO)
    assert bo is not None and bo != old
    assert list(Person.objects.values_list("pseudonym", flat=True)) == [bo]
    assert set(Transaction.objects.values_list("code", flat=True)) == {"KAR"}
    assert_every_person_known_to_the_vault()
