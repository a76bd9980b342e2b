"""Reads a delivery in XML, the primary format, as a stream of records.

Safety first: a delivery comes from outside, so before the parser sees a byte
the prolog is checked and any DOCTYPE refused (no DTD means no entity, no
external reference, no entity bomb). The parser itself runs with entities,
DTD loading and network access off and libxml2's size limits on, and is fed
by this module, so that the file's own encoding declaration cannot switch it
away from UTF-8 and a truncated file can be told from a malformed one: a push
parser that accepted every byte and only fails when told the input has ended
was given a file that stops in the middle.

Speed second: Python sees one event per ``Person`` (and per ``Kommun``), not
one per element, and walks the person's few children itself. A person is
cleared and unlinked once read, so memory stays flat whatever the file's size.

Memory third: what the parser has built but no event has come for yet would
grow with the file if it held anything large (an unknown element of a million
elements, a Person of a hundred thousand transactions). So after each chunk
fed the walker sweeps the elements still open (the last child of the last
child, down from the root): it lets go of what will never be read (the content
of unknown elements, text between elements), and refuses the file when a
Person grows past ``limits.MAX_PERSON_BYTES`` or an element of the format holds
more than ``limits.MAX_HELD_ELEMENTS`` elements it must report when it ends.
Only elements that have ended are changed, never one the parser is still in.

A large file can be read by several processes at once, each reading one
``Shard``: a stretch of the file's bytes. Each item read belongs to one parser
event (a Person or a Kommun ending, or the end of the file), and an event
belongs to the shard in whose stretch the parser stood when it came, so the
shards' items one after the other are the items of the whole file in order. A
shard parses the file from its start, skipping what comes before its stretch
(parsing is the smaller part of the work, turning elements into records the
larger), and stops at the stretch's end.
"""

from __future__ import annotations

from collections.abc import Iterator
from operator import attrgetter
from typing import Any, BinaryIO

from lxml import etree

from inuk.format.errors import FileRefused, Problem
from inuk.format.records import INTERVENTION, LIST_NAMES, Location, Record

from .limits import MAX_HELD_ELEMENTS, MAX_PERSON_BYTES
from .names import shown_name
from .prolog import check_prolog
from .shards import Shard, Unshardable
from .streams import CHUNK_SIZE, megabytes
from .tree import (
    ATTRIBUTES,
    INTERVENTION_ENDED,
    INTERVENTION_ONGOING,
    KOMMUN_VALUES,
    LIST_KINDS,
    RESULT_ORDER,
    ROOT,
    Kommun,
    record,
)

__all__ = ["read"]

#: The parser's options: nothing outside the file is ever read, no entity is
#: expanded, and libxml2's limits on depth and text length stay on. The
#: whitespace between elements is not kept (it is never read, and a tree
#: without it is built faster); a value of only whitespace still is.
PARSER_OPTIONS = {
    "remove_blank_text": True,
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "attribute_defaults": False,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
    "encoding": "utf-8",
}

#: libxml2 errors that mean the file used an entity (there is no DTD to declare one).
_ENTITY_ERRORS = {
    "ERR_UNDECLARED_ENTITY",
    "WAR_UNDECLARED_ENTITY",
    "ERR_ENTITY_LOOP",
    "ERR_ENTITY_PE_INTERNAL",
    "ERR_EXT_ENTITY_STANDALONE",
    "ERR_ENTITY_IS_EXTERNAL",
    "ERR_ENTITY_IS_PARAMETER",
    "ERR_UNPARSED_ENTITY",
    "ERR_ENTITY_PROCESSING",
    "ERR_ENTITY_AMPLIFICATION",
}
_ENCODING_ERRORS = {"ERR_INVALID_ENCODING", "ERR_UNSUPPORTED_ENCODING", "ERR_UNKNOWN_ENCODING"}

