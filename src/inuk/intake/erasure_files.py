"""Erasure and the kept original delivery files: each is written anew without the person.

The service keeps each applied (and each waiting) delivery's file, encrypted
in the vault (``inuk.vault.files``), until retention deletes it. When a person
is erased (``inuk.intake.erasure``) every kept file that holds the person's
number is re-encrypted without it, rather than filtered on each later read:
the number is then gone from the service, not merely hidden, and no reader
written later (a download, a re-processing) can forget to apply a list. An
erasure list would also have to hold the numbers, or keyed hashes of them
that a rotation of the look-up key could not move.

Which files: every kept file is scanned for each of the person's numbers
(a changed number linked to the old one makes two), as twelve digits with or
without a dash or plus before the last four, and every delivery the ledger
says the person came in is taken too, whatever its file spells. A file is
read with its format's reader and written again in the same format with the
person's transactions left out, and any other value that holds the number
masked. A Kommun or Person block left empty goes. What a reader does not
give as a record (unknown elements, formatting, comments) is not written
again. A file that cannot be read as a delivery (it waits to be refused) has
the number masked wherever it stands instead.

The new file replaces the old atomically (``files.replace``), and the
delivery's ``erased_persons`` grows by one. A worker applying that delivery
checks, holding the file's first piece, that the file it read is still the
stored one (``processing.Run.apply``): if an erasure replaced it, the work is
dropped and the delivery read again; if the worker got there first, the swap
waits for its apply, and the erasure's later steps take the person out again.
The receipt keeps the checksum of the file as received (what the sender sent,
what a resend is compared with) and says that a person was erased from the
kept file, never who.
"""

from __future__ import annotations

import itertools
import re
import tempfile
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from inuk.format import readers as formats
from inuk.format.errors import FileRefused
from inuk.format.masking import mask_personnummer
from inuk.format.records import INTERVENTION, RESULT, Record
from inuk.format.writers import Kommun, Person, write
from inuk.format.writers import Transaction as Item
from inuk.intake.models import Delivery
from inuk.vault import files as vault_files

#: Bytes of a kept file scanned at a time.
SCAN_BYTES = 1024 * 1024
#: The longest spelling of a number the scan looks for, less one: a match may
#: straddle two blocks read.
_OVERLAP = 12

_SEPARATORS = re.compile(r"[\s+-]")


class Numbers:
    """The erased person's numbers (a person may have several), as the scan and the rewrite
    look for them: twelve digits, or a dash or plus before the last four."""

    def __init__(self, numbers: Iterable[str]) -> None:
        self.digits = frozenset(numbers)
        spellings = "|".join(
            re.escape(n[:8]) + "[-+]?" + re.escape(n[8:]) for n in sorted(self.digits)
        )
        self.text = re.compile(spellings)
        self.bytes = re.compile(spellings.encode())
        self.dates = frozenset(n[:8] for n in self.digits)

    def __repr__(self) -> str:
        return f"Numbers({len(self.digits)})"

    def owns(self, value: str | None) -> bool:
        """Whether a file's personnummer value is one of the numbers, dash, plus or spaces aside."""
        return value is not None and _SEPARATORS.sub("", value) in self.digits

    @staticmethod
    def mask(spelt: str) -> str:
        return mask_personnummer(_SEPARATORS.sub("", spelt))


@sensitive_variables()
def holds(delivery_id: int, numbers: Numbers) -> bool:
    """Whether the kept file of ``delivery_id`` spells one of ``numbers`` anywhere."""
    tail = b""
    with vault_files.open_file(delivery_id) as stream:
        while block := stream.read(SCAN_BYTES):
            if numbers.bytes.search(tail + block):
                return True
            tail = block[-_OVERLAP:]
    return False


@sensitive_variables()
def erase_from_files(numbers: Iterable[str], ledger_deliveries: Iterable[int] = ()) -> list[int]:
    """Write every kept file that holds one of a person's ``numbers`` again without the person.

    Returns the deliveries whose files were rewritten. ``ledger_deliveries``
    are the deliveries the ledger has the person's transactions from; their
    files are read even if the scan does not find a number spelt out.
    """
    wanted = Numbers(numbers)
    stored = vault_files.stored_delivery_ids()
    named = set(ledger_deliveries) & stored
    candidates = sorted(named | {d for d in stored - named if holds(d, wanted)})
    return [d for d in candidates if _rewrite(d, wanted)]


