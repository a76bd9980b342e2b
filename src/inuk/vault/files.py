"""Delivered files, kept compressed and encrypted in the vault database.

A delivery's original file holds personnummer, so it is kept nowhere else.
It is stored as a zlib stream cut into pieces of ``CHUNK_BYTES``, each piece
encrypted with AES-256-GCM. A piece's associated data names the delivery, the
piece's number, the key version and whether it is the last piece, so a piece
moved to another delivery or place fails to decrypt, and a file cut short
lacks its last piece and fails too. Reading and writing hold one piece at a
time, whatever the file's size. Functions that hold file content in local
variables are marked ``sensitive_variables`` for Django's error reports.

    size = store(delivery.pk, upload)
    with open_file(delivery.pk) as stream:
        for line in stream: ...
    replace(delivery.pk, rewritten)  # all at once: readers see the old file or the new
    discard(delivery.pk)

``replace`` writes the new pieces first under the delivery's staging id (its
id negated), bound to the delivery as its own pieces are, and then, in one
short transaction, removes the old pieces and gives the new ones the
delivery's id: the database's commit is the rename of "write new, fsync,
rename". A crash before the commit leaves the old file whole and staging
pieces that the next ``replace`` (or ``discard``) removes.
"""

from __future__ import annotations

import contextlib
import io
import zlib
from typing import BinaryIO

from django.db import transaction
from django.views.decorators.debug import sensitive_variables

from inuk.vault.keys import DecryptionError, Keyring, keyring
from inuk.vault.models import FileChunk
from inuk.vault.routers import VAULT_DB

#: Compressed bytes per stored piece.
CHUNK_BYTES = 1024 * 1024
#: Bytes read from the incoming stream at a time.
READ_BYTES = 1024 * 1024
#: Most bytes of file decompressed at a time: keeps a small piece that
#: decompresses to gigabytes (a zip bomb) from filling memory.
OUTPUT_BYTES = 1024 * 1024
COMPRESSION_LEVEL = 6


@sensitive_variables()
def store(delivery_id: int, stream: BinaryIO) -> int:
    """Store the file read from ``stream`` (from where it stands to its end) for a delivery.

    Returns the number of bytes read, the file's size. Replaces a file stored
    before for the same delivery. Pieces are written one by one rather than in
    one transaction, so that a large file does not hold the vault's write lock
    for long; if storing fails midway the pieces written are removed, and were
    they left behind they would read as an incomplete file, never as a whole one.
    """
    discard(delivery_id)
    return _write(delivery_id, delivery_id, stream)


@sensitive_variables()
def replace(delivery_id: int, stream: BinaryIO) -> int:
    """Put the file read from ``stream`` in place of the delivery's stored file, atomically.

    Returns the new file's size. Until the swap commits, readers read the old
    file whole; afterwards the new one. If writing fails, the old file stays.
    """
    staging = _staging(delivery_id)
    FileChunk.objects.filter(delivery_id=staging).delete()
    size = _write(delivery_id, staging, stream)
    with transaction.atomic(using=VAULT_DB):
        FileChunk.objects.filter(delivery_id=delivery_id).delete()
        FileChunk.objects.filter(delivery_id=staging).update(delivery_id=delivery_id)
    return size


def _staging(delivery_id: int) -> int:
    """Where a replacement file's pieces wait until they are swapped in."""
    return -delivery_id


def bound_to(stored_under: int) -> int:
    """The delivery a stored piece belongs to, whether it is in place or waiting in staging."""
    return abs(stored_under)


@sensitive_variables()
def _write(delivery_id: int, stored_under: int, stream: BinaryIO) -> int:
    ring = keyring()
    writer = _PieceWriter(delivery_id, ring, stored_under)
    compressor = zlib.compressobj(COMPRESSION_LEVEL)
    pending = bytearray()
    size = 0
    try:
        while block := stream.read(READ_BYTES):
            size += len(block)
            pending += compressor.compress(block)
            # Strictly more than a piece: what remains shows this piece is not the last.
            while len(pending) > CHUNK_BYTES:
                writer.write(bytes(pending[:CHUNK_BYTES]), last=False)
                del pending[:CHUNK_BYTES]
        pending += compressor.flush()
        while len(pending) > CHUNK_BYTES:
            writer.write(bytes(pending[:CHUNK_BYTES]), last=False)
            del pending[:CHUNK_BYTES]
        writer.write(bytes(pending), last=True)
    except BaseException:
        # Best effort: if the database itself failed, the original error matters more.
        with contextlib.suppress(Exception):
            FileChunk.objects.filter(delivery_id=stored_under).delete()
        raise
    return size


