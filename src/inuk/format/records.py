"""What the readers produce: one ``Record`` per transaction, with where it stood.

A reader turns a file of any format into the same stream of records. Values are
kept as the text the file held (``None`` where the element was missing);
``inuk.format.validation`` decides what they mean. Positions are kept as small
numbers and only turned into a path when a message needs one, so that reading
a million transactions costs no million path strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

INTERVENTION = "I"
RESULT = "R"

#: The annex's element names for the values of a record, by record kind.
FIELD_NAMES = {
    INTERVENTION: {
        "transaktionsdatum": "Transaktionsdatum",
        "status": "Status",
        "code": "Insatskod",
        "start": "StartdatumInsats",
        "end": "SlutdatumInsats",
        "system": "System",
    },
    RESULT: {
        "transaktionsdatum": "Transaktionsdatum",
        "status": "Status",
        "code": "Resultatkod",
        "start": "StartdatumResultat",
        "system": "System",
    },
}
LIST_NAMES = {INTERVENTION: ("Insatslista", "Insats"), RESULT: ("Resultatlista", "Resultat")}


# Not frozen: a frozen dataclass's __init__ costs three times as much, and a
# reader makes one Location per transaction.
@dataclass(slots=True)
class Location:
    """Where something stood in a file.

    ``kommun``, ``person`` and ``item`` are 0-based indexes of the ``Kommun``,
    the ``Person`` within it and the ``Insats``/``Resultat`` within its list;
    ``kind`` says which list. For CSV only ``line`` matters (the physical line,
    1-based, the header being line 1).
    """

    format: str
    line: int | None = None
    kommun: int | None = None
    person: int | None = None
    kind: str | None = None
    item: int | None = None

    def path(self, element: str | None = None) -> str:
        """The XML element path or JSON pointer, down to ``element`` if given; '' for CSV."""
        if self.format == "csv":
            return ""
        xml = self.format == "xml"
        parts = ["Leverans"]
        if self.kommun is not None:
            parts += ["Kommunlista", f"Kommun[{self.kommun + 1}]" if xml else "", str(self.kommun)]
        if self.person is not None:
            parts += ["Personlista", f"Person[{self.person + 1}]" if xml else "", str(self.person)]
        if self.kind is not None:
            list_name, item_name = LIST_NAMES[self.kind]
            parts.append(list_name)
            if self.item is not None:
                parts += [f"{item_name}[{self.item + 1}]" if xml else "", str(self.item)]
        # XML names items by position (Kommun[1]); a JSON pointer by index (/0).
        parts = [p for p in parts if p and not (xml and p.isdigit())]
        if element:
            parts.append(element)
        return "/" + "/".join(parts)


@dataclass(slots=True)
class Record:
    """One transaction (an Insats or a Resultat) with the Kommun and Person it stood under."""

    kind: str
    orgnr: str | None
    kommunkod: str | None
    personnummer: str | None = field(repr=False)
    transaktionsdatum: str | None
    status: str | None
    code: str | None
    start: str | None
    end: str | None
    system: str | None
    location: Location
    #: Problems of structure the reader found in this transaction (unknown or
    #: repeated elements, a missing required element of the Kommun or Person).
    problems: list = field(default_factory=list)

    def field_name(self, attribute: str) -> str:
        """The annex's element name for one of this record's attributes."""
        if attribute in ("orgnr", "kommunkod", "personnummer"):
            return {
                "orgnr": "Organisationsnummer",
                "kommunkod": "Kommunkod",
                "personnummer": "Personnummer",
            }[attribute]
        return FIELD_NAMES[self.kind][attribute]

    def path(self, attribute: str) -> str:
        """The path of one of this record's values, at the level where it stands in the file."""
        location = self.location
        if attribute in ("orgnr", "kommunkod"):
            location = replace(location, person=None, kind=None, item=None)
        elif attribute == "personnummer":
            location = replace(location, kind=None, item=None)
        return location.path(self.field_name(attribute))
