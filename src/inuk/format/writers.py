"""Writes deliveries in each format, from a plain description of their content.

For tests, the demo, benchmarks and example files: the same ``Kommun`` list
written as XML, CSV or JSON reads back as the same records. A Kommun's persons
may be any iterable, a generator included, so that a delivery of any size is
written person by person without being held in memory. A value of ``None`` is
left out (an ongoing intervention has no SlutdatumInsats); every other value is
written as it is given, valid or not, so tests can write broken files too.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import BinaryIO
from xml.sax.saxutils import escape

from inuk.format.readers.csv import HEADER
from inuk.format.records import FIELD_NAMES, INTERVENTION, LIST_NAMES, RESULT

#: Written out in pieces of about this many characters.
_FLUSH_AT = 1 << 16


@dataclass(slots=True)
class Transaction:
    """One Insats or Resultat, its values as text in the file (a Resultat has no ``end``)."""

    transaktionsdatum: str | None
    status: str | None
    code: str | None
    start: str | None
    end: str | None = None
    system: str | None = "SystemX"


@dataclass(slots=True)
class Person:
    personnummer: str | None
    interventions: list[Transaction] = field(default_factory=list)
    results: list[Transaction] = field(default_factory=list)

    def transactions(self) -> Iterable[tuple[str, Transaction]]:
        """Each transaction with its kind, in the order the formats write them."""
        for transaction in self.interventions:
            yield INTERVENTION, transaction
        for transaction in self.results:
            yield RESULT, transaction


@dataclass(slots=True)
class Kommun:
    """One Kommun block: the delivering organisation, the municipality, and its persons."""

    orgnr: str | None
    kommunkod: str | None
    persons: Iterable[Person] = field(default_factory=list)


#: Per kind: the element names in the annex's order, and a getter of the values in that order.
_FIELDS = {kind: (tuple(names.values()), attrgetter(*names)) for kind, names in FIELD_NAMES.items()}


def _values(kind: str, transaction: Transaction) -> list[tuple[str, str]]:
    """(element name, value) in the annex's order, leaving out what is None."""
    names, values = _FIELDS[kind]
    return [
        (name, value)
        for name, value in zip(names, values(transaction), strict=True)
        if value is not None
    ]


def _escape(text: str) -> str:
    if "&" in text or "<" in text or ">" in text:
        return escape(text)
    return text


class _Output:
    """Collects text and writes it to a binary stream as UTF-8 in large pieces."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.parts: list[str] = []
        self.size = 0

    def write(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)
        if self.size >= _FLUSH_AT:
            self.flush()

    def flush(self) -> None:
        self.out.write("".join(self.parts).encode("utf-8"))
        self.parts.clear()
        self.size = 0


def write_xml(kommuner: Iterable[Kommun], out: BinaryIO) -> None:
    """Write a delivery as XML, indented, one element per line."""
    output = _Output(out)
    write = output.write
    write('<?xml version="1.0" encoding="UTF-8"?>\n<Leverans>\n  <Kommunlista>\n')
    for kommun in kommuner:
        write("    <Kommun>\n")
        for name, value in (("Organisationsnummer", kommun.orgnr), ("Kommunkod", kommun.kommunkod)):
            if value is not None:
                write(f"      <{name}>{_escape(value)}</{name}>\n")
        write("      <Personlista>\n")
        for person in kommun.persons:
            parts = ["        <Person>\n"]
            if person.personnummer is not None:
                parts.append(
                    f"          <Personnummer>{_escape(person.personnummer)}</Personnummer>\n"
                )
            for kind, transactions in (
                (INTERVENTION, person.interventions),
                (RESULT, person.results),
            ):
                if not transactions:
                    continue
                list_name, item_name = LIST_NAMES[kind]
                parts.append(f"          <{list_name}>\n")
                names, values = _FIELDS[kind]
                for transaction in transactions:
                    parts.append(f"            <{item_name}>\n")
                    for name, value in zip(names, values(transaction), strict=True):
                        if value is not None:
                            parts.append(f"              <{name}>{_escape(value)}</{name}>\n")
                    parts.append(f"            </{item_name}>\n")
                parts.append(f"          </{list_name}>\n")
            parts.append("        </Person>\n")
            write("".join(parts))
        write("      </Personlista>\n    </Kommun>\n")
    write("  </Kommunlista>\n</Leverans>\n")
    output.flush()


def write_csv(kommuner: Iterable[Kommun], out: BinaryIO) -> None:
    """Write a delivery as CSV: the header, then one row per transaction."""
    output = _Output(out)
    text = io.StringIO()
    writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    posts = {INTERVENTION: "insats", RESULT: "resultat"}
    for kommun in kommuner:
        for person in kommun.persons:
            for kind, t in person.transactions():
                writer.writerow(
                    (
                        kommun.orgnr,
                        kommun.kommunkod,
                        person.personnummer,
                        posts[kind],
                        t.transaktionsdatum,
                        t.status,
                        t.code,
                        t.start,
                        t.end if kind == INTERVENTION else None,
                        t.system,
                    )
                )
            if text.tell() >= _FLUSH_AT:
                output.write(text.getvalue())
                text.seek(0)
                text.truncate()
    output.write(text.getvalue())
    output.flush()


def write_json(kommuner: Iterable[Kommun], out: BinaryIO) -> None:
    """Write a delivery as JSON, one Person object per line."""
    output = _Output(out)
    write = output.write
    write('{"Leverans": {"Kommunlista": [')
    for k, kommun in enumerate(kommuner):
        head = {
            name: value
            for name, value in (
                ("Organisationsnummer", kommun.orgnr),
                ("Kommunkod", kommun.kommunkod),
            )
            if value is not None
        }
        opening = json.dumps(head, ensure_ascii=False)[:-1]
        write(("," if k else "") + "\n  " + opening + (", " if head else "") + '"Personlista": [')
        for p, person in enumerate(kommun.persons):
            document: dict[str, object] = {}
            if person.personnummer is not None:
                document["Personnummer"] = person.personnummer
            for kind, transactions in (
                (INTERVENTION, person.interventions),
                (RESULT, person.results),
            ):
                if transactions:
                    document[LIST_NAMES[kind][0]] = [dict(_values(kind, t)) for t in transactions]
            write(("," if p else "") + "\n    " + json.dumps(document, ensure_ascii=False))
        write("\n  ]}")
    write("\n]}}\n")
    output.flush()


WRITERS: dict[str, Callable[[Iterable[Kommun], BinaryIO], None]] = {
    "xml": write_xml,
    "csv": write_csv,
    "json": write_json,
}


def write(format: str, kommuner: Iterable[Kommun], out: BinaryIO) -> None:
    """Write a delivery in ``format`` ('xml', 'csv' or 'json')."""
    WRITERS[format](kommuner, out)


def to_bytes(format: str, kommuner: Iterable[Kommun]) -> bytes:
    """A (small) delivery as the bytes of a file."""
    buffer = io.BytesIO()
    write(format, kommuner, buffer)
    return buffer.getvalue()
