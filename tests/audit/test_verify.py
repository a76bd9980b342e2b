"""Proving the audit log whole, and what tampering with the database it catches.

Tampering goes through raw SQL, as someone with database access would; the
ORM refuses it (test_record.py).

What the chain catches on its own: a changed field or digest, an entry removed
from the start or the middle, an entry inserted or forged without the key.
What it cannot catch alone: entries removed from the end, since the rest is a
valid chain; a checkpoint kept from an earlier run catches that. Nothing
catches a rewrite by someone holding the key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inuk.audit import log
from inuk.audit.log import Checkpoint, Event, Reason, record, verify
from inuk.audit.models import Entry, canonical

pytestmark = pytest.mark.django_db

TABLE = Entry._meta.db_table


def sql(statement: str, params: list | tuple = ()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement.format(table=TABLE), params)


def write_log(count: int) -> list[Entry]:
    return [
        record(Event.LOGIN, actor=f"user{n}", organisation="2120000142", details={"n": n})
        for n in range(1, count + 1)
    ]


def test_an_untouched_log_verifies_and_gives_its_checkpoint():
    entries = write_log(5)

    result = verify()

    assert (result.ok, result.checked, result.first_broken) == (True, 5, None)
    assert result.checkpoint == Checkpoint(5, entries[-1].digest)
    assert result.message_en == "Audit log intact: 5 entries checked."
    assert result.message_sv == "Granskningsloggen är hel: 5 poster kontrollerade."


def test_an_empty_log_verifies():
    result = verify()

    assert (result.ok, result.checked, result.checkpoint) == (True, 0, None)


def test_a_field_changed_in_the_database_is_named_as_altered():
    write_log(5)
    sql("UPDATE {table} SET actor = %s WHERE id = 3", ["mallory"])

    result = verify()

    assert (result.ok, result.first_broken, result.reason) == (False, 3, Reason.ALTERED)
    assert result.checked == 2
    assert result.message_en.startswith("The audit log is broken at entry 3: its contents")
    assert result.message_sv.startswith("Granskningsloggen är bruten vid post 3:")


def test_a_changed_time_is_named_as_altered():
    write_log(3)
    sql("UPDATE {table} SET at = %s WHERE id = 2", [dt.datetime(2020, 1, 1, tzinfo=dt.UTC)])

    assert (verify().first_broken, verify().reason) == (2, Reason.ALTERED)


def test_changed_details_are_named_as_altered():
    write_log(3)
    cast = "::jsonb" if connection.vendor == "postgresql" else ""
    sql(f"UPDATE {{table}} SET details = %s{cast} WHERE id = 1", ['{"n": 99}'])

    assert (verify().first_broken, verify().reason) == (1, Reason.ALTERED)


def test_a_replaced_digest_is_named_as_altered():
    write_log(3)
    sql("UPDATE {table} SET digest = %s WHERE id = 3", ["f" * 64])

    assert (verify().first_broken, verify().reason) == (3, Reason.ALTERED)


def test_an_entry_removed_from_the_middle_is_named_as_missing_at_the_next():
    write_log(6)
    sql("DELETE FROM {table} WHERE id IN (3, 4)")

    result = verify()

    assert (result.ok, result.first_broken, result.reason) == (False, 5, Reason.MISSING)
    assert result.missing == (3, 4)
    assert "entries 3–4 before it are missing" in result.message_en
    assert "posterna 3–4 före den saknas" in result.message_sv


def test_an_entry_removed_from_the_start_is_noticed():
    write_log(3)
    sql("DELETE FROM {table} WHERE id = 1")

    result = verify()

    assert (result.first_broken, result.reason, result.missing) == (2, Reason.MISSING, (1, 1))
    assert result.message_en.endswith("entry 1 before it is missing; it was removed.")
    assert result.message_sv.endswith("post 1 före den saknas; den har tagits bort.")


def test_a_forged_entry_added_at_the_end_is_named_as_altered():
    entries = write_log(3)
    forged = {
        "id": 4,
        "at": dt.datetime.now(dt.UTC),
        "event": "admin.change",
        "actor": "mallory",
        "organisation": "",
        "target": "",
        "remote_addr": "",
        "details": {},
        "previous": entries[-1].digest,
    }
    guessed_key = b"not the key"
    digest = hmac.new(guessed_key, canonical(forged), hashlib.sha256).hexdigest()
    cast = "::jsonb" if connection.vendor == "postgresql" else ""
    sql(
        "INSERT INTO {table} (id, at, event, actor, organisation, target, remote_addr, details,"
        f" previous, digest) VALUES (%s, %s, %s, %s, %s, %s, %s, %s{cast}, %s, %s)",
        [4, forged["at"], "admin.change", "mallory", "", "", "", "{}", forged["previous"], digest],
    )

    result = verify()

    assert (result.first_broken, result.reason) == (4, Reason.ALTERED)


def test_an_entry_copied_into_place_of_another_is_named_as_altered():
    write_log(4)
    sql(
        "UPDATE {table} SET actor = (SELECT actor FROM {table} WHERE id = 4),"
        " digest = %s WHERE id = 2",
        ["0" * 63 + "1"],
    )

    assert (verify().first_broken, verify().reason) == (2, Reason.ALTERED)


def test_a_renumbered_entry_is_noticed():
    write_log(3)
    sql("UPDATE {table} SET id = 10 WHERE id = 3")

    result = verify()

    assert (result.first_broken, result.reason, result.missing) == (10, Reason.MISSING, (3, 9))


def test_entries_removed_from_the_end_leave_a_valid_chain_but_break_the_checkpoint():
    write_log(5)
    checkpoint = verify().checkpoint
    sql("DELETE FROM {table} WHERE id >= 4")

    alone = verify()
    against_checkpoint = verify(checkpoint)

    assert (alone.ok, alone.checked) == (True, 3)
    assert (against_checkpoint.ok, against_checkpoint.reason) == (False, Reason.TRUNCATED)
    assert against_checkpoint.first_broken == 5
    assert "entries at the end were removed" in against_checkpoint.message_en


def test_a_tail_removed_and_written_anew_breaks_the_checkpoint():
    write_log(5)
    checkpoint = verify().checkpoint
    sql("DELETE FROM {table} WHERE id >= 4")
    write_log(2)

    assert verify().ok
    result = verify(checkpoint)
    assert (result.ok, result.first_broken, result.reason) == (False, 5, Reason.TRUNCATED)


def test_a_checkpoint_from_an_earlier_run_holds_while_the_log_only_grows():
    write_log(3)
    checkpoint = verify().checkpoint
    write_log(2)

    result = verify(checkpoint)

    assert (result.ok, result.checked, result.checkpoint.id) == (True, 5, 5)


def test_a_checkpoint_reads_back_from_its_text():
    checkpoint = Checkpoint(17, "ab" * 32)

    assert Checkpoint.parse(f" {checkpoint}\n") == checkpoint
    with pytest.raises(ValueError):
        Checkpoint.parse("17:short")


def test_verification_reads_in_batches_and_still_finds_the_first_broken_entry(monkeypatch):
    monkeypatch.setattr(log, "_BATCH", 2)
    write_log(7)
    sql("UPDATE {table} SET target = %s WHERE id = 6", ["changed"])

    result = verify()

    assert (result.first_broken, result.checked) == (6, 5)


def test_entries_written_with_another_key_do_not_verify(settings):
    write_log(2)
    settings.INUK_AUDIT_KEY = "another key"

    assert (verify().first_broken, verify().reason) == (1, Reason.ALTERED)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(details=st.dictionaries(st.text(max_size=8), json_values, max_size=4), text=st.text())
def test_any_details_and_text_read_back_from_the_database_to_the_same_digest(details, text):
    entry = record(Event.EXPORT, actor=text, target=text, details=details)
    stored = Entry.objects.get(pk=entry.pk)

    assert stored.details == entry.details
    assert stored.actor == entry.actor
    assert json.dumps(stored.details, sort_keys=True) == json.dumps(entry.details, sort_keys=True)
    assert verify().ok