_ITEM_NAMES = {kind: LIST_NAMES[kind][1] for kind in LIST_NAMES}
#: The annex's orders as lists, as an item's tags are read.
_INTERVENTION_ENDED = list(INTERVENTION_ENDED)
_INTERVENTION_ONGOING = list(INTERVENTION_ONGOING)
_RESULT_ORDER = list(RESULT_ORDER)
_TAG = attrgetter("tag")
#: The parser's events: a Person's and a Kommun's end (to read them) and the
#: root's start (to sweep from it). (Their starts come too, and are passed over.)
_EVENT_TAGS = ("Person", "Kommun", "{*}" + ROOT)
#: The elements of the format that hold others, and what they may hold.
_HOLDS = {
    ROOT: frozenset({"Kommunlista"}),
    "Kommunlista": frozenset({"Kommun"}),
    "Kommun": frozenset({"Organisationsnummer", "Kommunkod", "Personlista"}),
    "Personlista": frozenset({"Person"}),
}
#: The items of a list, let go as they are read: not counted as held.
_ITEMS = {"Kommunlista": "Kommun", "Personlista": "Person"}


def _check_held(element, count: int) -> None:
    """Refuse the file if ``element``, of the format, holds ``count`` elements, too many."""
    if count > MAX_HELD_ELEMENTS:
        limit = f"{MAX_HELD_ELEMENTS:,}".replace(",", " ")
        raise FileRefused(
            "FILE_TOO_MANY_ELEMENTS",
            f"more than {limit} elements in {_name(element.tag)}",
            element.sourceline,
        )


def _held(element) -> int:
    """How many of ``element``'s children it holds until it ends: all but its items."""
    item = _ITEMS.get(element.tag)
    if item is None:
        return len(element)
    return sum(1 for child in element if child.tag != item)


def read(stream: BinaryIO, shard: Shard | None = None) -> Iterator[Record | Problem]:
    """The records and problems of an XML delivery, in file order; with
    ``shard``, only those of that stretch of the file.

    Raises ``FileRefused`` when the file cannot be read as a delivery at all
    (in a shard: for a fault before the stretch's end), and ``Unshardable``
    when a shard is asked of a file that cannot be read in shards.
    """
    head = check_prolog(stream)
    etree.clear_error_log()  # this thread's log: from here on, this file's errors
    parser = etree.XMLPullParser(events=("start", "end"), tag=_EVENT_TAGS, **PARSER_OPTIONS)
    walker = _Walker(shard)
    chunk_size = shard.chunk_size if shard is not None else CHUNK_SIZE
    chunk = head
    fed = 0
    while chunk:
        try:
            parser.feed(chunk)
        except etree.XMLSyntaxError as error:
            raise _refusal(error, ended=False) from None
        started, fed = fed, fed + len(chunk)
        if shard is not None:
            shard.fed += len(chunk)
            if shard.past:
                return  # the rest is other shards'
        for event, element in parser.read_events():
            if event == "end":
                yield from walker.element(element)
            elif walker.root is None:
                walker.root = element  # the first element to start
        walker.sweep(started, fed)
        chunk = stream.read(chunk_size)
    if shard is not None and not shard.last:
        return  # the end of the file is the last shard's
    try:
        root = parser.close()
    except etree.XMLSyntaxError as error:
        raise _refusal(error, ended=True) from None
    for event, element in parser.read_events():
        if event == "end":
            yield from walker.element(element)
    yield from walker.finish(root)


def _refusal(error: etree.XMLSyntaxError, *, ended: bool) -> FileRefused:
    """Why libxml2 gave up, as a refusal; its own message may quote the file, so it is not used."""
    # The error log lxml attaches is the thread's, which may hold earlier
    # errors too: the last entry is the one that stopped the parser.
    last = error.error_log.last_error
    name = last.type_name if last is not None else ""
    line = last.line if last is not None else error.lineno
    detail = f"{name} at line {last.line}, column {last.column}" if last is not None else ""
    if name in _ENTITY_ERRORS:
        return FileRefused("FILE_DOCTYPE", detail, line)
    if name in _ENCODING_ERRORS:
        return FileRefused("FILE_ENCODING", detail, line)
    if ended and not name.startswith("NS_ERR"):
        # Every byte was accepted and only the end of the input was not. (A
        # namespace error is the one kind libxml2 reads past and reports at the end.)
        return FileRefused("FILE_TRUNCATED", detail, line)
    return FileRefused("FILE_NOT_WELL_FORMED", detail, line)


