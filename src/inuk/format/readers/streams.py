"""Byte streams under the readers: counted, limited, and peeked at without losing anything.

A delivery arrives as a stream that can be read only once (an upload, a
request body, a file in the vault). ``open_delivery`` must look at its first
bytes to tell the format, count what it reads for progress bars and receipts,
and stop a file that is larger than allowed as soon as it passes the limit —
not after it has been read to the end.
"""

from __future__ import annotations

import io
from typing import BinaryIO

from inuk.format.errors import FileRefused

CHUNK_SIZE = 1 << 16


def megabytes(size: int) -> str:
    """A size for a message; never a long run of digits, which the log filter would mask."""
    return f"{size / 1_000_000:.1f} MB"


class CountingStream(io.RawIOBase):
    """Reads from ``stream``, counting the bytes, and refuses the file past ``max_bytes``.

    ``bytes_read`` is how much has been taken from the underlying stream so far
    (readers read ahead a little, so it runs slightly ahead of the records).
    """

    def __init__(self, stream: BinaryIO, max_bytes: int | None = None) -> None:
        super().__init__()
        self._stream = stream
        self.max_bytes = max_bytes
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            # Read in chunks, so that a huge file is refused when it passes the
            # limit instead of after it has been loaded whole.
            parts = []
            while chunk := self.read(CHUNK_SIZE):
                parts.append(chunk)
            return b"".join(parts)
        data = self._stream.read(size)
        self._count(len(data))
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _count(self, size: int) -> None:
        self.bytes_read += size
        if self.max_bytes is not None and self.bytes_read > self.max_bytes:
            raise FileRefused("FILE_TOO_LARGE", f"larger than {megabytes(self.max_bytes)}")


class ReplayStream(io.RawIOBase):
    """Gives back ``head`` (bytes already taken from ``stream``), then the rest of ``stream``."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        super().__init__()
        self._head = memoryview(head)
        self._stream = stream

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            head, self._head = bytes(self._head), memoryview(b"")
            return head + self._stream.read()
        if self._head:
            part, self._head = bytes(self._head[:size]), self._head[size:]
            return part
        return self._stream.read(size)

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def read_head(stream: BinaryIO, size: int) -> bytes:
    """The first ``size`` bytes of ``stream`` (fewer only at its end), however it delivers them."""
    parts = []
    wanted = size
    while wanted > 0:
        chunk = stream.read(wanted)
        if not chunk:
            break
        parts.append(chunk)
        wanted -= len(chunk)
    return b"".join(parts)
