"""The XML prolog, checked before the parser sees a byte: no DOCTYPE, UTF-8, root ``Leverans``.

A DOCTYPE can only stand before the root element, so refusing it here means no
DTD, no entity declaration and no external reference is ever parsed; an
encoding other than UTF-8 named in the XML declaration is refused too, so that
it cannot switch the parser away from UTF-8.
"""

from __future__ import annotations

import re
from typing import BinaryIO, NoReturn

from inuk.format.errors import FileRefused

from .streams import CHUNK_SIZE
from .tree import ROOT

#: A prolog longer than this (comments, processing instructions) is not a delivery.
PROLOG_LIMIT = 1 << 20

_BOM = b"\xef\xbb\xbf"
_FOREIGN_BOMS = (b"\xff\xfe", b"\xfe\xff")  # UTF-16/32: not UTF-8
_SPACE = b" \t\r\n"
_NAME_END = re.compile(rb"[\s/>]")
_ENCODING = re.compile(rb"""encoding\s*=\s*["']([^"']*)["']""")
_UTF8_NAMES = {b"utf-8", b"utf8"}


def check_prolog(stream: BinaryIO) -> bytes:
    """Read up to the root element's name and refuse what must never reach the parser.

    Returns the bytes read, which the parser is then given first. A DOCTYPE can
    only stand before the root element, so refusing it here means no DTD, no
    entity declaration and no external reference is ever parsed.
    """
    data = stream.read(CHUNK_SIZE)
    while True:
        verdict = _scan(data)
        if verdict is not None:
            return data
        if len(data) > PROLOG_LIMIT:
            raise FileRefused("FILE_NOT_WELL_FORMED", "no root element near the start of the file")
        more = stream.read(CHUNK_SIZE)
        if not more:
            if not data.lstrip(_BOM).strip(_SPACE):
                raise FileRefused("FILE_EMPTY")
            raise FileRefused(
                "FILE_TRUNCATED", "the file ends before its root element", _line(data)
            )
        data += more


def _scan(data: bytes) -> bool | None:
    """True if ``data`` holds an acceptable prolog and the root's name; None if more is needed."""
    if data.startswith(_FOREIGN_BOMS):
        raise FileRefused(
            "FILE_ENCODING", "the file starts with a UTF-16 or UTF-32 byte order mark"
        )
    if b"\0" in data[:1024]:
        raise FileRefused("FILE_ENCODING", "the file holds NUL bytes, as UTF-16 does")
    pos = 3 if data.startswith(_BOM) else 0
    end = len(data)
    while True:
        while pos < end and data[pos] in _SPACE:
            pos += 1
        if pos >= end:
            return None
        if data.startswith(b"<?", pos):
            close = data.find(b"?>", pos)
            if close < 0:
                return None
            declaration = data[pos : close + 2]
            if declaration[2:5].lower() == b"xml" and declaration[5:6] in (b" ", b"?", b"\t"):
                match = _ENCODING.search(declaration)
                if match and match.group(1).lower() not in _UTF8_NAMES:
                    raise FileRefused(
                        "FILE_ENCODING", "the XML declaration names an encoding other than UTF-8", 1
                    )
            pos = close + 2
        elif data.startswith(b"<!--", pos):
            close = data.find(b"-->", pos + 4)
            if close < 0:
                return None
            pos = close + 3
        elif data.startswith(b"<!", pos):
            if len(data) - pos < 9:
                return None
            raise FileRefused(
                "FILE_DOCTYPE",
                "a DOCTYPE or other declaration before the root element",
                _line(data[:pos]),
            )
        elif data.startswith(b"<", pos):
            match = _NAME_END.search(data, pos + 1)
            if match is None:
                if end - pos < 256:
                    return None
                _wrong_root(data, pos)
            name = data[pos + 1 : match.start()]
            if name != ROOT.encode():
                _wrong_root(data, pos)
            return True
        else:
            raise FileRefused(
                "FILE_NOT_WELL_FORMED", "text before the root element", _line(data[:pos])
            )


def _wrong_root(data: bytes, pos: int) -> NoReturn:
    raise FileRefused("FILE_WRONG_ROOT", "", _line(data[:pos]))


def _line(data: bytes) -> int:
    return data.count(b"\n") + 1
