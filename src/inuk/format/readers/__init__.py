"""The delivery formats: one streaming reader per format, listed in ``FORMATS``.

Each reader takes a binary stream and yields ``Record`` (one per transaction)
and ``Problem`` (what is wrong in the file's structure but not fatal), in file
order, and raises ``FileRefused`` when the file cannot be read as a delivery.
``open_delivery`` picks the reader from the file's first bytes, and counts and
limits what is read.
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, cast

from inuk.format.errors import FileRefused, Problem
from inuk.format.records import Record

from . import csv, json, xml
from .shards import Shard
from .streams import CountingStream, ReplayStream, megabytes, read_head

Reader = Callable[[BinaryIO], Iterator[Record | Problem]]

FORMATS: dict[str, Reader] = {
    "xml": xml.read,
    "csv": csv.read,
    "json": json.read,
}

#: How much of a file ``detect`` is shown.
HEAD_SIZE = 4096

_BOM = b"\xef\xbb\xbf"
_FOREIGN_BOMS = (b"\xff\xfe", b"\xfe\xff")
_SPACE = b" \t\r\n"

__all__ = [
    "FORMATS",
    "CountingStream",
    "Reading",
    "check_size",
    "detect",
    "open_delivery",
]


def detect(head: bytes) -> str:
    """The format of a file from its first bytes: 'xml', 'json' or 'csv'.

    XML and JSON are told by their first character. A first line with a ``;``
    is taken for CSV, so that a CSV file with a misspelt header is told so by
    the CSV reader rather than called unknown.
    """
    if head.startswith(_FOREIGN_BOMS) or b"\0" in head:
        raise FileRefused("FILE_ENCODING", "UTF-16, UTF-32 or binary data")
    if head.startswith(_BOM):
        head = head[len(_BOM) :]
    text = head.lstrip(_SPACE)
    if not text:
        raise FileRefused("FILE_EMPTY")
    try:
        # The head may end in the middle of a character: not final.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        raise FileRefused("FILE_ENCODING", "bytes that are not UTF-8 near the start") from None
    first = text[:1]
    if first == b"<":
        return "xml"
    if first in (b"{", b"["):
        return "json"
    if b";" in text.split(b"\n", 1)[0]:
        return "csv"
    raise FileRefused("FILE_FORMAT_UNKNOWN")


class Reading:
    """The items of a delivery being read, and how many bytes it has taken so far.

    Iterating it iterates the reader itself, at no extra cost per record.
    """

    def __init__(self, items: Iterator[Record | Problem], stream: CountingStream) -> None:
        self.items = items
        self.stream = stream

    @property
    def bytes_read(self) -> int:
        return self.stream.bytes_read

    def __iter__(self) -> Iterator[Record | Problem]:
        return self.items

    def __next__(self) -> Record | Problem:
        return next(self.items)


def open_delivery(
    stream: BinaryIO,
    *,
    format: str | None = None,
    max_bytes: int | None,
    shard: Shard | None = None,
) -> tuple[str, Reading]:
    """Start reading a delivery: returns its format and its records and problems.

    ``format`` is detected from the first bytes unless given. More than
    ``max_bytes`` read refuses the file (``FILE_TOO_LARGE``) at that point. A
    ``CountingStream`` passed in is used as it is (with its own limit), so the
    caller can watch ``bytes_read``; ``Reading.bytes_read`` gives the same.
    With ``shard`` only that shard of the persons is read (XML only: see
    ``inuk.format.readers.xml``).
    """
    counting = stream if isinstance(stream, CountingStream) else CountingStream(stream, max_bytes)
    head = read_head(cast(BinaryIO, counting), HEAD_SIZE)
    if format is None:
        format = detect(head)
    elif format not in FORMATS:
        raise ValueError(f"unknown delivery format {format!r}")
    elif not head:
        raise FileRefused("FILE_EMPTY")
    replay = cast(BinaryIO, ReplayStream(head, cast(BinaryIO, counting)))
    if shard is not None:
        if format != "xml":
            raise ValueError(f"only XML is read in shards, not {format}")
        return format, Reading(xml.read(replay, shard), counting)
    return format, Reading(FORMATS[format](replay), counting)


def check_size(path: str | os.PathLike[str], max_bytes: int) -> int:
    """Refuse the file at ``path`` for its size alone, before a byte of it is read.

    Returns the size.
    """
    size = Path(path).stat().st_size
    if size == 0:
        raise FileRefused("FILE_EMPTY")
    if size > max_bytes:
        raise FileRefused(
            "FILE_TOO_LARGE", f"{megabytes(size)}, larger than {megabytes(max_bytes)}"
        )
    return size
