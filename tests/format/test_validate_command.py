"""``inuk validate FILE``: offline, no server, no database, no configuration."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from inuk.format.writers import Person
from tests.conftest import ANNA, ANNA_MISTYPED, delivery_file, insats

pytestmark = pytest.mark.slow  # `inuk validate` run as a process, about a second each


def validate(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INUK_", "DJANGO_"))}
    # A data directory that does not exist and cannot be made: the validator must not need one.
    env["INUK_DATA_DIR"] = "/proc/inuk-must-not-be-created"
    return subprocess.run(
        [sys.executable, "-m", "inuk", "validate", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def valid_file(tmp_path) -> Path:
    path = tmp_path / "leverans.xml"
    path.write_bytes(delivery_file([Person(ANNA, [insats("SYV", "20240105", "20240301")])]))
    return path


def test_a_valid_file_exits_0_with_a_summary(valid_file, tmp_path):
    result = validate(str(valid_file), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Filen är giltig. / The file is valid." in result.stdout


def test_the_json_report_has_the_published_shape(valid_file, tmp_path):
    result = validate(str(valid_file), "--json", cwd=tmp_path)
    report = json.loads(result.stdout)
    assert report["valid"] is True
    assert report["format"] == "xml"
    assert report["counts"] == {"persons": 1, "transactions": 1, "errors": 0}
    assert report["errors"] == []


def test_rule_errors_exit_1_and_are_listed_masked(tmp_path):
    path = tmp_path / "fel.xml"
    path.write_bytes(delivery_file([Person(ANNA_MISTYPED, [insats("XYZ")])]))
    result = validate(str(path), "--json", cwd=tmp_path)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    codes = {(e["code"], e["field"]) for e in report["errors"]}
    assert codes == {("PNR_CHECKSUM", "Personnummer"), ("CODE_UNKNOWN", "Insatskod")}
    assert ANNA_MISTYPED not in result.stdout and ANNA_MISTYPED[2:] not in result.stdout
    [pnr_error] = [e for e in report["errors"] if e["code"] == "PNR_CHECKSUM"]
    assert pnr_error["value"] == ANNA_MISTYPED[:8] + "-****"
    assert pnr_error["message_sv"] and pnr_error["message_en"]
    assert pnr_error["line"] and pnr_error["path"].endswith("/Person[1]/Personnummer")


def test_an_unreadable_file_exits_2(tmp_path):
    path = tmp_path / "trasig.xml"
    path.write_bytes(b"<Leverans><Kommunlista>")
    result = validate(str(path), cwd=tmp_path)
    assert result.returncode == 2
    assert "The file cannot be received." in result.stdout
    assert "Traceback" not in result.stderr


def test_a_missing_file_exits_2_without_a_traceback(tmp_path):
    result = validate(str(tmp_path / "finns-inte.xml"), cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_the_format_can_be_forced(valid_file, tmp_path):
    result = validate(str(valid_file), "--format", "csv", "--json", cwd=tmp_path)
    assert result.returncode == 2
    assert json.loads(result.stdout)["errors"][0]["code"] == "FILE_CSV_HEADER"


def test_an_xxe_payload_never_shows_the_local_file(tmp_path):
    path = tmp_path / "xxe.xml"
    path.write_text(
        '<?xml version="1.0"?><!DOCTYPE Leverans [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        "<Leverans><Kommunlista><Kommun><Organisationsnummer>&x;</Organisationsnummer>"
        "</Kommun></Kommunlista></Leverans>"
    )
    result = validate(str(path), "--json", cwd=tmp_path)
    assert result.returncode == 2
    assert json.loads(result.stdout)["errors"][0]["code"] == "FILE_DOCTYPE"
    assert "root:" not in result.stdout + result.stderr


def test_a_file_over_the_size_limit_is_refused_unread(valid_file, tmp_path):
    result = validate(str(valid_file), "--max-bytes", "100", "--json", cwd=tmp_path)
    assert result.returncode == 2
    assert json.loads(result.stdout)["errors"][0]["code"] == "FILE_TOO_LARGE"
