"""The month's deliveries of many municipalities: small files, some broken, some sent twice.

A file's name says who sends it and how (``ORGNR-KOMMUNKOD-strict.xml``), so
that a single-process ingest of the same directory sends each the same way.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from inuk.format import synthetic, writers
from inuk.organisations import reference


@dataclass(frozen=True)
class Planned:
    orgnr: str
    kommunkod: str
    data: bytes
    strict: bool
    #: With one unknown Insatskod: rejected whole if strict, else applied with one rejection.
    broken: bool
    #: Sent twice at the same moment by its client.
    twice: bool

    @property
    def name(self) -> str:
        return f"{self.orgnr}-{self.kommunkod}-{'strict' if self.strict else 'lenient'}.xml"

    @property
    def expected(self) -> str:
        return "rejected" if self.strict and self.broken else "applied"


def parse_name(name: str) -> tuple[str, bool]:
    orgnr, _, rest = name.partition("-")
    return orgnr, rest.endswith("-strict.xml")


def municipalities(count: int) -> list[str]:
    """The first ``count`` kommunkoder of the register, AF's and the regions' left out."""
    return [row.code for row in reference.municipalities()][:count]


def plan(count: int, *, persons: int = 20, per_person: int = 3) -> list[Planned]:
    """One month's file for each of ``count`` municipalities.

    Every seventh is strict and broken (rejected whole), every eleventh lenient
    and broken (applied, one transaction rejected), every fifth sent twice at once.
    """
    planned = []
    for index, code in enumerate(municipalities(count)):
        sender = synthetic.municipality(code)
        kommuner = synthetic.delivery(
            sender, persons=persons, transactions_per_person=per_person, seed=1000 + index
        )
        out = io.BytesIO()
        writers.write_xml(kommuner, out)
        data = out.getvalue()
        strict = index % 7 == 3
        broken = strict or index % 11 == 5
        if broken:
            start = data.index(b"<Insatskod>") + len(b"<Insatskod>")
            end = data.index(b"</Insatskod>", start)
            data = data[:start] + b"NOPE" + data[end:]
        planned.append(Planned(sender.orgnr, code, data, strict, broken, twice=index % 5 == 1))
    return planned


def write(planned: list[Planned], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for item in planned:
        (directory / item.name).write_bytes(item.data)
    return directory
