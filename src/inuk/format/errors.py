"""Every error and warning a delivery can get: a stable code and a message in Swedish and English.

The codes are part of the published format (``docs/format/``): suppliers match
on them, so a code is never renamed or reused. Messages say what is wrong and
what to do, and never include a personnummer; the offending value is reported
beside the message, masked where it is one.
"""

from __future__ import annotations

from dataclasses import dataclass

from inuk.format.masking import mask_personnummer, redact
from inuk.format.records import Location

__all__ = ["RULES", "FileRefused", "Problem", "Rule", "mask_personnummer", "safe_value"]


@dataclass(frozen=True, slots=True)
class Rule:
    sv: str
    en: str


RULES: dict[str, Rule] = {
    # The file as a whole: any of these refuses the whole delivery.
    "FILE_EMPTY": Rule("Filen är tom.", "The file is empty."),
    "FILE_TOO_LARGE": Rule(
        "Filen är större än den största tillåtna storleken.",
        "The file is larger than the largest size allowed.",
    ),
    "FILE_FORMAT_UNKNOWN": Rule(
        "Filen är varken XML, CSV eller JSON enligt leveransformatet.",
        "The file is neither XML, CSV nor JSON in the delivery format.",
    ),
    "FILE_ENCODING": Rule("Filen är inte kodad i UTF-8.", "The file is not encoded in UTF-8."),
    "FILE_NOT_WELL_FORMED": Rule(
        "Filen går inte att läsa som XML: den är inte välformad.",
        "The file cannot be read as XML: it is not well-formed.",
    ),
    "FILE_TRUNCATED": Rule(
        "Filen slutar mitt i: den verkar avkortad.",
        "The file ends in the middle: it seems truncated.",
    ),
    "FILE_DOCTYPE": Rule(
        "Filen innehåller DOCTYPE, entiteter eller externa referenser, vilket inte är tillåtet.",
        "The file contains a DOCTYPE, entities or external references, which are not allowed.",
    ),
    "FILE_WRONG_ROOT": Rule(
        "Filens rotelement ska vara Leverans.", "The file's root element must be Leverans."
    ),
    "FILE_INVALID_JSON": Rule(
        "Filen går inte att läsa som JSON.", "The file cannot be read as JSON."
    ),
    "FILE_JSON_SHAPE": Rule(
        "JSON-filen har inte leveransformatets form.",
        "The JSON file does not have the shape of the delivery format.",
    ),
    "FILE_CSV_HEADER": Rule(
        "CSV-filens rubrikrad ska vara "
        "organisationsnummer;kommunkod;personnummer;post;transaktionsdatum;status;kod;"
        "startdatum;slutdatum;system.",
        "The CSV file's header must be "
        "organisationsnummer;kommunkod;personnummer;post;transaktionsdatum;status;kod;"
        "startdatum;slutdatum;system.",
    ),
    "FILE_NO_TRANSACTIONS": Rule(
        "Filen innehåller inga transaktioner.", "The file contains no transactions."
    ),
    # What a reader cannot hold (``inuk.format.readers.limits``).
    "FILE_PERSON_TOO_LARGE": Rule(
        "En Person tar mer än 4 MB i filen (omkring 10 000 transaktioner eller fler). "
        "Dela upp personens transaktioner på flera leveranser.",
        "A Person takes more than 4 MB in the file (about 10,000 transactions or more). "
        "Split the person's transactions over several deliveries.",
    ),
    "FILE_TOO_MANY_ELEMENTS": Rule(
        "Ett element i filen innehåller fler än 10 000 okända eller upprepade element.",
        "An element in the file holds more than 10,000 unknown or repeated elements.",
    ),
    "FILE_VALUE_TOO_LARGE": Rule(
        "En nyckel eller ett Kommun-värde i JSON-filen är längre än 10 000 tecken.",
        "A key or a value of a Kommun in the JSON file is longer than 10,000 characters.",
    ),
    "FILE_CSV_ROW_TOO_LONG": Rule(
        "En rad i CSV-filen är längre än 10 000 tecken.",
        "A row of the CSV file is longer than 10,000 characters.",
    ),
    # Who may deliver (needs the service's register; refuses the whole delivery).
    "ORG_NOT_SENDER": Rule(
        "Organisationsnumret i filen är inte det levererande organisationens.",
        "The organisation number in the file is not that of the delivering organisation.",
    ),
    "ORG_NOT_REGISTERED": Rule(
        "Organisationen är inte registrerad i tjänsten.",
        "The organisation is not registered in the service.",
    ),
    "AGREEMENT_NOT_IN_FORCE": Rule(
        "Det finns inget samverkansavtal i kraft för kommunen.",
        "There is no cooperation agreement in force for the municipality.",
    ),
    "KOMMUNKOD_NOT_AUTHORISED": Rule(
        "Organisationen får inte leverera för den här kommunen.",
        "The organisation may not deliver for this municipality.",
    ),
    # Structure.
    "ELEMENT_MISSING": Rule("Ett obligatoriskt element saknas.", "A required element is missing."),
    "ELEMENT_UNKNOWN": Rule(
        "Elementet ingår inte i leveransformatet.",
        "The element is not part of the delivery format.",
    ),
    "ELEMENT_REPEATED": Rule(
        "Elementet får bara förekomma en gång här.", "The element may occur only once here."
    ),
    "ELEMENT_NOT_TEXT": Rule(
        "Elementet ska innehålla text, inte andra element eller värden av annan typ.",
        "The element must hold text, not other elements or values of another type.",
    ),
    "LIST_EMPTY": Rule(
        "Listan är tom: den ska innehålla minst ett element.",
        "The list is empty: it must hold at least one element.",
    ),
    "PERSON_WITHOUT_LISTS": Rule(
        "Personen har varken Insatslista eller Resultatlista.",
        "The person has neither Insatslista nor Resultatlista.",
    ),
    "CSV_COLUMN_COUNT": Rule(
        "Raden har fel antal kolumner: den ska ha tio, åtskilda med semikolon.",
        "The row has the wrong number of columns: it must have ten, separated by semicolons.",
    ),
    "CSV_POST": Rule(
        "Kolumnen post ska vara insats eller resultat.",
        "The column post must be insats or resultat.",
    ),
    "CSV_END_ON_RESULT": Rule(
        "Ett resultat har inget slutdatum: kolumnen slutdatum ska vara tom.",
        "A result has no end date: the column slutdatum must be empty.",
    ),
    # Organisationsnummer.
    "ORGNR_FORMAT": Rule(
        "Organisationsnumret ska vara 10 siffror, eller 12 siffror som börjar med 16.",
        "The organisation number must be 10 digits, or 12 digits beginning with 16.",
    ),
    "ORGNR_THIRD_DIGIT": Rule(
        "Organisationsnumrets tredje siffra ska vara minst 2.",
        "The organisation number's third digit must be at least 2.",
    ),
    "ORGNR_CHECKSUM": Rule(
        "Organisationsnumrets kontrollsiffra stämmer inte.",
        "The organisation number's check digit is wrong.",
    ),
    # Kommunkod.
    "KOMMUNKOD_FORMAT": Rule(
        "Kommunkoden ska vara tre eller fyra siffror.",
        "The municipality code must be three or four digits.",
    ),
    "KOMMUNKOD_UNKNOWN": Rule(
        "Kommunkoden finns inte bland Sveriges 290 kommuner.",
        "The municipality code is not one of Sweden's 290 municipalities.",
    ),
    "KOMMUNKOD_NOT_OWN": Rule(
        "En kommun får bara leverera för sin egen kommunkod.",
        "A municipality may deliver only for its own municipality code.",
    ),
    # Personnummer.
    "PNR_FORMAT": Rule(
        "Personnumret ska vara 12 siffror (ÅÅÅÅMMDDNNNK).",
        "The personal identity number must be 12 digits (YYYYMMDDNNNC).",
    ),
    "PNR_CENTURY": Rule(
        "Personnumret ska börja med 18, 19 eller 20.",
        "The personal identity number must begin with 18, 19 or 20.",
    ),
    "PNR_DATE": Rule(
        "Personnumrets födelsedatum är inget riktigt datum.",
        "The personal identity number's date of birth is not a real date.",
    ),
    "PNR_BIRTH_NUMBER": Rule(
        "Personnumrets födelsenummer får inte vara 000.",
        "The personal identity number's birth number must not be 000.",
    ),
    "PNR_CHECKSUM": Rule(
        "Personnumrets kontrollsiffra stämmer inte.",
        "The personal identity number's check digit is wrong.",
    ),
    "PNR_FUTURE": Rule(
        "Personnumrets födelsedatum ligger i framtiden.",
        "The personal identity number's date of birth is in the future.",
    ),
    # Transaktionsdatum.
    "TIMESTAMP_FORMAT": Rule(
        "Transaktionsdatum ska vara ÅÅÅÅ-MM-DD TT:MM:SS med valfri decimaldel, "
        "och ett riktigt datum och klockslag.",
        "Transaktionsdatum must be YYYY-MM-DD HH:MM:SS with an optional fraction, "
        "and a real date and time.",
    ),
    "TIMESTAMP_FUTURE": Rule(
        "Transaktionsdatum ligger efter tidpunkten då filen togs emot.",
        "Transaktionsdatum is later than the time the file was received.",
    ),
    # Status.
    "STATUS_UNKNOWN": Rule(
        "Status ska vara Registrering, Ändring eller Borttag.",
        "Status must be Registrering, Ändring or Borttag.",
    ),
    # Codes.
    "CODE_UNKNOWN": Rule(
        "Koden finns inte i Arbetsförmedlingens kodlista.",
        "The code is not in Arbetsförmedlingen's code list.",
    ),
    "CODE_NOT_VALID_ON_START": Rule(
        "Koden gäller inte på startdatumet.", "The code is not valid on the start date."
    ),
    # Dates.
    "DATE_FORMAT": Rule(
        "Datumet ska vara ÅÅÅÅMMDD och ett riktigt datum.",
        "The date must be YYYYMMDD and a real date.",
    ),
    "END_BEFORE_START": Rule(
        "Slutdatum ligger före startdatum.", "The end date is before the start date."
    ),
    # System.
    "SYSTEM_LENGTH": Rule("System ska vara 1–100 tecken.", "System must be 1–100 characters."),
    "SYSTEM_PERSONNUMMER": Rule(
        "System ska vara namnet på källsystemet, men är ett personnummer.",
        "System must name the source system, but it is a personal identity number.",
    ),
    # Warnings: the transaction is accepted.
    "IDENTITY_UNKNOWN": Rule(
        "Ändring eller borttag av en post som aldrig registrerats.",
        "Change or removal of a record that was never registered.",
    ),
}


