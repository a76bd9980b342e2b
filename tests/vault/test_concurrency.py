"""Two sessions pseudonymizing the same new persons at the same time get one pseudonym each."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connections

from inuk.vault import pseudonymize as module
from inuk.vault.models import Identity
from inuk.vault.pseudonymize import pseudonymize, reidentify
from tests.conftest import many_personnummer

pytestmark = [
    pytest.mark.slow,  # sessions in threads, committed for real: seconds each
    pytest.mark.django_db(transaction=True, databases=["default", "vault"]),
]


def together(*jobs: Callable[[], dict[str, str]]) -> list[dict[str, str]]:
    """Run each job in a thread of its own (so a database connection of its own), all at once."""
    start = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)
    errors: list[BaseException] = []

    def run(index: int, job: Callable[[], dict[str, str]]) -> None:
        try:
            start.wait(timeout=30)
            results[index] = job()
        except BaseException as exc:  # reported by the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


def assert_one_pseudonym_per_number(results: list[dict[str, str]], numbers: list[str]) -> None:
    merged: dict[str, set[str]] = {}
    for result in results:
        for number, pseudonym in result.items():
            merged.setdefault(number, set()).add(pseudonym)
    assert all(len(pseudonyms) == 1 for pseudonyms in merged.values())
    assert set(merged) == set(numbers)
    assert Identity.objects.count() == len(numbers)
    assert Identity.objects.values("pseudonym").distinct().count() == len(numbers)
    for number, (pseudonym,) in merged.items():
        assert reidentify(pseudonym) == [number]


def test_both_see_the_new_persons_missing_and_still_agree_on_their_pseudonyms(monkeypatch):
    """The race made certain: neither inserts before both have found the numbers missing."""
    numbers = many_personnummer(300, seed=31)
    first, second = numbers[:200], numbers[100:]
    both_looked = threading.Barrier(2)
    real = module._pseudonyms_of
    looked = threading.local()

    def look_then_wait(lookups):
        found = real(lookups)
        if not getattr(looked, "done", False):
            looked.done = True
            both_looked.wait(timeout=30)
        return found

    monkeypatch.setattr(module, "_pseudonyms_of", look_then_wait)
    results = together(lambda: pseudonymize(first), lambda: pseudonymize(second))
    assert_one_pseudonym_per_number(results, numbers)


def test_many_batches_from_three_sessions_at_once_give_one_pseudonym_per_number(monkeypatch):
    monkeypatch.setattr(module, "BATCH_SIZE", 40)
    numbers = many_personnummer(600, seed=32)
    jobs = [numbers[:400], numbers[200:], numbers[::2]]
    results = together(*(lambda job=job: pseudonymize(job) for job in jobs))
    assert_one_pseudonym_per_number(results, numbers)
