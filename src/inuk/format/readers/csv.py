"""Reads a delivery in CSV: one row per transaction, the Kommun and Person repeated on each.

UTF-8 (a byte order mark is accepted), ``;`` between fields, quoting as
Python's ``csv`` module and spreadsheet programs do it, and the header
``organisationsnummer;kommunkod;personnummer;post;transaktionsdatum;status;kod;startdatum;slutdatum;system``
(case and surrounding space ignored). ``post`` says whether the row is an
``insats`` or a ``resultat``.

CSV has no Kommun or Person elements, so their indexes count runs: the person
index moves on whenever organisationsnummer, kommunkod or personnummer
differs from the row before, the kommun index whenever the first two do.
That lets a receipt count persons the way it does for XML without keeping
any personnummer.

Python's ``csv`` holds a whole row, however long, and a whole line before it
splits it: a row of millions of ``;`` would take many times its size. So the
lines reach it through ``_Lines``, which reads at most what a row may still
take and refuses a row longer than ``limits.MAX_CSV_ROW_CHARS`` (counting all
its lines, as a quoted field may hold line breaks).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import BinaryIO

from inuk.format.errors import FileRefused, Problem
from inuk.format.records import INTERVENTION, RESULT, Location, Record

from .limits import MAX_CSV_ROW_CHARS
from .streams import CHUNK_SIZE

HEADER = (
    "organisationsnummer",
    "kommunkod",
    "personnummer",
    "post",
    "transaktionsdatum",
    "status",
    "kod",
    "startdatum",
    "slutdatum",
    "system",
)
DELIMITER = ";"
POSTS = {"insats": INTERVENTION, "resultat": RESULT}


def read(stream: BinaryIO) -> Iterator[Record | Problem]:
    """The records and problems of a CSV delivery, in file order."""
    # Closing these wrappers closes _TextBytes, never the caller's stream.
    binary = io.BufferedReader(_TextBytes(stream), CHUNK_SIZE)
    yield from _rows(_Lines(io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")))


class _TextBytes(io.RawIOBase):
    """The stream's bytes, refused if they hold a NUL, as binary files and UTF-16 do.

    (Python's ``csv`` reads a NUL as any other character.)
    """

    def __init__(self, stream: BinaryIO) -> None:
        super().__init__()
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._stream.read(len(buffer))
        if b"\0" in data:
            raise FileRefused("FILE_ENCODING", "the file holds NUL bytes")
        buffer[: len(data)] = data
        return len(data)


class _Lines:
    """The text's lines for ``csv.reader``, never more of them than a row may take."""

    def __init__(self, text: io.TextIOWrapper) -> None:
        self.text = text
        self.lines = 0
        #: Characters given for the row being read, and the line it began on.
        self.taken = 0
        self.row_line = 1

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        # At most one character more than the row may still take: enough to
        # tell it is too long, never a whole long line.
        line = self.text.readline(MAX_CSV_ROW_CHARS + 1 - self.taken)
        if not line:
            raise StopIteration
        self.lines += 1
        self.taken += len(line)
        if self.taken > MAX_CSV_ROW_CHARS:
            raise FileRefused(
                "FILE_CSV_ROW_TOO_LONG",
                f"a row longer than {MAX_CSV_ROW_CHARS:,} characters".replace(",", " "),
                self.row_line,
            )
        return line

    def row_read(self) -> None:
        """The reader has made a row of the lines given so far."""
        self.taken = 0
        self.row_line = self.lines + 1


def _rows(lines: _Lines) -> Iterator[Record | Problem]:
    reader = csv.reader(lines, delimiter=DELIMITER)
    rows = _guarded(reader, lines)
    header = next(rows, None)
    if header is None:
        raise FileRefused("FILE_EMPTY")
    _check_header(header)
    records = 0
    line = reader.line_num + 1
    kommun = person = -1
    items = {INTERVENTION: -1, RESULT: -1}
    last_kommun: tuple[str, str] | None = None
    last_person: str | None = None
    for row in rows:
        start_line, line = line, reader.line_num + 1
        if not row:
            continue  # a blank line
        if len(row) != len(HEADER):
            yield Problem("CSV_COLUMN_COUNT", "", Location("csv", start_line), str(len(row)))
            continue
        orgnr, kommunkod, personnummer, post, timestamp, status, code, begin, end, system = map(
            str.strip, row
        )
        kind = POSTS.get(post.lower())
        if kind is None:
            yield Problem.about("CSV_POST", "post", Location("csv", start_line), post)
            continue
        if (orgnr, kommunkod) != last_kommun:
            last_kommun = (orgnr, kommunkod)
            kommun += 1
            person = -1
            last_person = None
        if personnummer != last_person:
            last_person = personnummer
            person += 1
            items = {INTERVENTION: -1, RESULT: -1}
        items[kind] += 1
        record = Record(
            kind,
            orgnr,
            kommunkod,
            personnummer,
            timestamp,
            status,
            code,
            begin,
            end or None if kind == INTERVENTION else None,
            system,
            Location("csv", start_line, kommun, person, kind, items[kind]),
        )
        if end and kind == RESULT:
            record.problems.append(
                Problem.about("CSV_END_ON_RESULT", "slutdatum", record.location, end)
            )
        records += 1
        yield record
    if records == 0:
        raise FileRefused("FILE_NO_TRANSACTIONS")


def _guarded(reader, lines: _Lines) -> Iterator[list[str]]:
    """The reader's rows, with decoding and CSV errors turned into refusals."""
    while True:
        try:
            row = next(reader)
            lines.row_read()
        except StopIteration:
            return
        except UnicodeDecodeError as error:
            if error.reason == "unexpected end of data":  # within a character, at the end
                raise FileRefused("FILE_TRUNCATED", "in the middle of a character") from None
            raise FileRefused("FILE_ENCODING", error.reason, reader.line_num + 1) from None
        except csv.Error as error:
            # The csv module's messages describe the fault without quoting the file.
            raise FileRefused("FILE_FORMAT_UNKNOWN", f"CSV: {error}", reader.line_num) from None
        yield row


def _check_header(header: list[str]) -> None:
    names = tuple(name.strip().lower() for name in header)
    if names == HEADER:
        return
    if len(names) != len(HEADER):
        raise FileRefused(
            "FILE_CSV_HEADER", f"the header has {len(names)} columns, not {len(HEADER)}", 1
        )
    wrong = next(i for i, (got, want) in enumerate(zip(names, HEADER, strict=True)) if got != want)
    raise FileRefused("FILE_CSV_HEADER", f"column {wrong + 1} must be {HEADER[wrong]}", 1)