def safe_value(field: str, value: str | None) -> str:
    """A value fit for a report: masked if a personnummer, short, and never one by accident.

    Masked before it is shortened, so that a cut cannot leave a personnummer's
    digits that the rule no longer recognises.
    """
    if value is None:
        return ""
    if field == "Personnummer":
        return mask_personnummer(value)
    shown = redact(value)
    return shown if len(shown) <= 100 else shown[:100] + "…"


@dataclass(slots=True)
class Problem:
    """An error or warning about one place in a file."""

    code: str
    field: str = ""
    location: Location | None = None
    value: str = ""
    severity: str = "error"
    #: The path if it is not the location's own (a value of a Kommun or Person).
    explicit_path: str | None = None
    #: Index of the transaction in the file, where the problem is about one.
    position: int | None = None

    @classmethod
    def about(
        cls, code: str, field: str, location: Location | None, raw_value: str | None, **kwargs
    ) -> Problem:
        return cls(code, field, location, safe_value(field, raw_value), **kwargs)

    @property
    def line(self) -> int | None:
        return self.location.line if self.location else None

    @property
    def path(self) -> str:
        if self.explicit_path is not None:
            return self.explicit_path
        return self.location.path(self.field or None) if self.location else ""

    def as_dict(self) -> dict:
        rule = RULES[self.code]
        return {
            "code": self.code,
            "field": self.field,
            "line": self.line,
            "path": self.path,
            "message_sv": rule.sv,
            "message_en": rule.en,
            "value": self.value,
        }


class FileRefused(Exception):
    """The file cannot be read as a delivery; nothing of it is accepted.

    ``detail`` may add a technical explanation (from the parser); it never
    holds file content that could be a personnummer.
    """

    def __init__(self, code: str, detail: str = "", line: int | None = None) -> None:
        self.code = code
        self.detail = redact(detail)[:300]
        self.line = line
        super().__init__(f"{code}: {RULES[code].en} {self.detail}".strip())

    def __reduce__(self):
        # Pickled as what it was made of, so that another process can raise it again.
        return FileRefused, (self.code, self.detail, self.line)

    def as_problem(self) -> Problem:
        return Problem(self.code, "", Location("file", self.line), self.detail, explicit_path="")
