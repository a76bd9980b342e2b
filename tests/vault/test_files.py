"""Delivered files kept compressed and encrypted in the vault, and read back as streams."""

from __future__ import annotations

import io
import os
import tracemalloc
import zlib

import pytest

from inuk.format.writers import Person
from inuk.vault import files
from inuk.vault.files import discard, open_file, replace, store, stored_delivery_ids
from inuk.vault.keys import DecryptionError, keyring
from inuk.vault.models import FileChunk
from tests.conftest import delivery_file, insats, many_personnummer
from tests.vault.conftest import leaks

pytestmark = pytest.mark.django_db(databases=["default", "vault"])


class Generated(io.RawIOBase):
    """``size`` bytes made up while being read, so that no test holds a large file in memory."""

    def __init__(self, size: int, *, random: bool) -> None:
        self.left = size
        self.random = random

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = min(len(buffer), self.left)
        buffer[:count] = os.urandom(count) if self.random else bytes(count)
        self.left -= count
        return count


@pytest.fixture
def small_pieces(monkeypatch):
    """Pieces of 1 KiB, so that a small file spans many of them."""
    monkeypatch.setattr(files, "CHUNK_BYTES", 1024)


def file_of(numbers: list[str]) -> bytes:
    return delivery_file([Person(number, [insats()]) for number in numbers])


def test_a_stored_file_reads_back_byte_for_byte():
    content = file_of(many_personnummer(200))
    assert store(7, io.BytesIO(content)) == len(content)
    with open_file(7) as stream:
        assert stream.read() == content


def test_an_empty_file_reads_back_empty():
    assert store(7, io.BytesIO(b"")) == 0
    with open_file(7) as stream:
        assert stream.read() == b""


def test_a_file_of_many_pieces_reads_back_by_line_and_in_small_reads(small_pieces):
    content = os.urandom(5000).hex().encode() + b"\n" + file_of(many_personnummer(300))
    store(7, io.BytesIO(content))
    assert FileChunk.objects.filter(delivery_id=7).count() > 3
    with open_file(7) as stream:
        assert stream.readline() == content.split(b"\n")[0] + b"\n"
        rest = b"".join(iter(lambda: stream.read(333), b""))
    assert content.split(b"\n", 1)[1] == rest


def test_a_file_is_stored_from_where_the_stream_stands():
    stream = io.BytesIO(b"header already read\nthe rest")
    stream.readline()
    assert store(7, stream) == len(b"the rest")
    with open_file(7) as stored:
        assert stored.read() == b"the rest"


def test_storing_again_replaces_the_file(small_pieces):
    store(7, io.BytesIO(os.urandom(10_000)))
    store(7, io.BytesIO(b"second"))
    with open_file(7) as stream:
        assert stream.read() == b"second"


def test_files_of_different_deliveries_are_kept_apart():
    store(7, io.BytesIO(b"seven"))
    store(8, io.BytesIO(b"eight"))
    assert stored_delivery_ids() == {7, 8}
    with open_file(7) as seven, open_file(8) as eight:
        assert (seven.read(), eight.read()) == (b"seven", b"eight")


def test_a_discarded_file_is_gone():
    store(7, io.BytesIO(b"content"))
    discard(7)
    assert FileChunk.objects.count() == 0
    with pytest.raises(FileNotFoundError):
        open_file(7)
    discard(7)  # nothing to discard is no error


def test_opening_a_file_never_stored_raises_file_not_found():
    with pytest.raises(FileNotFoundError):
        open_file(404)


class Broken(io.RawIOBase):
    """A stream that fails after some 50 kB."""

    sent = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.sent > 50_000:
            raise OSError("the connection was reset")
        buffer[:1000] = os.urandom(1000)
        self.sent += 1000
        return 1000


def test_a_failure_while_storing_leaves_no_pieces(small_pieces):
    with pytest.raises(OSError, match="reset"):
        store(7, Broken())
    assert FileChunk.objects.count() == 0


def test_a_file_replaced_reads_back_as_the_new_one_alone(small_pieces):
    store(7, io.BytesIO(os.urandom(5000)))
    new = file_of(many_personnummer(50, seed=3))

    assert replace(7, io.BytesIO(new)) == len(new)

    with open_file(7) as stream:
        assert stream.read() == new
    assert set(FileChunk.objects.values_list("delivery_id", flat=True)) == {7}
    assert stored_delivery_ids() == {7}


def test_a_replacement_that_fails_midway_leaves_the_old_file_whole(small_pieces):
    old = file_of(many_personnummer(30, seed=4))
    store(7, io.BytesIO(old))

    with pytest.raises(OSError, match="reset"):
        replace(7, Broken())

    with open_file(7) as stream:
        assert stream.read() == old
    assert set(FileChunk.objects.values_list("delivery_id", flat=True)) == {7}


def test_pieces_left_in_staging_by_a_crash_are_no_file_and_go_with_the_next_replace(
    small_pieces,
):
    old = file_of(many_personnummer(30, seed=5))
    store(7, io.BytesIO(old))
    # A crash between writing the new pieces and swapping them in:
    files._write(7, files._staging(7), io.BytesIO(os.urandom(4000)))

    assert stored_delivery_ids() == {7}
    with open_file(7) as stream:
        assert stream.read() == old
    replace(7, io.BytesIO(b"new"))
    assert set(FileChunk.objects.values_list("delivery_id", flat=True)) == {7}
    files._write(7, files._staging(7), io.BytesIO(b"left behind"))
    discard(7)
    assert not FileChunk.objects.exists()


