"""A reader holds a bounded amount of a delivery, whatever the file puts in it.

What it need not read it skips as it comes; what it must read whole but
cannot hold refuses the file with a code of its own. The files come from
``inuk.format.hostile``; peak memory is measured in a fresh process, as
libxml2's memory is not Python's.
"""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from inuk.format import hostile
from inuk.format.readers import limits
from inuk.format.readers.streams import CHUNK_SIZE
from inuk.format.report import validate_path
from tests.format.readers.test_xml_shards import CONTEXT, even_cuts, in_shards, one_process

pytestmark = pytest.mark.slow  # files of many megabytes: seconds each


def make(tmp_path: Path, kind: str, size: int) -> Path:
    path = tmp_path / f"{kind}.{kind.split('-')[0]}"
    with open(path, "wb") as out:
        hostile.write(kind, out, size)
    return path


def written(writer) -> bytes:
    """The bytes of a hostile file with nothing hostile in it: its valid frame."""
    out = io.BytesIO()
    writer(out, 0)
    return out.getvalue()


def codes(report: dict) -> list[str]:
    return [error["code"] for error in report["errors"]]


def validate(path: Path) -> dict:
    return validate_path(path, context=CONTEXT)


# --- XML ------------------------------------------------------------------------


def test_an_unknown_element_of_millions_of_elements_is_reported_once(tmp_path):
    report = validate(make(tmp_path, "xml-unknown", 5_000_000))

    assert codes(report) == ["ELEMENT_UNKNOWN"]
    assert report["errors"][0]["path"].endswith("/Personlista/Bilaga")
    assert report["counts"]["transactions"] == 1


def test_a_person_larger_than_the_limit_refuses_the_file_where_it_begins(tmp_path):
    report = validate(make(tmp_path, "xml-person", limits.MAX_PERSON_BYTES + 200_000))

    assert report["refused"] is True
    assert codes(report) == ["FILE_PERSON_TOO_LARGE"]
    assert report["errors"][0]["line"] == 2


def test_a_person_within_the_limit_is_read_whole(tmp_path):
    report = validate(make(tmp_path, "xml-person", limits.MAX_PERSON_BYTES - 200_000))

    assert not report.get("refused")
    assert report["counts"]["transactions"] > 15_000
    assert report["counts"]["errors"] == 0


def unknown_elements_in_kommun(count: int) -> bytes:
    whole = written(hostile.xml_unknown)
    return whole.replace(b"<Bilaga>", b"<X/>" * count + b"<Bilaga>", 1).replace(
        b"</Personlista>", b"</Personlista>" + b"<Y>1</Y>" * count, 1
    )


