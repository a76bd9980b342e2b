"""Deliveries made to exhaust a reader's memory, for tests and benchmarks.

Each is valid up to the one thing the format does not bound by itself: an
unknown element with a large content, a Person with very many transactions,
a CSV row of very many fields, a large value under an unknown JSON key. A
reader that held such a thing whole would need many times the file's size;
the readers must stay within a fixed bound instead (see
``inuk.format.readers.limits``). Every file is written in one pass, in
constant memory, to about ``size`` bytes::

    with open("unknown.xml", "wb") as out:
        hostile.write("xml-unknown", out, 20_000_000)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO

#: A valid Kommun and Person of Upplands Väsby (0114), before and after the hostile part.
ORGNR, KOMMUNKOD, PERSONNUMMER = "2120000019", "0114", "199001012385"
_INSATS = (
    "<Insats><Transaktionsdatum>2024-01-10 10:49:29</Transaktionsdatum>"
    "<Status>Registrering</Status><Insatskod>SYV</Insatskod>"
    "<StartdatumInsats>20240110</StartdatumInsats><System>SystemX</System></Insats>"
)
_INSATS_JSON = (
    '{"Transaktionsdatum": "2024-01-10 10:49:29", "Status": "Registrering", '
    '"Insatskod": "SYV", "StartdatumInsats": "20240110", "System": "SystemX"}'
)
_CSV_HEADER = (
    "organisationsnummer;kommunkod;personnummer;post;transaktionsdatum;status;kod;"
    "startdatum;slutdatum;system\n"
)
_CSV_ROW = (
    f"{ORGNR};{KOMMUNKOD};{PERSONNUMMER};"
    "insats;2024-01-10 10:49:29;Registrering;SYV;20240110;;SystemX\n"
)
_BLOCK = 1 << 16


def _repeat(out: BinaryIO, unit: bytes, size: int) -> None:
    """Write ``unit`` over and over, about ``size`` bytes of it, a block at a time."""
    block = unit * max(1, _BLOCK // len(unit))
    written = 0
    while written < size:
        out.write(block)
        written += len(block)


def _xml_person(body: str = _INSATS) -> str:
    return (
        f"<Person><Personnummer>{PERSONNUMMER}</Personnummer>"
        f"<Insatslista>{body}</Insatslista></Person>"
    )


def _xml_start() -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Leverans><Kommunlista><Kommun>'
        f"<Organisationsnummer>{ORGNR}</Organisationsnummer><Kommunkod>{KOMMUNKOD}</Kommunkod>"
        f"<Personlista>{_xml_person()}"
    ).encode()


def xml_unknown(out: BinaryIO, size: int) -> None:
    """An element not in the format, holding ``size`` bytes of small elements."""
    out.write(_xml_start())
    out.write(b"<Bilaga>")
    _repeat(out, b"<Rad>text</Rad>", size)
    out.write(b"</Bilaga></Personlista></Kommun></Kommunlista></Leverans>\n")


def xml_person(out: BinaryIO, size: int) -> None:
    """One Person with as many Insats as fit in ``size`` bytes."""
    out.write(_xml_start())
    out.write(f"<Person><Personnummer>{PERSONNUMMER}</Personnummer><Insatslista>".encode())
    _repeat(out, _INSATS.encode(), size)
    out.write(b"</Insatslista></Person></Personlista></Kommun></Kommunlista></Leverans>\n")


def csv_row(out: BinaryIO, size: int) -> None:
    """A row of ``size`` separators."""
    out.write(_CSV_HEADER.encode() + _CSV_ROW.encode())
    _repeat(out, b";", size)
    out.write(b"\n" + _CSV_ROW.encode())


def csv_field(out: BinaryIO, size: int) -> None:
    """A row whose quoted last field runs ``size`` bytes, over many lines."""
    out.write(_CSV_HEADER.encode() + _CSV_ROW.encode())
    out.write(_CSV_ROW[:-1].rsplit(";", 1)[0].encode() + b';"')
    _repeat(out, b"abcdefghi\n", size)
    out.write(b'"\n' + _CSV_ROW.encode())


def _json_start() -> bytes:
    return (
        f'{{"Leverans": {{"Kommunlista": [{{"Organisationsnummer": "{ORGNR}", '
        f'"Kommunkod": "{KOMMUNKOD}", "Personlista": [{{"Personnummer": "{PERSONNUMMER}", '
        f'"Insatslista": [{_INSATS_JSON}]}}'
    ).encode()


def json_unknown(out: BinaryIO, size: int) -> None:
    """A string of ``size`` bytes under a key the format does not have."""
    out.write(_json_start())
    out.write(b']}], "Bilaga": "')
    _repeat(out, b"abcdefghij", size)
    out.write(b'"}}\n')


def json_unknown_array(out: BinaryIO, size: int) -> None:
    """An array of ``size`` bytes of small objects under a key the format does not have."""
    out.write(_json_start())
    out.write(b']}], "Bilaga": [')
    _repeat(out, b'{"a": [1, "b"]}, ', size)
    out.write(b"0]}}\n")


def json_person(out: BinaryIO, size: int) -> None:
    """One Person with as many Insats as fit in ``size`` bytes."""
    out.write(_json_start())
    out.write(f', {{"Personnummer": "{PERSONNUMMER}", "Insatslista": ['.encode())
    _repeat(out, _INSATS_JSON.encode() + b", ", size)
    out.write(_INSATS_JSON.encode() + b"]}]}]}}\n")


KINDS: dict[str, Callable[[BinaryIO, int], None]] = {
    "xml-unknown": xml_unknown,
    "xml-person": xml_person,
    "csv-row": csv_row,
    "csv-field": csv_field,
    "json-unknown": json_unknown,
    "json-unknown-array": json_unknown_array,
    "json-person": json_person,
}


def write(kind: str, out: BinaryIO, size: int) -> None:
    """Write the hostile delivery ``kind`` (a key of ``KINDS``) of about ``size`` bytes."""
    KINDS[kind](out, size)