def open_file(delivery_id: int) -> io.BufferedReader:
    """The stored file of a delivery as a readable binary stream.

    Raises ``FileNotFoundError`` if none is stored; reading raises
    ``DecryptionError`` if a piece was altered, moved, or is missing.
    """
    if not FileChunk.objects.filter(delivery_id=delivery_id, seq=0).exists():
        raise FileNotFoundError(f"no file is stored for delivery {delivery_id}")
    return io.BufferedReader(_PieceReader(delivery_id, keyring()), buffer_size=64 * 1024)


def discard(delivery_id: int) -> None:
    """Remove the stored file of a delivery, if any, and any replacement waiting for it."""
    FileChunk.objects.filter(delivery_id__in=(delivery_id, _staging(delivery_id))).delete()


def version(delivery_id: int, *, lock: bool = False) -> int | None:
    """Which stored file of a delivery this is: another after ``replace``; None if none.

    With ``lock`` (inside a vault transaction) a ``replace`` waits until the
    transaction ends, so what was read of this version is what is current.
    """
    first = FileChunk.objects.filter(delivery_id=delivery_id, seq=0)
    if lock:
        first = first.select_for_update()
    return first.values_list("id", flat=True).first()


def stored_delivery_ids() -> set[int]:
    """The deliveries that have a file stored, for housekeeping."""
    stored = FileChunk.objects.filter(seq=0, delivery_id__gt=0)
    return set(stored.values_list("delivery_id", flat=True))


def context(delivery_id: int, seq: int, last: bool) -> bytes:
    """What a piece is bound to (the key version is added by the keyring)."""
    return (
        b"inuk.vault.file\x00"
        + delivery_id.to_bytes(8, "big", signed=True)
        + seq.to_bytes(4, "big")
        + (b"\x01" if last else b"\x00")
    )


class _PieceWriter:
    def __init__(self, delivery_id: int, ring: Keyring, stored_under: int) -> None:
        self.delivery_id = delivery_id
        self.stored_under = stored_under
        self.ring = ring
        self.seq = 0

    def write(self, piece: bytes, *, last: bool) -> None:
        version, data = self.ring.encrypt(piece, context(self.delivery_id, self.seq, last))
        FileChunk.objects.create(
            delivery_id=self.stored_under, seq=self.seq, last=last, key_version=version, data=data
        )
        self.seq += 1


class _PieceReader(io.RawIOBase):
    """Fetches, decrypts and decompresses one piece at a time."""

    def __init__(self, delivery_id: int, ring: Keyring) -> None:
        super().__init__()
        self._delivery_id = delivery_id
        self._ring = ring
        self._seq = 0
        self._last_seen = False
        self._decompressor = zlib.decompressobj()
        self._output = memoryview(b"")

    def readable(self) -> bool:
        return True

    @sensitive_variables()
    def readinto(self, buffer) -> int:
        while not self._output:
            if not self._decompress_more():
                return 0
        count = min(len(buffer), len(self._output))
        buffer[:count] = self._output[:count]
        self._output = self._output[count:]
        return count

    @sensitive_variables()
    def _decompress_more(self) -> bool:
        """Put more of the file into ``_output``; False at the end of the file."""
        decompressor = self._decompressor
        if decompressor.unconsumed_tail:
            data = decompressor.unconsumed_tail
        elif decompressor.eof:
            self._check_end()
            return False
        elif self._last_seen:
            raise DecryptionError("the stored file is incomplete")
        else:
            data = self._next_piece()
        self._output = memoryview(decompressor.decompress(data, OUTPUT_BYTES))
        return True

    def _next_piece(self) -> bytes:
        row = (
            FileChunk.objects.filter(delivery_id=self._delivery_id, seq=self._seq)
            .values_list("last", "key_version", "data")
            .first()
        )
        if row is None:
            raise DecryptionError("the stored file is incomplete: a piece is missing")
        last, version, data = row
        piece = self._ring.decrypt(
            bytes(data), context(self._delivery_id, self._seq, last), version
        )
        self._seq += 1
        self._last_seen = last
        return piece

    def _check_end(self) -> None:
        if self._decompressor.unused_data or not self._last_seen:
            raise DecryptionError("the stored file has data after its end")
        if FileChunk.objects.filter(delivery_id=self._delivery_id, seq__gte=self._seq).exists():
            raise DecryptionError("the stored file has pieces after its last")
