"""Small deliveries for the format tests, written with the writers' own model."""

from __future__ import annotations

import io

import pytest

from inuk.format.errors import FileRefused, Problem
from inuk.format.readers import FORMATS
from inuk.format.records import Record
from inuk.format.writers import Kommun, Person, Transaction
from tests.conftest import (
    ANNA,
    BO,
    DORIS,
    VALLENTUNA_CODE,
    VALLENTUNA_ORGNR,
    VASBY_CODE,
    VASBY_ORGNR,
)


def small_delivery() -> list[Kommun]:
    """Two Kommun blocks, three persons: ended and ongoing interventions, results, an Ändring."""
    return [
        Kommun(
            VASBY_ORGNR,
            VASBY_CODE,
            [
                Person(
                    ANNA,
                    [
                        Transaction(
                            "2024-02-12 09:15:02", "Registrering", "KAR", "20240108", "20240209"
                        ),
                        Transaction("2024-03-01T08:00:00", "registrering", "PRA", "20240301"),
                    ],
                    [Transaction("2024-08-20 13:45:10.25000", "Registrering", "ARB", "20240815")],
                ),
                Person(
                    BO,
                    [
                        Transaction(
                            "2023-12-18 16:02:44",
                            "Ändring",
                            "SYV",
                            "20231002",
                            "20231215",
                            'Vägledning & <Stöd> "2"; v.4',
                        )
                    ],
                ),
            ],
        ),
        Kommun(
            VALLENTUNA_ORGNR,
            VALLENTUNA_CODE,
            [
                Person(
                    DORIS,
                    [],
                    [Transaction("2024-09-03 08:12:45", "Registrering", "AFI", "20240902")],
                ),
            ],
        ),
    ]


def read(format: str, data: bytes) -> list[Record | Problem]:
    return list(FORMATS[format](io.BytesIO(data)))


def records(items: list) -> list[Record]:
    return [item for item in items if isinstance(item, Record)]


def problems(items: list) -> list[Problem]:
    return [item for item in items if isinstance(item, Problem)]


def refusal(format: str, data: bytes) -> FileRefused:
    with pytest.raises(FileRefused) as caught:
        read(format, data)
    return caught.value


def values(record: Record) -> tuple:
    """What a record says, without where it stood."""
    return (
        record.kind,
        record.orgnr,
        record.kommunkod,
        record.personnummer,
        record.transaktionsdatum,
        record.status,
        record.code,
        record.start,
        record.end,
        record.system,
    )


def expected_values(kommuner: list[Kommun]) -> list[tuple]:
    """The values each transaction of ``kommuner`` should read back as, in file order."""
    rows = []
    for kommun in kommuner:
        for person in kommun.persons:
            for kind, t in person.transactions():
                rows.append(
                    (
                        kind,
                        kommun.orgnr,
                        kommun.kommunkod,
                        person.personnummer,
                        t.transaktionsdatum,
                        t.status,
                        t.code,
                        t.start,
                        t.end,
                        t.system,
                    )
                )
    return rows
