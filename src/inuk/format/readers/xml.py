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

import re
from collections.abc import Iterator
from operator import attrgetter
from typing import Any, BinaryIO, NoReturn

from lxml import etree

from inuk.format.errors import FileRefused, Problem
from inuk.format.records import FIELD_NAMES, INTERVENTION, LIST_NAMES, RESULT, Location, Record

from .limits import MAX_HELD_ELEMENTS, MAX_PERSON_BYTES
from .names import shown_name
from .streams import CHUNK_SIZE, megabytes

ROOT = "Leverans"

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

#: A prolog longer than this (comments, processing instructions) is not a delivery.
PROLOG_LIMIT = 1 << 20

#: Records held back while a Kommun's Organisationsnummer or Kommunkod has not
#: been seen (they belong before its Personlista); past this the file is refused
#: rather than held in memory.
PENDING_LIMIT = 20_000

_BOM = b"\xef\xbb\xbf"
_FOREIGN_BOMS = (b"\xff\xfe", b"\xfe\xff")  # UTF-16/32: not UTF-8
_SPACE = b" \t\r\n"
_NAME_END = re.compile(rb"[\s/>]")
_ENCODING = re.compile(rb"""encoding\s*=\s*["']([^"']*)["']""")
_UTF8_NAMES = {b"utf-8", b"utf8"}

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
_LIST_KINDS = {LIST_NAMES[kind][0]: kind for kind in LIST_NAMES}
#: Element name -> record attribute, per kind.
_ATTRIBUTES = {
    kind: {name: attr for attr, name in names.items()} for kind, names in FIELD_NAMES.items()
}
#: The elements of an item in the annex's order: the shape nearly every item has,
#: read without looking at each element's name separately.
_INTERVENTION_ENDED = [FIELD_NAMES[INTERVENTION][a] for a in FIELD_NAMES[INTERVENTION]]
_INTERVENTION_ONGOING = [name for name in _INTERVENTION_ENDED if name != "SlutdatumInsats"]
_RESULT_ORDER = [FIELD_NAMES[RESULT][a] for a in FIELD_NAMES[RESULT]]
_KOMMUN_VALUES = {"Organisationsnummer": "orgnr", "Kommunkod": "kommunkod"}
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


class Unshardable(Exception):
    """The file cannot be read in shards: a Kommun's values stand after its Personlista.

    Its records must then wait for those values, across persons of every
    shard; such a file is read whole, by one process.
    """


class Shard:
    """The stretch of a file's bytes, from ``start`` (exclusive) to ``end``
    (inclusive, ``None`` for the end of the file), whose items one reader reads.

    The parser is fed ``chunk_size`` bytes at a time, and an event belongs to
    the stretch holding the count of bytes fed when it came: every shard of a
    file must use the same ``chunk_size`` for the stretches to meet exactly.
    """

    def __init__(self, start: int = 0, end: int | None = None, chunk_size: int = CHUNK_SIZE):
        if start < 0 or (end is not None and end < start) or chunk_size < 1:
            raise ValueError(f"a shard of bytes {start} to {end}, fed {chunk_size} at a time")
        self.start = start
        self.end = end
        self.chunk_size = chunk_size
        #: Bytes fed to the parser so far.
        self.fed = 0

    @property
    def owns_event(self) -> bool:
        """Whether the event the parser has just given belongs to this shard."""
        return self.start < self.fed and not self.past

    @property
    def past(self) -> bool:
        """Whether the parser has gone beyond this shard's stretch."""
        return self.end is not None and self.fed > self.end

    @property
    def last(self) -> bool:
        return self.end is None


def read(stream: BinaryIO, shard: Shard | None = None) -> Iterator[Record | Problem]:
    """The records and problems of an XML delivery, in file order; with
    ``shard``, only those of that stretch of the file.

    Raises ``FileRefused`` when the file cannot be read as a delivery at all
    (in a shard: for a fault before the stretch's end), and ``Unshardable``
    when a shard is asked of a file that cannot be read in shards.
    """
    head = _check_prolog(stream)
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


def _check_prolog(stream: BinaryIO) -> bytes:
    """Read up to the root element's name and refuse what must never reach the parser.

    Returns the bytes read, which the parser is then given first. A DOCTYPE can
    only stand before the root element, so refusing it here means no DTD, no
    entity declaration and no external reference is ever parsed.
    """
    data = stream.read(CHUNK_SIZE)
    while True:
        verdict = _scan_prolog(data)
        if verdict is not None:
            return data
        if len(data) > PROLOG_LIMIT:
            raise FileRefused("FILE_NOT_WELL_FORMED", "no root element near the start of the file")
        more = stream.read(CHUNK_SIZE)
        if not more:
            if not data.lstrip(_BOM).strip(_SPACE):
                raise FileRefused("FILE_EMPTY")
            raise FileRefused(
                "FILE_TRUNCATED", "the file ends before its root element", _line(data)
            )
        data += more


