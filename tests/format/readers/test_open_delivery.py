"""Telling the format, counting and limiting what is read, refusing by size."""

from __future__ import annotations

import io

import pytest

from inuk.format.errors import FileRefused
from inuk.format.readers import FORMATS, CountingStream, check_size, detect, open_delivery
from inuk.format.writers import to_bytes
from tests.format.readers.samples import expected_values, small_delivery, values


@pytest.mark.parametrize("format", ["xml", "csv", "json"])
def test_it_tells_each_format_from_its_first_bytes(format):
    data = to_bytes(format, small_delivery())
    assert detect(data[:100]) == format
    assert detect(b"\xef\xbb\xbf \r\n" + data[:100]) == format


@pytest.mark.parametrize(
    ("head", "code"),
    [
        (b"", "FILE_EMPTY"),
        (b" \r\n\t", "FILE_EMPTY"),
        (b"\xef\xbb\xbf", "FILE_EMPTY"),
        ("<Leverans/>".encode("utf-16"), "FILE_ENCODING"),
        ("{}".encode("utf-32"), "FILE_ENCODING"),
        ("<Leverans/>".encode("utf-16-le"), "FILE_ENCODING"),
        ("<Leverans>Ändring</Leverans>".encode("latin-1"), "FILE_ENCODING"),
        (b"PK\x03\x04\x14\x00", "FILE_ENCODING"),
        (b"Hej!\nDetta \xc3\xa4r ingen leverans.", "FILE_FORMAT_UNKNOWN"),
    ],
)
def test_it_refuses_what_is_no_delivery(head, code):
    with pytest.raises(FileRefused) as caught:
        detect(head)
    assert caught.value.code == code


def test_a_head_cut_in_the_middle_of_a_character_is_still_utf8():
    head = "<Leverans>Ä".encode()[:-1]
    assert detect(head) == "xml"


def test_a_csv_with_a_misspelt_header_is_left_to_the_csv_reader_to_explain():
    assert detect(b"organisationsnumer;kommunkod\n") == "csv"


@pytest.mark.parametrize("format", ["xml", "csv", "json"])
def test_open_delivery_reads_the_whole_file_although_it_peeked_at_its_start(format):
    data = to_bytes(format, small_delivery())
    detected, items = open_delivery(io.BytesIO(data), max_bytes=10_000)
    assert detected == format
    assert [values(r) for r in items] == expected_values(small_delivery())
    assert items.bytes_read == len(data)


def test_a_given_format_is_used_as_it_is():
    data = to_bytes("json", small_delivery())
    with pytest.raises(FileRefused) as caught:
        list(open_delivery(io.BytesIO(data), format="xml", max_bytes=10_000)[1])
    assert caught.value.code == "FILE_NOT_WELL_FORMED"


def test_an_unknown_format_name_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown delivery format"):
        open_delivery(io.BytesIO(b"x"), format="yaml", max_bytes=10)


@pytest.mark.parametrize("format", ["xml", "csv", "json"])
def test_a_file_over_the_limit_is_refused_once_the_limit_is_passed(format):
    data = to_bytes(format, small_delivery() * 3000)
    stream = io.BytesIO(data)
    with pytest.raises(FileRefused) as caught:
        _, items = open_delivery(stream, max_bytes=len(data) // 3)
        list(items)
    assert caught.value.code == "FILE_TOO_LARGE"
    assert stream.tell() < len(data) // 2


def test_a_file_exactly_at_the_limit_is_read():
    data = to_bytes("xml", small_delivery())
    _, items = open_delivery(io.BytesIO(data), max_bytes=len(data))
    assert len(list(items)) == 5


def test_a_counting_stream_passed_in_is_used_so_the_caller_can_watch_it():
    data = to_bytes("csv", small_delivery() * 500)
    counting = CountingStream(io.BytesIO(data), max_bytes=None)
    _, items = open_delivery(counting, max_bytes=None)
    seen = []
    for _ in items:
        seen.append(counting.bytes_read)
    assert seen == sorted(seen)
    assert 0 < seen[0] < len(data) == seen[-1]


def test_the_registry_holds_one_reader_per_format():
    assert sorted(FORMATS) == ["csv", "json", "xml"]


def test_check_size_refuses_a_large_file_without_reading_it(tmp_path):
    path = tmp_path / "huge.xml"
    with open(path, "wb") as out:
        out.truncate(20 * 1024**3)  # sparse: reading it would take long
    with pytest.raises(FileRefused) as caught:
        check_size(path, 10**9)
    assert caught.value.code == "FILE_TOO_LARGE"
    assert "21474.8 MB" in str(caught.value)  # not a long run of digits, which logs would mask


def test_check_size_refuses_an_empty_file_and_passes_others(tmp_path):
    empty, small = tmp_path / "empty.csv", tmp_path / "small.csv"
    empty.write_bytes(b"")
    small.write_bytes(b"x" * 10)
    with pytest.raises(FileRefused) as caught:
        check_size(empty, 100)
    assert caught.value.code == "FILE_EMPTY"
    assert check_size(small, 10) == 10