def test_ten_thousand_unknown_elements_in_one_place_are_each_reported(tmp_path):
    path = tmp_path / "many.xml"
    path.write_bytes(unknown_elements_in_kommun(limits.MAX_HELD_ELEMENTS // 2 - 10))

    report = validate_path(path, context=CONTEXT, max_errors=20_000)

    assert report["counts"]["errors"] == limits.MAX_HELD_ELEMENTS - 20 + 1


def test_more_unknown_elements_in_one_place_than_can_be_held_refuse_the_file(tmp_path):
    path = tmp_path / "many.xml"
    path.write_bytes(unknown_elements_in_kommun(limits.MAX_HELD_ELEMENTS + 1))

    report = validate(path)

    assert codes(report) == ["FILE_TOO_MANY_ELEMENTS"]


def persons_after_unknown_elements(runs: list[int]) -> bytes:
    """A Personlista of persons, each after a run of unknown elements."""
    persons = b"".join(b"<X/>" * run + hostile._xml_person().encode() for run in runs)
    frame = written(hostile.xml_unknown)
    return frame.replace(b"<Bilaga></Bilaga>", persons, 1)


def test_unknown_elements_are_held_only_until_the_next_person(tmp_path):
    path = tmp_path / "runs.xml"
    run = limits.MAX_HELD_ELEMENTS * 3 // 5
    path.write_bytes(persons_after_unknown_elements([run, run]))

    report = validate_path(path, context=CONTEXT, max_errors=20_000)

    assert report["counts"]["errors"] == 2 * run
    assert report["counts"]["transactions"] == 3


def test_a_run_of_too_many_unknown_elements_is_refused_in_a_file_read_at_once(tmp_path):
    path = tmp_path / "run.xml"
    path.write_bytes(persons_after_unknown_elements([limits.MAX_HELD_ELEMENTS + 1]))
    assert path.stat().st_size < CHUNK_SIZE  # no sweep: refused where the run is reported

    assert codes(validate(path)) == ["FILE_TOO_MANY_ELEMENTS"]


@pytest.mark.parametrize("kind", ["xml-unknown", "xml-person"])
def test_hostile_files_report_the_same_in_shards(tmp_path, kind):
    path = make(tmp_path, kind, limits.MAX_PERSON_BYTES + 500_000)

    whole = one_process(path)
    assert in_shards(path, even_cuts(path, 3)) == whole


# --- CSV ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["csv-row", "csv-field"])
def test_a_row_longer_than_the_limit_refuses_the_file_at_its_line(tmp_path, kind):
    report = validate(make(tmp_path, kind, 1_000_000))

    assert report["refused"] is True
    assert codes(report) == ["FILE_CSV_ROW_TOO_LONG"]
    assert report["errors"][0]["line"] == 3


def test_a_row_as_long_as_the_limit_is_read_as_a_row(tmp_path):
    header_and_row = written(hostile.csv_row)
    header, row, _, last = header_and_row.split(b"\n", 3)
    long_row = b";" * (limits.MAX_CSV_ROW_CHARS - 1) + b"\n"
    path = tmp_path / "long.csv"
    path.write_bytes(b"\n".join([header, row, long_row + last]))

    report = validate(path)

    assert codes(report) == ["CSV_COLUMN_COUNT"]
    assert report["counts"]["transactions"] == 2


# --- JSON -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["json-unknown", "json-unknown-array"])
def test_a_large_value_under_an_unknown_key_is_skipped(tmp_path, kind):
    report = validate(make(tmp_path, kind, 3 * limits.SKIP_UNREAD_FROM))

    assert codes(report) == ["ELEMENT_UNKNOWN"]
    assert report["counts"]["transactions"] == 1


def test_a_large_skipped_value_is_still_read_as_json(tmp_path):
    path = make(tmp_path, "json-unknown-array", 3 * limits.SKIP_UNREAD_FROM)
    data = path.read_bytes()
    middle = len(data) // 2
    comma = data.index(b", ", middle)
    path.write_bytes(data[:comma] + b" " + data[comma + 1 :])  # two items without a comma

    assert codes(validate(path)) == ["FILE_INVALID_JSON"]


def test_a_file_ending_inside_a_large_skipped_string_is_truncated(tmp_path):
    path = make(tmp_path, "json-unknown", 3 * limits.SKIP_UNREAD_FROM)
    path.write_bytes(path.read_bytes()[: 2 * limits.SKIP_UNREAD_FROM])

    assert codes(validate(path)) == ["FILE_TRUNCATED"]


def test_a_person_larger_than_the_limit_refuses_the_json_file(tmp_path):
    report = validate(make(tmp_path, "json-person", limits.MAX_PERSON_BYTES + 200_000))

    assert codes(report) == ["FILE_PERSON_TOO_LARGE"]
    assert "/Personlista/1" in report["errors"][0]["value"]


def test_a_json_person_within_the_limit_is_read_whole(tmp_path):
    report = validate(make(tmp_path, "json-person", limits.MAX_PERSON_BYTES - 200_000))

    assert report["counts"]["errors"] == 0
    assert report["counts"]["transactions"] > 15_000


@pytest.mark.parametrize(
    "before, after",
    [
        (b'"Kommunkod": "0114"', b'"Kommunkod": "' + b"1" * (limits.MAX_VALUE_CHARS + 1) + b'"'),
        (b'"Kommunkod"', b'"' + b"K" * (limits.MAX_VALUE_CHARS + 1) + b'"'),
    ],
    ids=["value", "key"],
)
def test_a_kommun_value_or_key_longer_than_the_limit_refuses_the_file(tmp_path, before, after):
    data = written(hostile.json_unknown)
    path = tmp_path / "long.json"
    path.write_bytes(data.replace(before, after, 1))

    assert codes(validate(path)) == ["FILE_VALUE_TOO_LARGE"]


# --- memory, in a fresh process -------------------------------------------------

#: SPEC's bound for a validation.
VALIDATION_MB = 200


@pytest.mark.parametrize("kind", list(hostile.KINDS))
def test_validating_a_hostile_file_stays_within_the_bound(tmp_path, kind):
    path = make(tmp_path, kind, 40_000_000)
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent (pytest).
    script = textwrap.dedent(f"""
        import re, sys
        from inuk.format.validate_command import run
        code = run([{str(path)!r}, "--json", "--jobs", "1"])
        status = open("/proc/self/status").read()
        peak_kib = int(re.search(r"VmHWM:\\s+(\\d+)", status).group(1))
        print(code, peak_kib // 1024, file=sys.stderr)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    code, peak_mb = map(int, result.stderr.split()[-2:])

    assert code in (1, 2)
    assert peak_mb < VALIDATION_MB
