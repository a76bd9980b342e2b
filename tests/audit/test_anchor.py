"""The anchor outside the database: a truncated or emptied audit log is caught unprompted."""

from __future__ import annotations

import stat
import threading

import pytest
from django.db import connection, transaction

from inuk.audit import anchor
from inuk.audit.log import Event, Reason, record, verify
from inuk.audit.models import Entry
from inuk.conf import secret_file
from tests.audit.test_audit_command import run

pytestmark = pytest.mark.django_db


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Write entries as committed ones: the anchor follows a commit, not a save."""

    def write(count: int) -> list[Entry]:
        with django_capture_on_commit_callbacks(execute=True):
            return [record(Event.LOGIN, actor=f"user{n}") for n in range(1, count + 1)]

    return write


def test_each_committed_entry_is_anchored_in_a_file_outside_the_database(committed, audit_anchor):
    entries = committed(3)
    assert audit_anchor.read_text(encoding="utf-8") == f"3:{entries[-1].digest}\n"
    assert [p.name for p in audit_anchor.parent.iterdir() if p.name.startswith(".")] == []


def test_verify_catches_entries_cut_from_the_end_without_being_given_a_checkpoint(committed):
    committed(5)
    with connection.cursor() as cursor:  # behind the application's back, as an intruder would
        cursor.execute(f"DELETE FROM {Entry._meta.db_table} WHERE id >= 4")

    result = verify()
    assert not result.ok
    assert (result.reason, result.first_broken, result.checked) == (Reason.TRUNCATED, 5, 3)

    status, _, err = run("verify")
    assert status == 1
    assert "entries at the end were removed" in err


def test_verify_catches_an_emptied_log(committed):
    committed(2)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {Entry._meta.db_table}")

    result = verify()
    assert (result.ok, result.reason, result.checked) == (False, Reason.TRUNCATED, 0)


def test_a_log_that_grew_past_its_anchor_is_whole(committed, audit_anchor):
    committed(2)
    record(Event.LOGOUT, actor="user1")  # committed by nobody yet: the anchor lags
    assert audit_anchor.read_text(encoding="utf-8").startswith("2:")
    assert verify().ok


def test_an_entry_rolled_back_with_its_caller_is_not_anchored(committed, audit_anchor):
    committed(1)
    with pytest.raises(RuntimeError), transaction.atomic():
        record(Event.LOGIN, actor="user2")
        raise RuntimeError("the caller's work failed")
    assert audit_anchor.read_text(encoding="utf-8").startswith("1:")
    assert verify().ok


def test_the_anchor_never_moves_back_to_an_earlier_entry(audit_anchor):
    anchor.advance(7, "a" * 64)
    anchor.advance(6, "b" * 64)  # a slower process, committing its older entry last
    assert anchor.read() == (7, "a" * 64)


def test_a_file_that_is_no_anchor_fails_verification(committed, audit_anchor):
    committed(1)
    audit_anchor.write_text("nothing to see", encoding="utf-8")
    status, _, err = run("verify")
    assert status == 1
    assert "anchor" in err


@pytest.mark.parametrize("round", range(10))  # a race: several rounds make a loss certain
def test_processes_starting_at_once_end_with_one_secret_of_their_own(tmp_path, round):
    path = tmp_path / "audit-key"
    start = threading.Barrier(8)
    found: list[str] = []

    def first_start() -> None:
        start.wait()
        found.append(secret_file(path))

    threads = [threading.Thread(target=first_start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(set(found)) == 1
    assert len(found[0]) >= 60
    assert path.read_text(encoding="utf-8") == found[0]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["audit-key"]