def _scan_prolog(data: bytes) -> bool | None:
    """True if ``data`` holds an acceptable prolog and the root's name; None if more is needed."""
    if data.startswith(_FOREIGN_BOMS):
        raise FileRefused(
            "FILE_ENCODING", "the file starts with a UTF-16 or UTF-32 byte order mark"
        )
    if b"\0" in data[:1024]:
        raise FileRefused("FILE_ENCODING", "the file holds NUL bytes, as UTF-16 does")
    pos = 3 if data.startswith(_BOM) else 0
    end = len(data)
    while True:
        while pos < end and data[pos] in _SPACE:
            pos += 1
        if pos >= end:
            return None
        if data.startswith(b"<?", pos):
            close = data.find(b"?>", pos)
            if close < 0:
                return None
            declaration = data[pos : close + 2]
            if declaration[2:5].lower() == b"xml" and declaration[5:6] in (b" ", b"?", b"\t"):
                match = _ENCODING.search(declaration)
                if match and match.group(1).lower() not in _UTF8_NAMES:
                    raise FileRefused(
                        "FILE_ENCODING", "the XML declaration names an encoding other than UTF-8", 1
                    )
            pos = close + 2
        elif data.startswith(b"<!--", pos):
            close = data.find(b"-->", pos + 4)
            if close < 0:
                return None
            pos = close + 3
        elif data.startswith(b"<!", pos):
            if len(data) - pos < 9:
                return None
            raise FileRefused(
                "FILE_DOCTYPE",
                "a DOCTYPE or other declaration before the root element",
                _line(data[:pos]),
            )
        elif data.startswith(b"<", pos):
            match = _NAME_END.search(data, pos + 1)
            if match is None:
                if end - pos < 256:
                    return None
                _wrong_root(data, pos)
            name = data[pos + 1 : match.start()]
            if name != ROOT.encode():
                _wrong_root(data, pos)
            return True
        else:
            raise FileRefused(
                "FILE_NOT_WELL_FORMED", "text before the root element", _line(data[:pos])
            )


def _wrong_root(data: bytes, pos: int) -> NoReturn:
    raise FileRefused("FILE_WRONG_ROOT", "", _line(data[:pos]))


def _line(data: bytes) -> int:
    return data.count(b"\n") + 1


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
    attributes = _ATTRIBUTES[kind]
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
    record = Record(
        kind,
        orgnr,
        kommunkod,
        personnummer,
        values.get("transaktionsdatum"),
        values.get("status"),
        values.get("code"),
        values.get("start"),
        values.get("end") or None,
        values.get("system"),
        location,
    )
    record.problems = problems
    return record


def _count_items(person) -> int:
    """How many transactions ``_Walker._read_person`` would read of ``person``."""
    count = 0
    for child in person:
        kind = _LIST_KINDS.get(child.tag)
        if kind is not None:
            count += sum(1 for _ in child.iterchildren(_ITEM_NAMES[kind]))
    return count


def _name(tag: object) -> str:
    """An element's name fit for a report."""
    return shown_name(str(tag))


class _Kommun:
    """What the walker knows about the Kommun it is in."""

    __slots__ = (
        "element",
        "index",
        "kommunkod",
        "line",
        "orgnr",
        "pending",
        "personlista",
        "persons",
        "problems",
        "seen",
    )

    def __init__(self, element, index: int) -> None:
        self.element = element
        self.index = index
        self.line = element.sourceline
        self.orgnr: str | None = None
        self.kommunkod: str | None = None
        #: Problems with the Kommun's own values, shared by all its records.
        self.problems: list[Problem] = []
        self.persons = 0
        #: Records held back until the Kommun's values are known (only when
        #: they stand after its Personlista).
        self.pending: list[Record | Problem] | None = None
        self.personlista = None
        self.seen: set[str] = set()

    def read_values(self, children) -> None:
        """Take Organisationsnummer and Kommunkod from ``children``."""
        for child in children:
            attribute = _KOMMUN_VALUES.get(child.tag)
            if attribute is None:
                continue
            location = Location("xml", child.sourceline, self.index)
            if child.tag in self.seen:
                self.problems.append(Problem.about("ELEMENT_REPEATED", child.tag, location, None))
                continue
            self.seen.add(child.tag)
            if len(child):
                self.problems.append(Problem.about("ELEMENT_NOT_TEXT", child.tag, location, None))
                continue
            setattr(self, attribute, (child.text or "").strip())


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
        elif tag in _KOMMUN_VALUES:
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
        pending = kommun.pending
        if pending is not None:
            pending.extend(out)
            if len(pending) > PENDING_LIMIT:
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
            elif tag in _LIST_KINDS:
                lists.append((_LIST_KINDS[tag], child))
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
        shared = (
            person_problems if kommun.pending is not None else kommun.problems + person_problems
        )
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
        if "Organisationsnummer" not in kommun.seen or "Kommunkod" not in kommun.seen:
            if self.shard is not None:
                raise Unshardable
            kommun.pending = []
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
            elif tag not in _KOMMUN_VALUES:
                location = Location("xml", child.sourceline, kommun.index)
                out.append(Problem.about("ELEMENT_UNKNOWN", _name(tag), location, None))
        if lists == 0:
            out.append(
                Problem(
                    "ELEMENT_MISSING", "Personlista", Location("xml", kommun.line, kommun.index)
                )
            )
        elif kommun.persons == 0:
            out.append(
                Problem("LIST_EMPTY", "Personlista", Location("xml", kommun.line, kommun.index))
            )
        if kommun.pending is not None:
            for item in kommun.pending:
                if isinstance(item, Record):
                    item.orgnr, item.kommunkod = kommun.orgnr, kommun.kommunkod
                    if kommun.problems:
                        item.problems[:0] = kommun.problems
            out[:0] = kommun.pending
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