def test_the_stored_file_holds_no_number_in_clear():
    numbers = many_personnummer(100, seed=11)
    store(7, io.BytesIO(file_of(numbers)))
    assert leaks("vault", numbers) == []
    assert leaks("default", numbers) == []


def test_the_file_is_compressed():
    content = file_of(many_personnummer(2000, seed=12))
    store(7, io.BytesIO(content))
    stored = sum(len(bytes(data)) for data in FileChunk.objects.values_list("data", flat=True))
    assert stored < len(content) / 3


def _read_all(delivery_id: int) -> bytes:
    with open_file(delivery_id) as stream:
        return stream.read()


def test_two_pieces_swapped_fail_to_decrypt(small_pieces):
    store(7, io.BytesIO(os.urandom(5000)))
    first, second = FileChunk.objects.filter(delivery_id=7).order_by("seq")[:2]
    FileChunk.objects.filter(pk=first.pk).update(seq=1000)
    FileChunk.objects.filter(pk=second.pk).update(seq=first.seq)
    FileChunk.objects.filter(pk=first.pk).update(seq=second.seq)
    with pytest.raises(DecryptionError):
        _read_all(7)


def test_a_piece_dropped_from_the_middle_is_noticed(small_pieces):
    store(7, io.BytesIO(os.urandom(5000)))
    FileChunk.objects.filter(delivery_id=7, seq=2).delete()
    with pytest.raises(DecryptionError, match="missing"):
        _read_all(7)


def test_a_file_cut_short_is_noticed(small_pieces):
    store(7, io.BytesIO(os.urandom(5000)))
    FileChunk.objects.filter(delivery_id=7, last=True).delete()
    with pytest.raises(DecryptionError):
        _read_all(7)


def test_a_piece_wrongly_marked_last_fails_to_decrypt(small_pieces):
    store(7, io.BytesIO(os.urandom(5000)))
    FileChunk.objects.filter(delivery_id=7, seq__gt=1).delete()
    FileChunk.objects.filter(delivery_id=7, seq=1).update(last=True)
    with pytest.raises(DecryptionError):
        _read_all(7)


def test_a_piece_moved_to_another_delivery_fails_to_decrypt(small_pieces):
    store(7, io.BytesIO(os.urandom(5000)))
    store(8, io.BytesIO(os.urandom(5000)))
    FileChunk.objects.filter(delivery_id=8, seq=1).delete()
    FileChunk.objects.filter(delivery_id=7, seq=1).update(delivery_id=8)
    with pytest.raises(DecryptionError):
        _read_all(8)


def test_an_altered_piece_fails_to_decrypt():
    store(7, io.BytesIO(b"some content"))
    piece = FileChunk.objects.get(delivery_id=7)
    data = bytearray(piece.data)
    data[-1] ^= 1
    FileChunk.objects.filter(pk=piece.pk).update(data=bytes(data))
    with pytest.raises(DecryptionError):
        _read_all(7)


def test_a_piece_left_after_the_last_is_noticed(small_pieces):
    store(7, io.BytesIO(os.urandom(3000)))
    store(8, io.BytesIO(os.urandom(5000)))
    count = FileChunk.objects.filter(delivery_id=7).count()
    FileChunk.objects.filter(delivery_id=8, seq=count).update(delivery_id=7)
    with pytest.raises(DecryptionError):
        _read_all(7)


@pytest.mark.slow  # a large file: seconds
def test_storing_a_large_file_keeps_memory_flat():
    """Twice as many bytes as the bound: only a store that streams can stay under it."""
    size = 32 * 1024 * 1024
    tracemalloc.start()
    try:
        assert store(7, Generated(size, random=True)) == size
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert FileChunk.objects.filter(delivery_id=7).count() >= 32
    assert peak < 16 * 1024 * 1024


def test_reading_a_file_that_compresses_enormously_keeps_memory_flat():
    """A file of zeros: a piece that decompresses to 64 MiB must not be decompressed at once."""
    size = 64 * 1024 * 1024
    store(7, Generated(size, random=False))
    tracemalloc.start()
    try:
        read = 0
        with open_file(7) as stream:
            while block := stream.read(256 * 1024):
                read += len(block)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert read == size
    assert peak < 8 * 1024 * 1024


@pytest.mark.parametrize(
    "pieces",
    [[zlib.compress(b"the file") + b"more"], [zlib.compress(b"the file"), b"more"]],
    ids=["in-the-last-piece", "in-a-piece-after"],
)
def test_data_after_the_end_of_the_compressed_stream_is_noticed(pieces):
    """Pieces written with the key (so they decrypt) whose zlib stream ends early."""
    ring = keyring()
    for seq, piece in enumerate(pieces):
        last = seq == len(pieces) - 1
        version, data = ring.encrypt(piece, files.context(7, seq, last))
        FileChunk.objects.create(delivery_id=7, seq=seq, last=last, key_version=version, data=data)
    with open_file(7) as stream, pytest.raises(DecryptionError):
        stream.read()