def _record(fields, kind: str, orgnr, kommunkod, personnummer, location: Location) -> Record:
    """An Insats or Resultat of any shape, with what is wrong with its elements."""
    attributes = ATTRIBUTES[kind]
    values: dict[str, str | None] = {}
    problems: list[Problem] = []
    for f in fields:
        tag = f.tag
        attribute = attributes.get(tag)
        if attribute is None:
            problems.append(Problem.about("ELEMENT_UNKNOWN", _name(tag), location, None))
        elif attribute in values:
            problems.append(Problem.about("ELEMENT_REPEATED", tag, location, None))
        elif len(f):
            values[attribute] = None
            problems.append(Problem.about("ELEMENT_NOT_TEXT", tag, location, None))
        else:
            values[attribute] = (f.text or "").strip()
    return record(kind, orgnr, kommunkod, personnummer, values, problems, location)


def _count_items(person) -> int:
    """How many transactions ``_Walker._read_person`` would read of ``person``."""
    count = 0
    for child in person:
        kind = LIST_KINDS.get(child.tag)
        if kind is not None:
            count += sum(1 for _ in child.iterchildren(_ITEM_NAMES[kind]))
    return count


def _name(tag: object) -> str:
    """An element's name fit for a report."""
    return shown_name(str(tag))


class _Kommun(Kommun):
    """The Kommun the walker is in, and its element."""

    __slots__ = ("element", "line", "personlista")

    def __init__(self, element, index: int) -> None:
        super().__init__(index)
        self.element = element
        self.line = element.sourceline
        self.personlista = None

    def read_values(self, children) -> None:
        """Take Organisationsnummer and Kommunkod from ``children``."""
        for child in children:
            tag = child.tag
            if tag not in KOMMUN_VALUES:
                continue
            location = Location("xml", child.sourceline, self.index)
            if len(child):
                self.take(
                    tag, None, location, Problem.about("ELEMENT_NOT_TEXT", tag, location, None)
                )
            else:
                self.take(tag, (child.text or "").strip(), location)