@sensitive_variables()
def _rewrite(delivery_id: int, numbers: Numbers) -> bool:
    """Write the file again without the person; False if it held nothing of them (done before)."""
    delivery = Delivery.objects.filter(pk=delivery_id).first()
    if delivery is None:
        return False
    with tempfile.TemporaryFile(dir=settings.DATA_DIR) as out:
        try:
            with vault_files.open_file(delivery_id) as stream:
                changed = without(stream, numbers, out, format=delivery.format or None)
        except FileRefused:
            out.seek(0)
            out.truncate()
            with vault_files.open_file(delivery_id) as stream:
                changed = masked(stream, numbers, out)
        if not changed:
            return False
        out.flush()
        out.seek(0)
        vault_files.replace(delivery_id, out)
    delivery.count_erasure()
    return True


class _Changes:
    """How many transactions were left out and values masked."""

    def __init__(self) -> None:
        self.count = 0


@sensitive_variables()
def without(stream: BinaryIO, numbers: Numbers, out: BinaryIO, *, format: str | None = None) -> int:
    """Write the delivery read from ``stream`` to ``out``, in its format, without ``numbers``.

    Returns how many transactions were left out and values masked; raises
    ``FileRefused`` if the file cannot be read as a delivery.
    """
    detected, reading = formats.open_delivery(stream, format=format, max_bytes=None)
    changes = _Changes()

    def kept() -> Iterator[Record]:
        for item in reading:
            if not isinstance(item, Record):
                continue
            if numbers.owns(item.personnummer):
                changes.count += 1
            else:
                yield item

    write(detected, _kommuner(kept(), numbers, changes), out)
    return changes.count


def _kommuner(records: Iterator[Record], numbers: Numbers, changes: _Changes) -> Iterator[Kommun]:
    """The records regrouped into Kommun and Person blocks, lazily, in file order.

    A person's Insats that follows one of their Resultat starts another
    Person block, so that the order of the transactions is the file's.
    """
    segment = 0
    last: tuple[tuple[int | None, int | None], str] | None = None

    def person_key(record: Record) -> tuple[int | None, int]:
        nonlocal segment, last
        location = record.location
        key = (location.kommun, location.person)
        if last is None or key != last[0] or (record.kind == INTERVENTION and last[1] == RESULT):
            segment += 1
        last = (key, record.kind)
        return (location.kommun, segment)

    keyed = ((person_key(record), record) for record in records)
    for _, block in itertools.groupby(keyed, key=lambda pair: pair[0][0]):
        block = iter(block)
        first = next(block)
        rest = itertools.chain([first], block)
        record = first[1]
        scrub = _Scrubber(numbers, changes)
        yield Kommun(scrub(record.orgnr), scrub(record.kommunkod), _persons(rest, scrub))


def _persons(keyed: Iterator[tuple[tuple, Record]], scrub: _Scrubber) -> Iterator[Person]:
    for _, group in itertools.groupby(keyed, key=lambda pair: pair[0]):
        records = [record for _, record in group]
        person = Person(scrub(records[0].personnummer))
        for record in records:
            item = Item(
                scrub(record.transaktionsdatum),
                scrub(record.status),
                scrub(record.code),
                scrub(record.start),
                scrub(record.end) if record.kind == INTERVENTION else None,
                scrub(record.system),
            )
            (person.interventions if record.kind == INTERVENTION else person.results).append(item)
        yield person


class _Scrubber:
    """A value with the number masked wherever it is spelt in it (a free-text System, say)."""

    def __init__(self, numbers: Numbers, changes: _Changes) -> None:
        self.numbers = numbers
        self.changes = changes

    def __call__(self, value: str | None) -> str | None:
        if value is None or not any(date in value for date in self.numbers.dates):
            return value
        scrubbed, count = self.numbers.text.subn(lambda m: Numbers.mask(m.group(0)), value)
        self.changes.count += count
        return scrubbed


@sensitive_variables()
def masked(stream: BinaryIO, numbers: Numbers, out: BinaryIO) -> int:
    """Copy ``stream`` to ``out`` with every spelling of ``numbers`` masked; returns how many."""
    pattern = numbers.bytes
    held = b""
    count = 0
    while True:
        block = stream.read(SCAN_BYTES)
        held += block
        # Without the last bytes, unless at the end: a match may go on in the next block.
        limit = len(held) if not block else max(0, len(held) - _OVERLAP)
        done = 0
        for match in pattern.finditer(held):
            if match.start() >= limit:
                break
            out.write(held[done : match.start()])
            out.write(Numbers.mask(match.group(0).decode()).encode())
            done = match.end()
            count += 1
        if done < limit:
            out.write(held[done:limit])
            done = limit
        held = held[done:]
        if not block:
            out.write(held)
            return count
