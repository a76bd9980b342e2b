"""What the XML and JSON readers share: the delivery's tree, walked the same way.

Both formats are one tree (Leverans, Kommunlista, Kommun, Personlista, Person,
Insatslista and Resultatlista), so at each level the same is done:

- a Kommun's own values (Organisationsnummer, Kommunkod) are taken once each,
  and what is wrong with them is shared by all its records (``Kommun.take``);
- a Person's records carry the problems of its Kommun and of the Person
  (``Kommun.shared``);
- records read before the Kommun's values are known (they stand after its
  Personlista) wait, up to ``PENDING_LIMIT``, and are given the values when the
  Kommun ends (``Kommun.hold``, ``Kommun.released``);
- a record of an uncommon shape is built value by value (``record``).

Only the loops that run once per transaction stay in each reader, written for
its parser: lxml's elements in ``xml``, the decoder's key–value pairs in
``json``.
"""

from __future__ import annotations

from inuk.format.errors import Problem
from inuk.format.records import FIELD_NAMES, INTERVENTION, LIST_NAMES, RESULT, Location, Record

ROOT = "Leverans"

#: Records held back while a Kommun's Organisationsnummer or Kommunkod has not
#: been seen (they belong before its Personlista); past this the file is refused
#: rather than held in memory.
PENDING_LIMIT = 20_000

#: A Kommun's own values: name -> attribute of ``Kommun``.
KOMMUN_VALUES = {"Organisationsnummer": "orgnr", "Kommunkod": "kommunkod"}
#: Insatslista, Resultatlista -> the kind of record their items are.
LIST_KINDS = {LIST_NAMES[kind][0]: kind for kind in LIST_NAMES}
#: Element (or key) name -> record attribute, per kind.
ATTRIBUTES = {
    kind: {name: attr for attr, name in names.items()} for kind, names in FIELD_NAMES.items()
}
#: An item's names in the annex's order: the shape nearly every item has, read
#: without looking at each name on its own.
INTERVENTION_ENDED = tuple(FIELD_NAMES[INTERVENTION].values())
INTERVENTION_ONGOING = tuple(name for name in INTERVENTION_ENDED if name != "SlutdatumInsats")
RESULT_ORDER = tuple(FIELD_NAMES[RESULT].values())


class Kommun:
    """What a reader knows of the Kommun it is in."""

    __slots__ = ("index", "kommunkod", "orgnr", "pending", "persons", "problems", "seen")

    def __init__(self, index: int) -> None:
        self.index = index
        self.orgnr: str | None = None
        self.kommunkod: str | None = None
        #: Problems with the Kommun's own values, shared by all its records.
        self.problems: list[Problem] = []
        self.persons = 0
        #: Records held back until the Kommun's values are known (only when
        #: they stand after its Personlista).
        self.pending: list[Record | Problem] | None = None
        self.seen: set[str] = set()

    def take(
        self, name: str, text: str | None, location: Location, not_text: Problem | None = None
    ) -> Problem | None:
        """Take the value ``name`` (a key of ``KOMMUN_VALUES``), already stripped.

        ``not_text`` is the problem to report if the value is not text (then
        ``text`` is not used). Returns the problem, if any, also kept in
        ``problems``.
        """
        if name in self.seen:
            problem = Problem.about("ELEMENT_REPEATED", name, location, None)
        else:
            self.seen.add(name)
            if not_text is None:
                setattr(self, KOMMUN_VALUES[name], text)
                return None
            problem = not_text
        self.problems.append(problem)
        return problem

    def await_values(self) -> None:
        """A Personlista starts: hold its records back if the Kommun's values are not all known."""
        if self.pending is None and len(self.seen) < len(KOMMUN_VALUES):
            self.pending = []

    def shared(self, person_problems: list[Problem]) -> list[Problem]:
        """The problems every record of a Person gets: its Kommun's (unless they
        wait for ``released``) and its own."""
        if self.pending is not None:
            return person_problems
        return self.problems + person_problems

    def hold(self, items: list[Record | Problem]) -> bool:
        """Hold ``items`` back; True once more are held than ``PENDING_LIMIT``."""
        assert self.pending is not None
        self.pending.extend(items)
        return len(self.pending) > PENDING_LIMIT

    def released(self) -> list[Record | Problem]:
        """The items held back, given the Kommun's values and problems now that it ended."""
        pending = self.pending or []
        for item in pending:
            if isinstance(item, Record):
                item.orgnr, item.kommunkod = self.orgnr, self.kommunkod
                if self.problems:
                    item.problems[:0] = self.problems
        return pending

    def personlista_problem(self, lists: int, location: Location) -> Problem | None:
        """What is wrong with the Kommun's Personlista once it ended, having seen ``lists``."""
        if lists == 0:
            return Problem("ELEMENT_MISSING", "Personlista", location)
        if self.persons == 0:
            return Problem("LIST_EMPTY", "Personlista", location)
        return None


def record(
    kind: str,
    orgnr: str | None,
    kommunkod: str | None,
    personnummer: str | None,
    found: dict[str, str | None],
    problems: list[Problem],
    location: Location,
) -> Record:
    """A record from the values ``found`` (record attribute -> text) and its problems."""
    result = Record(
        kind,
        orgnr,
        kommunkod,
        personnummer,
        found.get("transaktionsdatum"),
        found.get("status"),
        found.get("code"),
        found.get("start"),
        found.get("end") or None,
        found.get("system"),
        location,
    )
    result.problems = problems
    return result