class _Walker:
    """Turns the parser's Person and Kommun events into records and problems."""

    def __init__(self, shard: Shard | None = None) -> None:
        self.kommun: _Kommun | None = None
        self.kommuner = 0
        self.records = 0
        #: A Personlista found in the wrong place: its persons are skipped.
        self.misplaced = None
        self.shard = shard
        #: The root element, once the parser has begun it.
        self.root = None
        #: The Person the parser was in at the last sweep, and the bytes fed
        #: before the chunk in which it began; the last Person read.
        self.open_person: Any = None
        self.person_from = 0
        self.read_person = None

    def element(self, element) -> list[Record | Problem]:
        tag = element.tag
        if tag == "Person":
            self.read_person = element
            return self.person(element)
        if tag == "Kommun":
            return self.end_kommun(element)
        return []  # the root's end: read by ``finish``

    # -- memory ----------------------------------------------------------------

    def sweep(self, started: int, fed: int) -> None:
        """Let go of what will never be read, and refuse what cannot be held.

        Called after each chunk fed (from byte ``started`` to ``fed``), once its
        events are read. Walks down the elements still open (each the last
        child of the one above); those and their text the parser may still be
        adding to, so only the children before them are changed.
        """
        element = self.root
        if element is None:
            return
        holds: frozenset[str] | None = _HOLDS.get(element.tag)
        while True:
            count = len(element)
            if not count:
                return
            if element.text is not None:
                element.text = None  # text beside elements is never read
            if holds is None:
                # Never read below here (an unknown element, or a value holding
                # elements): one child is enough to tell ELEMENT_NOT_TEXT.
                if count > 1:
                    del element[:-1]
                element = element[-1]
                continue
            last = element[-1]
            seen: set[str] = set()
            for child in element:
                if child is last:
                    break
                self._let_go(child, holds, seen)
            if count > MAX_HELD_ELEMENTS:
                _check_held(element, _held(element))
            tag = last.tag
            if tag == "Person" and tag in holds:
                self._measure(last, started, fed)
                return
            holds = _HOLDS.get(tag) if tag in holds else None
            element = last

    def _measure(self, person, started: int, fed: int) -> None:
        """Refuse the file once the Person the parser is in grows past ``MAX_PERSON_BYTES``.

        It began in the chunk fed before the first sweep that finds it open.
        """
        if person is self.read_person:
            return  # it has ended, and been read
        if person is not self.open_person:
            self.open_person, self.person_from = person, started
        elif fed - self.person_from > MAX_PERSON_BYTES:
            raise FileRefused(
                "FILE_PERSON_TOO_LARGE",
                f"a Person larger than {megabytes(MAX_PERSON_BYTES)}",
                person.sourceline,
            )

    @staticmethod
    def _let_go(child, holds: frozenset[str], seen: set[str]) -> None:
        """Empty what ``child``, an element that has ended, holds but will not be read."""
        if child.tail is not None:
            child.tail = None
        tag = child.tag
        if tag not in holds or tag in seen:
            # Unknown, or a value repeated: reported by name and line alone.
            if len(child) or child.text is not None:
                child.clear()
        elif tag in KOMMUN_VALUES:
            seen.add(tag)
            if len(child) > 1:
                del child[1:]
        elif tag in _HOLDS and len(child) > MAX_HELD_ELEMENTS:
            _check_held(child, _held(child))  # a Personlista or Kommunlista that has ended

    # -- Person ----------------------------------------------------------------

    def person(self, person) -> list[Record | Problem]:
        personlista = person.getparent()
        out: list[Record | Problem] = []
        kommun = self.kommun
        if kommun is None or personlista is not kommun.personlista:
            if personlista is self.misplaced:
                person.clear()
                return out
            kommun = self._enter_personlista(personlista, out)
            if kommun is None:
                # Not where a Person belongs: reported as an unknown element
                # when the element it stands in is read.
                self.misplaced = personlista
                person.clear()
                return out
        # What stands before this person: the previous, read and cleared, and
        # anything else, which is not part of the format (held until now: at
        # most MAX_HELD_ELEMENTS, as the sweep counts them).
        first = personlista[0]
        unknown = 0
        while first is not person:
            if first.tag != "Person":
                unknown += 1
                location = Location("xml", first.sourceline, kommun.index)
                out.append(
                    Problem.about(
                        "ELEMENT_UNKNOWN",
                        _name(first.tag),
                        location,
                        None,
                        explicit_path=self._personlista_path(kommun, first),
                    )
                )
            del personlista[0]
            first = personlista[0]
        _check_held(personlista, unknown)
        if self.shard is not None and not self.shard.owns_event:
            # Another shard's: what stood before it is reported there too.
            kommun.persons += 1
            if not self.records:  # only whether there are any matters (FILE_NO_TRANSACTIONS)
                self.records += _count_items(person)
            person.clear()
            return []
        self._read_person(person, kommun, out)
        person.clear()
        if kommun.pending is not None:
            if kommun.hold(out):
                raise FileRefused(
                    "FILE_NOT_WELL_FORMED",
                    "Organisationsnummer and Kommunkod must come before Personlista",
                    kommun.line,
                )
            return []
        return out

    def _read_person(self, person, kommun: _Kommun, out: list) -> None:
        index = kommun.persons
        kommun.persons += 1
        k = kommun.index
        personnummer = None
        person_problems: list[Problem] = []
        lists = []
        seen_personnummer = False
        for child in person:
            tag = child.tag
            if tag == "Personnummer":
                if seen_personnummer:
                    location = Location("xml", child.sourceline, k, index)
                    person_problems.append(Problem.about("ELEMENT_REPEATED", tag, location, None))
                elif len(child):
                    seen_personnummer = True
                    location = Location("xml", child.sourceline, k, index)
                    person_problems.append(Problem.about("ELEMENT_NOT_TEXT", tag, location, None))
                else:
                    seen_personnummer = True
                    personnummer = (child.text or "").strip()
            elif tag in LIST_KINDS:
                lists.append((LIST_KINDS[tag], child))
            else:
                location = Location("xml", child.sourceline, k, index)
                out.append(Problem.about("ELEMENT_UNKNOWN", _name(tag), location, None))
        if not lists:
            out.append(
                Problem("PERSON_WITHOUT_LISTS", "", Location("xml", person.sourceline, k, index))
            )
            return
        orgnr, kommunkod = kommun.orgnr, kommun.kommunkod
        first_record = len(out)
        append = out.append
        seen = set()
        for kind, element in lists:
            items = list(element)
            if kind in seen or not items:
                location = Location("xml", element.sourceline, k, index, kind)
                if kind in seen:
                    append(Problem.about("ELEMENT_REPEATED", "", location, None))
                if not items:
                    append(Problem("LIST_EMPTY", "", location))
                    continue
            seen.add(kind)
            item_name = _ITEM_NAMES[kind]
            position = 0
            # Written out for speed: this loop runs once per transaction. The
            # common shape — every element once, in the annex's order, each
            # holding text — is read without looking at each element alone.
            for item in items:
                if item.tag != item_name:
                    location = Location("xml", element.sourceline, k, index, kind)
                    append(Problem.about("ELEMENT_UNKNOWN", _name(item.tag), location, None))
                    continue
                fields = list(item)
                tags = list(map(_TAG, fields))
                location = Location("xml", item.sourceline, k, index, kind, position)
                position += 1
                if kind == INTERVENTION:
                    ongoing = tags == _INTERVENTION_ONGOING
                    common = ongoing or tags == _INTERVENTION_ENDED
                else:
                    ongoing = common = tags == _RESULT_ORDER
                if common and not any(map(len, fields)):
                    try:
                        t: list[Any] = [field.text.strip() for field in fields]
                    except AttributeError:  # an empty element: its text is None
                        pass
                    else:
                        if ongoing:
                            t.insert(4, None)  # no SlutdatumInsats (a Resultat never has one)
                        if t[4] != "":  # t: the six values, in Record's order
                            record = Record(kind, orgnr, kommunkod, personnummer, *t, location)  # type: ignore[call-arg]
                            append(record)
                            continue
                append(_record(fields, kind, orgnr, kommunkod, personnummer, location))
            self.records += position
        # The Kommun's problems are added when its values are known.
        shared = kommun.shared(person_problems)
        if shared:
            for item in out[first_record:]:
                if isinstance(item, Record):
                    item.problems[:0] = shared

    # -- Kommun ----------------------------------------------------------------

    def _enter_personlista(self, personlista, out: list) -> _Kommun | None:
        """Start on a Personlista: check where it stands, and enter its Kommun if new."""
        kommun_element = personlista.getparent()
        if personlista.tag != "Personlista" or not self._is_kommun(kommun_element):
            return None
        kommun = self.kommun
        if kommun is not None and kommun.element is kommun_element:
            location = Location("xml", personlista.sourceline, kommun.index)
            out.append(Problem.about("ELEMENT_REPEATED", "Personlista", location, None))
            kommun.personlista = personlista
            return kommun
        kommun = _Kommun(kommun_element, self.kommuner)
        self.kommuner += 1
        self.kommun = kommun
        kommun.personlista = personlista
        before = []
        for child in kommun_element:
            if child is personlista:
                break
            before.append(child)
        kommun.read_values(before)
        kommun.await_values()
        if kommun.pending is not None and self.shard is not None:
            raise Unshardable
        return kommun

    @staticmethod
    def _is_kommun(element) -> bool:
        if element is None or element.tag != "Kommun":
            return False
        kommunlista = element.getparent()
        if kommunlista is None or kommunlista.tag != "Kommunlista":
            return False
        root = kommunlista.getparent()
        return root is not None and root.getparent() is None

    def end_kommun(self, element) -> list[Record | Problem]:
        out: list[Record | Problem] = []
        if not self._is_kommun(element):
            # Reported as an unknown element when the element it stands in is read.
            element.clear()
            return out
        _check_held(element, len(element))
        for child in element:
            if child.tag == "Personlista":
                _check_held(child, _held(child))
        kommun = self.kommun
        if kommun is None or kommun.element is not element:
            # A Kommun without a single Person.
            kommun = _Kommun(element, self.kommuner)
            self.kommuner += 1
            kommun.read_values(list(element))
        else:
            late = []
            after = False
            for child in element:
                if after:
                    late.append(child)
                elif child.tag == "Personlista":
                    after = True
            known = len(kommun.problems)
            kommun.read_values(late)
            if kommun.pending is None:  # its records are out: these can only be told apart
                out.extend(kommun.problems[known:])
        lists = 0
        for child in element:
            tag = child.tag
            if tag == "Personlista":
                lists += 1
                self._unknown_in_personlista(kommun, child, out)
            elif tag not in KOMMUN_VALUES:
                location = Location("xml", child.sourceline, kommun.index)
                out.append(Problem.about("ELEMENT_UNKNOWN", _name(tag), location, None))
        problem = kommun.personlista_problem(lists, Location("xml", kommun.line, kommun.index))
        if problem is not None:
            out.append(problem)
        if kommun.pending is not None:
            out[:0] = kommun.released()
        self.kommun = None
        element.clear()
        kommunlista = element.getparent()
        first = kommunlista[0]
        unknown = 0
        while first is not element:
            if first.tag != "Kommun":
                unknown += 1
                out.append(self._unknown_in_kommunlista(first))
            del kommunlista[0]
            first = kommunlista[0]
        _check_held(kommunlista, unknown)
        # Never pending in a shard, so all of it belongs to this event.
        return out if self.shard is None or self.shard.owns_event else []

    def _unknown_in_personlista(self, kommun: _Kommun, personlista, out: list) -> None:
        for child in personlista:
            if child.tag != "Person":
                location = Location("xml", child.sourceline, kommun.index)
                out.append(
                    Problem.about(
                        "ELEMENT_UNKNOWN",
                        _name(child.tag),
                        location,
                        None,
                        explicit_path=self._personlista_path(kommun, child),
                    )
                )

    @staticmethod
    def _personlista_path(kommun: _Kommun, element) -> str:
        return Location("xml", None, kommun.index).path(f"Personlista/{_name(element.tag)}")

    @staticmethod
    def _unknown_in_kommunlista(element) -> Problem:
        return Problem.about(
            "ELEMENT_UNKNOWN",
            _name(element.tag),
            Location("xml", element.sourceline),
            None,
            explicit_path=f"/{ROOT}/Kommunlista/{_name(element.tag)}",
        )

    # -- the end ---------------------------------------------------------------

    def finish(self, root) -> Iterator[Record | Problem]:
        if root is None or root.tag != ROOT:
            # The prolog check saw the name Leverans, so this is a namespace.
            raise FileRefused("FILE_WRONG_ROOT", "the root element must have no namespace")
        if self.records == 0:
            raise FileRefused("FILE_NO_TRANSACTIONS")
        yield from self._file_problems(root)

    def _file_problems(self, root) -> Iterator[Problem]:
        _check_held(root, len(root))
        for child in root:
            if child.tag == "Kommunlista":
                _check_held(child, _held(child))
        lists = 0
        for child in root:
            if child.tag == "Kommunlista":
                lists += 1
                for item in child:
                    if item.tag != "Kommun":
                        yield self._unknown_in_kommunlista(item)
            else:
                yield Problem.about(
                    "ELEMENT_UNKNOWN", _name(child.tag), Location("xml", child.sourceline), None
                )
        if lists == 0:
            yield Problem("ELEMENT_MISSING", "Kommunlista", Location("xml", root.sourceline))
        elif lists > 1:
            yield Problem("ELEMENT_REPEATED", "Kommunlista", Location("xml", root.sourceline))
        elif self.kommuner == 0:
            yield Problem("LIST_EMPTY", "Kommunlista", Location("xml", root.sourceline))
