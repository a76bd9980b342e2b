"""A large XML file validated by several processes, each reading a stretch of its bytes.

Wherever the file is cut, the shards together must report what one process
reports: the same counts, the same errors in the same order, the same refusal.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inuk.format import readers
from inuk.format import report as reports
from inuk.format.errors import FileRefused
from inuk.format.readers.shards import Shard, Unshardable
from inuk.format.readers.streams import CHUNK_SIZE
from inuk.format.synthetic import personnummer
from inuk.format.validation import STOCKHOLM, Context
from inuk.format.writers import Kommun, Person
from tests.conftest import (
    VALLENTUNA_CODE,
    VALLENTUNA_ORGNR,
    VASBY_CODE,
    VASBY_ORGNR,
    delivery_file,
    insats,
    resultat,
)

EXAMPLES = Path(__file__).resolve().parents[3] / "docs" / "format" / "examples"


def detected_as_xml(path: Path) -> bool:
    """Whether the format is told from the file: only then is it read in shards."""
    try:
        return readers.detect(path.read_bytes()[: readers.HEAD_SIZE]) == "xml"
    except FileRefused:
        return False


XML_EXAMPLES = [
    path
    for path in sorted([EXAMPLES / "valid.xml", *(EXAMPLES / "invalid").glob("*.xml")])
    if detected_as_xml(path)
]
CONTEXT = Context(received_at=dt.datetime(2024, 6, 1, 12, tzinfo=STOCKHOLM))


def one_process(path: Path, max_errors: int = 10_000) -> dict:
    return reports.validate_path(path, context=CONTEXT, max_errors=max_errors, jobs=1)


def in_shards(
    path: Path, cuts: list[int], max_errors: int = 10_000, chunk_size: int = CHUNK_SIZE
) -> dict:
    """The shards cut at ``cuts`` (byte offsets), read one after the other in this process.

    libxml2 may name a fault differently as the bytes come in other pieces,
    so shards are compared with one shard fed in pieces of the same size.
    """
    bounds = [0, *sorted(cuts), None]
    shards = [
        reports.validate_shard(
            path,
            Shard(bounds[k], bounds[k + 1], chunk_size),
            CONTEXT,
            max_errors=max_errors,
            max_bytes=10**9,
        )
        for k in range(len(bounds) - 1)
    ]
    return reports.merge_shards(shards, max_errors)


def even_cuts(path: Path, count: int) -> list[int]:
    size = path.stat().st_size
    return [size * k // count for k in range(1, count)]


@pytest.mark.parametrize("path", XML_EXAMPLES, ids=lambda path: path.name)
def test_one_shard_of_the_whole_file_reports_as_one_process(path):
    assert in_shards(path, []) == one_process(path)


@pytest.mark.slow  # every example cut every way: seconds
@pytest.mark.parametrize("path", XML_EXAMPLES, ids=lambda path: path.name)
@pytest.mark.parametrize("count", [2, 3])
@pytest.mark.parametrize("chunk_size", [64, CHUNK_SIZE])
def test_every_example_reports_the_same_in_shards(path, count, chunk_size):
    whole = in_shards(path, [], chunk_size=chunk_size)
    assert in_shards(path, even_cuts(path, count), chunk_size=chunk_size) == whole


def born(year: int, month: int, day: int, n: int) -> str:
    return personnummer(dt.date(year, month, day), n)


# Persons of every kind the reader treats apart, valid and broken.
GOOD = insats()
PERSONS = [
    lambda n: Person(born(1990, 1, 1, n), [GOOD, insats("KAR", "20240201")]),
    lambda n: Person(born(1985, 5, 5, n), [], [resultat("ARB")]),
    lambda n: Person("19900101-1234", [GOOD]),  # PERSONNUMMER_FORMAT
    lambda n: Person(born(1992, 2, 2, n), [insats("NOPE"), insats(start="20241301")]),
    lambda n: Person(born(1993, 3, 3, n), [insats(status="Kanske"), insats(end="20230101")]),
    lambda n: Person(born(1994, 4, 4, n), []),  # PERSON_WITHOUT_LISTS
    lambda n: Person(born(1995, 5, 5, n), [insats(system="")]),
]
#: Broken structure between and inside persons, spliced into the file.
SPLICES = [
    ("<Insats>", "<Insats><Okänt>x</Okänt>"),
    ("<Person>", "<Främmande/><Person>"),
    ("<Status>", "<Status>Registrering</Status><Status>"),
    ("</Personlista>", "</Personlista><Extra>1</Extra>"),
]


@st.composite
def deliveries(draw) -> bytes:
    def persons(offset: int) -> list[Person]:
        kinds = draw(st.lists(st.integers(0, len(PERSONS) - 1), min_size=1, max_size=12))
        return [PERSONS[kind](offset + index) for index, kind in enumerate(kinds)]

    kommuner = [Kommun(VASBY_ORGNR, VASBY_CODE, persons(0))]
    if draw(st.booleans()):
        kommuner.append(Kommun(VALLENTUNA_ORGNR, VALLENTUNA_CODE, persons(100)))
    data = delivery_file(kommuner=kommuner).decode()
    for old, new in draw(st.lists(st.sampled_from(SPLICES), max_size=3)):
        occurrences = data.count(old)
        if occurrences:
            which = draw(st.integers(0, occurrences - 1))
            parts = data.split(old)
            data = old.join(parts[: which + 1]) + new + old.join(parts[which + 1 :])
    return data.encode()


@pytest.mark.slow  # many drawn files: seconds
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=deliveries(),
    cuts=st.lists(st.floats(0, 1.2), min_size=1, max_size=3),
    chunk_size=st.sampled_from([1, 7, 64, 4096]),
    max_errors=st.sampled_from([1, 3, 10_000]),
)
def test_any_delivery_cut_anywhere_reports_the_same_in_shards(
    tmp_path, data, cuts, chunk_size, max_errors
):
    path = tmp_path / "delivery.xml"
    path.write_bytes(data)
    at = [round(cut * len(data)) for cut in cuts]
    whole = in_shards(path, [], max_errors, chunk_size)
    assert in_shards(path, at, max_errors, chunk_size) == whole
    if chunk_size == CHUNK_SIZE:
        assert whole == one_process(path, max_errors)


def test_the_stretches_cover_the_file_and_the_later_ones_are_shorter():
    assert reports.stretches(1000, 1) == [(0, None)]
    first, second, third = reports.stretches(3000, 3)
    assert first[0] == 0 and first[1] == second[0] and second[1] == third[0] and third[1] is None
    assert first[1] - first[0] > second[1] - second[0] > 3000 - third[0]


def values_after_personlista() -> str:
    data = delivery_file([Person(born(1990, 1, 1, 123), [GOOD])]).decode()
    values = [
        f"<Organisationsnummer>{VASBY_ORGNR}</Organisationsnummer>",
        f"<Kommunkod>{VASBY_CODE}</Kommunkod>",
    ]
    for value in values:
        assert value in data
        data = data.replace(value, "")
    return data.replace("</Personlista>", "</Personlista>" + "".join(values))


def test_a_kommun_whose_values_follow_its_personlista_is_not_sharded(tmp_path):
    path = tmp_path / "late.xml"
    path.write_text(values_after_personlista())
    with pytest.raises(Unshardable):
        reports.validate_shard(path, Shard(), CONTEXT, max_errors=10, max_bytes=10**9)


@pytest.fixture
def sharded_from_any_size(monkeypatch):
    monkeypatch.setattr(reports, "SHARDED_FROM_BYTES", 0)


@pytest.mark.slow  # processes of its own
def test_validate_path_uses_other_processes_and_gives_the_same_report(
    tmp_path, sharded_from_any_size
):
    persons = [PERSONS[n % len(PERSONS)](n) for n in range(40)]
    path = tmp_path / "delivery.xml"
    path.write_bytes(delivery_file(persons))
    expected = one_process(path)
    assert expected["counts"]["errors"] > 0
    assert reports.validate_path(path, context=CONTEXT, jobs=3) == expected


@pytest.mark.slow  # processes of its own
def test_a_file_that_cannot_be_sharded_is_validated_whole(tmp_path, sharded_from_any_size):
    path = tmp_path / "late.xml"
    path.write_text(values_after_personlista())
    report = reports.validate_path(path, context=CONTEXT, jobs=2)
    assert report == one_process(path)
    assert report["valid"] is True


def _die(*args):
    os._exit(9)


@pytest.mark.slow  # processes of its own
def test_a_shard_whose_process_dies_is_read_again_by_this_one(
    tmp_path, sharded_from_any_size, monkeypatch
):
    # Forked, the child runs this module's _die in place of its shard.
    monkeypatch.setattr(reports, "_start_method", lambda: multiprocessing.get_context("fork"))
    monkeypatch.setattr(reports, "_validate_other_shard", _die)
    monkeypatch.setattr(reports, "merge_shards", lambda *args: pytest.fail("a dead shard merged"))
    persons = [PERSONS[n % len(PERSONS)](n) for n in range(40)]
    path = tmp_path / "delivery.xml"
    path.write_bytes(delivery_file(persons))
    assert reports.validate_path(path, context=CONTEXT, jobs=2) == one_process(path)


@pytest.mark.slow  # processes of its own
def test_a_refused_file_is_refused_the_same_in_shards(tmp_path, sharded_from_any_size):
    path = tmp_path / "cut.xml"
    path.write_bytes(delivery_file([Person(born(1990, 1, 1, 123), [GOOD])])[:-40])
    report = reports.validate_path(path, context=CONTEXT, jobs=2)
    assert report == one_process(path)
    assert report["errors"][0]["code"] == "FILE_TRUNCATED"


@pytest.mark.slow  # processes of its own
def test_the_command_refuses_a_number_of_jobs_that_is_no_number(tmp_path):
    path = tmp_path / "delivery.xml"
    path.write_bytes(delivery_file([Person(born(1990, 1, 1, 123), [GOOD])]))
    result = subprocess.run(
        [sys.executable, "-m", "inuk", "validate", str(path), "--jobs", "0"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "1–64" in result.stderr
    assert "Traceback" not in result.stderr
    ok = subprocess.run(
        [sys.executable, "-m", "inuk", "validate", str(path), "--jobs", "2", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert json.loads(ok.stdout)["valid"] is True
