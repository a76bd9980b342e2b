"""Small deliveries written out by hand, for tests of receiving and processing."""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from stdnum import luhn

VASBY = ("2120000019", "0114")  # Upplands Väsby kommun
VALLENTUNA = ("2120000027", "0115")
AF = "2021002114"


def pnr(birth: str, serial: str = "123") -> str:
    """A valid 12-digit personnummer for ``birth`` (YYYYMMDD, day + 60 for samordningsnummer)."""
    body = birth[2:] + serial
    return birth + serial + luhn.calc_check_digit(body)


@dataclass
class Tx:
    code: str = "SYV"
    start: str = "20240105"
    end: str | None = None
    status: str = "Registrering"
    at: str = "2024-01-05 10:00:00"
    system: str = "SystemX"
    kind: str = "I"


@dataclass
class Person:
    personnummer: str
    transactions: list[Tx] = field(default_factory=list)


def xml(orgnr: str, kommunkod: str, persons: list[Person], *, blocks=None) -> bytes:
    """A delivery of one Kommun block (or several: ``blocks`` of (orgnr, kommunkod, persons))."""
    blocks = blocks or [(orgnr, kommunkod, persons)]
    out = ['<?xml version="1.0" encoding="UTF-8"?>', "<Leverans>", "<Kommunlista>"]
    for block_orgnr, block_kommunkod, block_persons in blocks:
        out += [
            "<Kommun>",
            f"<Organisationsnummer>{block_orgnr}</Organisationsnummer>",
            f"<Kommunkod>{block_kommunkod}</Kommunkod>",
            "<Personlista>",
        ]
        for person in block_persons:
            out += ["<Person>", f"<Personnummer>{escape(person.personnummer)}</Personnummer>"]
            for kind, list_name, item, code_name, start_name in (
                ("I", "Insatslista", "Insats", "Insatskod", "StartdatumInsats"),
                ("R", "Resultatlista", "Resultat", "Resultatkod", "StartdatumResultat"),
            ):
                txs = [t for t in person.transactions if t.kind == kind]
                if not txs:
                    continue
                out.append(f"<{list_name}>")
                for t in txs:
                    out += [
                        f"<{item}>",
                        f"<Transaktionsdatum>{t.at}</Transaktionsdatum>",
                        f"<Status>{t.status}</Status>",
                        f"<{code_name}>{t.code}</{code_name}>",
                        f"<{start_name}>{t.start}</{start_name}>",
                    ]
                    if t.end is not None:
                        out.append(f"<SlutdatumInsats>{t.end}</SlutdatumInsats>")
                    out += [f"<System>{escape(t.system)}</System>", f"</{item}>"]
                out.append(f"</{list_name}>")
            out.append("</Person>")
        out += ["</Personlista>", "</Kommun>"]
    out += ["</Kommunlista>", "</Leverans>", ""]
    return "\n".join(out).encode("utf-8")
