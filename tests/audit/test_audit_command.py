"""``inuk audit verify`` and ``inuk audit list``."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command, execute_from_command_line
from django.core.management.base import CommandError
from django.db import connection

from inuk.audit.log import Event, record
from inuk.audit.models import Entry

TABLE = Entry._meta.db_table


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit", *args, stdout=out, stderr=err)
    except SystemExit as exit:
        return int(exit.code), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def tamper(statement: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement.format(table=TABLE))


def write_log(count: int) -> list[Entry]:
    return [record(Event.LOGIN, actor=f"user{n}") for n in range(1, count + 1)]


@pytest.mark.django_db
def test_verify_says_the_log_is_intact_in_swedish_then_english_and_prints_a_checkpoint():
    entries = write_log(3)

    status, out, err = run("verify")

    assert status == 0 and err == ""
    lines = out.splitlines()
    assert lines[:3] == [
        "Granskningsloggen är hel: 3 poster kontrollerade.",
        "Audit log intact: 3 entries checked.",
        f"Kontrollpunkt / Checkpoint: 3:{entries[-1].digest}",
    ]
    assert "--expect" in out


@pytest.mark.django_db
def test_verify_names_the_first_broken_entry_and_exits_with_1():
    write_log(20)
    tamper("UPDATE {table} SET actor = 'mallory' WHERE id = 17")

    status, out, err = run("verify")

    assert status == 1 and out == ""
    swedish, english = err.splitlines()
    assert swedish.startswith("Granskningsloggen är bruten vid post 17: dess innehåll")
    assert english.startswith("The audit log is broken at entry 17: its contents")


@pytest.mark.django_db
def test_verify_with_an_earlier_checkpoint_notices_entries_removed_from_the_end():
    write_log(4)
    checkpoint = run("verify")[1].splitlines()[2].split(": ", 1)[1]
    tamper("DELETE FROM {table} WHERE id = 4")

    assert run("verify")[0] == 0
    status, _, err = run("verify", "--expect", checkpoint)

    assert status == 1
    assert "The audit log is broken at entry 4" in err
    assert "entries at the end were removed" in err


@pytest.mark.django_db
def test_verify_keeps_its_checkpoint_in_a_file_and_checks_it_next_time(tmp_path):
    checkpoint_file = tmp_path / "audit.checkpoint"
    write_log(3)

    assert run("verify", "--checkpoint", str(checkpoint_file))[0] == 0
    assert checkpoint_file.read_text().startswith("3:")
    write_log(2)
    assert run("verify", "--checkpoint", str(checkpoint_file))[0] == 0
    assert checkpoint_file.read_text().startswith("5:")

    tamper("DELETE FROM {table} WHERE id >= 4")
    status, _, err = run("verify", "--checkpoint", str(checkpoint_file))

    assert status == 1 and "entry 5" in err
    assert checkpoint_file.read_text().startswith("5:")


@pytest.mark.django_db
def test_verify_refuses_a_checkpoint_it_cannot_read():
    with pytest.raises(CommandError, match="checkpoint"):
        run("verify", "--expect", "nonsense")


@pytest.mark.django_db
def test_verify_of_an_empty_log_is_intact():
    status, out, _ = run("verify")

    assert status == 0
    assert "Audit log intact: 0 entries checked." in out
    assert "Checkpoint" not in out


@pytest.mark.django_db
def test_list_prints_the_last_entries_oldest_first():
    record(Event.LOGIN, actor="anna")
    record(
        Event.DELIVERY_RECEIVED,
        actor="bertil",
        organisation="2120000142",
        target="r-1",
        details={"size": 10},
    )
    record(Event.LOGOUT, actor="anna")

    status, out, _ = run("list", "--last", "2")

    assert status == 0
    first, second = out.splitlines()
    assert first.startswith("2  ") and "delivery.received  bertil  2120000142  r-1" in first
    assert first.endswith('{"size": 10}')
    assert second.startswith("3  ") and "auth.logout  anna" in second


@pytest.mark.django_db
def test_list_shows_only_the_event_asked_for():
    record(Event.LOGIN, actor="anna")
    record(Event.LOGOUT, actor="anna")

    out = run("list", "--event", "auth.login")[1]

    assert len(out.splitlines()) == 1 and "auth.login" in out


@pytest.mark.django_db(transaction=True)
def test_the_inuk_command_line_runs_audit_verify(capsys):
    write_log(2)
    tamper("UPDATE {table} SET target = 'x' WHERE id = 2")

    with pytest.raises(SystemExit) as exit:
        execute_from_command_line(["inuk", "audit", "verify"])

    assert exit.value.code == 1
    assert "The audit log is broken at entry 2" in capsys.readouterr().err
