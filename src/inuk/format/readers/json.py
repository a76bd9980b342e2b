"""Reads a delivery in JSON: the XML's tree, element names as keys, each list an array.

``{"Leverans": {"Kommunlista": [{"Organisationsnummer": "…", "Kommunkod": "…",
"Personlista": [{"Personnummer": "…", "Insatslista": [{…}], "Resultatlista": [{…}]}]}]}}``

The standard library's ``json`` loads a whole document, which a large
delivery must not be. This reader walks the outer levels (Leverans,
Kommunlista, Kommun, Personlista) itself, a few characters at a time, and
hands each Person object to the standard library's C decoder, which is fast;
so memory holds one person at a time and speed is the C decoder's. Objects are
decoded as lists of pairs, so that a repeated key is seen rather than silently
overwritten, and numbers as text, so that a number where text belongs is
reported rather than read.

What the C decoder is given it holds whole, so it is given nothing larger than
``limits`` allow: a Person up to ``MAX_PERSON_BYTES``, a key or a Kommun's
value up to ``MAX_VALUE_CHARS`` (more refuses the file); a value under a key
the format does not have is skipped, decoded only while it is small and
otherwise stepped over a window at a time.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from inuk.format.errors import FileRefused, Problem
from inuk.format.records import INTERVENTION, Location, Record

from .limits import MAX_PERSON_BYTES, MAX_VALUE_CHARS, SKIP_UNREAD_FROM
from .names import shown_name
from .streams import CHUNK_SIZE
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

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_NUMBER_START = re.compile(r"-?[0-9.eE+\-]*")
_VALUE_START = set('"-0123456789tfn[{NI')
_LITERALS = ("true", "false", "null", "NaN", "Infinity", "-Infinity")
#: What a string holds up to its end or its next escape.
_STRING_PLAIN = re.compile(r'[^"\\]*')


class _TooLarge(Exception):
    """A value is larger than the decoder may be given; nothing of it is read."""


class _Object(list):
    """A JSON object, as its (key, value) pairs in file order."""

    __slots__ = ()


class _Number(str):
    """A JSON number (or NaN/Infinity), kept as its text."""

    __slots__ = ()


_DECODER = json.JSONDecoder(
    object_pairs_hook=_Object, parse_int=_Number, parse_float=_Number, parse_constant=_Number
)
_decode = _DECODER.raw_decode

_ONLY_TEXT = frozenset({str})


def read(stream: BinaryIO) -> Iterator[Record | Problem]:
    """The records and problems of a JSON delivery, in file order."""
    source = _Source(stream)
    first = source.skip()
    if not first:
        raise FileRefused("FILE_EMPTY")
    walker = _Walker(source)
    found = False
    for key in source.members("/"):
        if key == ROOT and not found:
            found = True
            yield from walker.leverans()
        elif key == ROOT:
            source.skip_value()
            yield Problem("ELEMENT_REPEATED", ROOT, Location("json"), explicit_path=f"/{ROOT}")
        else:
            source.skip_value()
            yield walker.unknown(key, Location("json"), "")
    if source.skip():
        raise source.invalid("more after the end of the JSON document")
    if not found:
        raise FileRefused("FILE_JSON_SHAPE", "the top-level object must hold Leverans")
    if walker.records == 0:
        raise FileRefused("FILE_NO_TRANSACTIONS")


def _pointer(key: str) -> str:
    """A key as a JSON pointer step, fit for a report."""
    return shown_name(key.replace("~", "~0").replace("/", "~1"))


class _Source:
    """The file's text in a sliding window, with the few steps a JSON walker needs."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.text = ""
        self.pos = 0
        self.eof = False
        self.line_base = 1  # the line number of text[0]
        self.started = False

    def more(self, size: int = CHUNK_SIZE) -> bool:
        """Read on; False at the end of the file."""
        if self.eof:
            return False
        if self.pos:
            self.line_base += self.text.count("\n", 0, self.pos)
            self.text = self.text[self.pos :]
            self.pos = 0
        data = self.stream.read(size)
        try:
            chunk = self.decoder.decode(data, final=not data)
        except UnicodeDecodeError as error:
            line = self.line(len(self.text))
            if not data:  # the file ends within a character
                raise FileRefused("FILE_TRUNCATED", "in the middle of a character", line) from None
            raise FileRefused("FILE_ENCODING", error.reason, line) from None
        if not data:
            self.eof = True
        if not self.started and chunk:
            self.started = True
            if "\x00" in chunk[:64]:
                raise FileRefused("FILE_ENCODING", "UTF-16, UTF-32 or binary data")
            chunk = chunk.removeprefix("\ufeff")
        self.text += chunk
        return True

    def line(self, pos: int) -> int:
        return self.line_base + self.text.count("\n", 0, pos)

    def skip(self) -> str:
        """Skip whitespace; the next character, or '' at the end of the file."""
        while True:
            self.pos = _WHITESPACE.match(self.text, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self.more():
                return ""

    def value(self, limit: int | None = None) -> object:
        """Decode the value that starts here, reading on as far as it reaches.

        With ``limit``, a value longer than that many characters raises
        ``_TooLarge``, and the window is left where the value starts.
        """
        size = CHUNK_SIZE
        while True:
            try:
                value, end = _decode(self.text, self.pos)
            except json.JSONDecodeError as error:
                if not self.eof and (
                    error.msg.startswith("Unterminated string") or error.pos >= len(self.text) - 10
                ):
                    if limit is not None and len(self.text) - self.pos > limit:
                        raise _TooLarge from None
                    self.more(size)
                    size *= 2
                    continue
                raise self._decode_error(error) from None
            except RecursionError:
                raise FileRefused(
                    "FILE_JSON_SHAPE", "values nested too deeply", self.line(self.pos)
                ) from None
            except ValueError:  # a number too long to convert
                raise self.invalid("a value the JSON decoder cannot read") from None
            if end >= len(self.text) and not self.eof:
                # A number at the end of the window may go on in the next chunk.
                if limit is not None and len(self.text) - self.pos > limit:
                    raise _TooLarge
                self.more(size)
                size *= 2
                continue
            if limit is not None and end - self.pos > limit:
                raise _TooLarge
            self.pos = end
            return value

    def limited(self, limit: int, code: str, what: str) -> object:
        """The value here, or the file refused with ``code`` if it is longer than ``limit``."""
        start = self.pos
        try:
            return self.value(limit)
        except _TooLarge:
            raise FileRefused(code, what, self.line(start)) from None

    def skip_value(self) -> None:
        """Step over the value that starts here, which nothing reads.

        A small one is decoded, so that it is checked as JSON like the rest of
        the file. A larger array or object is stepped through, each of its
        items skipped in turn the same way, and a larger string a window at a
        time: never more than ``SKIP_UNREAD_FROM`` characters are held.
        """
        try:
            self.value(SKIP_UNREAD_FROM)
            return
        except _TooLarge:
            pass
        char = self.skip()
        if char == "[":
            for _ in self.elements("a value skipped"):
                self.skip_value()
        elif char == "{":
            for _ in self.members("a value skipped"):
                self.skip_value()
        elif char == '"':
            self._skip_string()
        else:
            raise self.invalid("a number or literal too long to read")

    def _skip_string(self) -> None:
        self.pos += 1
        while True:
            self.pos = _STRING_PLAIN.match(self.text, self.pos).end()  # type: ignore[union-attr]
            if self.pos + 1 < len(self.text):
                if self.text[self.pos] == '"':
                    self.pos += 1
                    return
                self.pos += 2  # a backslash and what it escapes
            elif self.pos < len(self.text) and self.text[self.pos] == '"':
                self.pos += 1
                return
            elif not self.more():
                raise FileRefused(
                    "FILE_TRUNCATED", "the file ends in a string", self.line(self.pos)
                )

    def members(self, where: str) -> Iterator[str]:
        """The keys of the object that starts here; the caller reads each value."""
        self.open("{", where)
        char = self.skip()
        if char == "}":
            self.pos += 1
            return
        while True:
            if char != '"':
                raise self.unexpected(char, "a key")
            key = self.limited(MAX_VALUE_CHARS, "FILE_VALUE_TOO_LARGE", "a key")
            if self.skip() != ":":
                raise self.unexpected(self.skip(), "':'")
            self.pos += 1
            self.skip()
            yield key  # type: ignore[misc]
            char = self.skip()
            if char == ",":
                self.pos += 1
                char = self.skip()
            elif char == "}":
                self.pos += 1
                return
            else:
                raise self.unexpected(char, "',' or '}'")

    def elements(self, where: str) -> Iterator[int]:
        """The indexes of the array that starts here; the caller reads each element."""
        self.open("[", where)
        char = self.skip()
        if char == "]":
            self.pos += 1
            return
        index = 0
        while True:
            if not char:
                raise self.unexpected(char, "a value")
            yield index
            index += 1
            char = self.skip()
            if char == ",":
                self.pos += 1
                char = self.skip()
            elif char == "]":
                self.pos += 1
                return
            else:
                raise self.unexpected(char, "',' or ']'")

    def open(self, bracket: str, where: str) -> None:
        char = self.skip()
        if char == bracket:
            self.pos += 1
            return
        if char in _VALUE_START:
            kind = "an object" if bracket == "{" else "an array"
            raise FileRefused("FILE_JSON_SHAPE", f"{where} must be {kind}", self.line(self.pos))
        raise self.unexpected(char, bracket)

    def null_here(self) -> bool:
        """Whether the value here is null (and if so, step over it)."""
        while len(self.text) - self.pos < 4 and self.more():
            pass
        if self.text.startswith("null", self.pos):
            self.value()
            return True
        return False

    def unexpected(self, char: str, wanted: str) -> FileRefused:
        if not char:
            return FileRefused(
                "FILE_TRUNCATED", f"the file ends where {wanted} was expected", self.line(self.pos)
            )
        return self.invalid(f"expected {wanted}")

    def invalid(self, detail: str) -> FileRefused:
        return FileRefused("FILE_INVALID_JSON", detail, self.line(self.pos))

    def _decode_error(self, error: json.JSONDecodeError) -> FileRefused:
        # The decoder's messages name what it expected, never the file's content.
        line = self.line(error.pos)
        rest = self.text[error.pos :].rstrip()
        truncated = self.eof and (
            error.msg.startswith("Unterminated string")
            or not rest
            or any(literal.startswith(rest) for literal in _LITERALS)
            or (_NUMBER_START.fullmatch(rest) is not None)
            or ("escape" in error.msg and len(rest) < 6)
        )
        if truncated:
            return FileRefused("FILE_TRUNCATED", error.msg, line)
        return FileRefused("FILE_INVALID_JSON", error.msg, line)


class _Walker:
    """Walks Leverans, Kommunlista, Kommun and Personlista, and reads each Person."""

    def __init__(self, source: _Source) -> None:
        self.source = source
        self.records = 0
        self.kommuner = 0

    def unknown(self, key: str, location: Location, parent_path: str | None = None) -> Problem:
        name = _pointer(key)
        if parent_path is not None:
            return Problem("ELEMENT_UNKNOWN", name, location, explicit_path=f"{parent_path}/{name}")
        return Problem("ELEMENT_UNKNOWN", name, location)

    def leverans(self) -> Iterator[Record | Problem]:
        source = self.source
        lists = 0
        for key in source.members("/Leverans"):
            if key != "Kommunlista":
                source.skip_value()
                yield self.unknown(key, Location("json"), f"/{ROOT}")
                continue
            lists += 1
            if lists > 1:
                yield Problem("ELEMENT_REPEATED", "Kommunlista", Location("json"))
            if source.null_here():
                continue
            count = 0
            for _ in source.elements("/Leverans/Kommunlista"):
                count += 1
                yield from self.kommun()
            if count == 0:
                yield Problem("LIST_EMPTY", "Kommunlista", Location("json"))
        if lists == 0:
            yield Problem("ELEMENT_MISSING", "Kommunlista", Location("json"))

    def kommun(self) -> Iterator[Record | Problem]:
        source = self.source
        kommun = Kommun(self.kommuner)
        self.kommuner += 1
        here = Location("json", None, kommun.index)
        path = here.path()
        lists = 0
        for key in source.members(path):
            if key in KOMMUN_VALUES:
                value = source.limited(MAX_VALUE_CHARS, "FILE_VALUE_TOO_LARGE", key)
                if value is None or type(value) is str:
                    problem = kommun.take(key, value.strip() if value is not None else None, here)
                else:
                    problem = kommun.take(key, None, here, self._not_text(key, here, value))
                if problem is not None and lists and kommun.pending is None:
                    yield problem  # its records are out: this can only be told apart
            elif key == "Personlista":
                lists += 1
                if lists > 1:
                    yield Problem("ELEMENT_REPEATED", "Personlista", here)
                if source.null_here():
                    continue
                kommun.await_values()
                for _ in source.elements(f"{path}/Personlista"):
                    start = source.pos
                    person = source.limited(
                        MAX_PERSON_BYTES,
                        "FILE_PERSON_TOO_LARGE",
                        f"{path}/Personlista/{kommun.persons}",
                    )
                    if type(person) is not _Object:
                        raise FileRefused(
                            "FILE_JSON_SHAPE",
                            f"{path}/Personlista/{kommun.persons} must be an object",
                            source.line(start),
                        )
                    out = self.person(person, kommun)
                    if kommun.pending is not None:
                        if kommun.hold(out):
                            raise FileRefused(
                                "FILE_JSON_SHAPE",
                                f"{path}: Organisationsnummer and Kommunkod must come before"
                                " Personlista",
                                source.line(start),
                            )
                    else:
                        yield from out
            else:
                source.skip_value()
                yield self.unknown(key, here)
        problem = kommun.personlista_problem(lists, here)
        if problem is not None:
            yield problem
        yield from kommun.released()

    @staticmethod
    def _not_text(key: str, location: Location, value: object) -> Problem:
        shown = value if isinstance(value, str) else ""  # a number's text; not a whole structure
        return Problem.about("ELEMENT_NOT_TEXT", key, location, shown)

    def person(self, pairs: _Object, kommun: Kommun) -> list[Record | Problem]:
        out: list[Record | Problem] = []
        index = kommun.persons
        kommun.persons += 1
        k = kommun.index
        here = Location("json", None, k, index)
        personnummer = None
        person_problems: list[Problem] = []
        lists = []
        seen_personnummer = False
        for key, value in pairs:
            if key == "Personnummer":
                if seen_personnummer:
                    person_problems.append(Problem("ELEMENT_REPEATED", key, here))
                    continue
                seen_personnummer = True
                if type(value) is str:
                    personnummer = value.strip()
                elif value is not None:
                    person_problems.append(Problem("ELEMENT_NOT_TEXT", key, here))
            elif key in LIST_KINDS:
                if value is None:
                    continue
                kind = LIST_KINDS[key]
                if type(value) is not list:
                    raise FileRefused("FILE_JSON_SHAPE", f"{here.path(key)} must be an array")
                lists.append((kind, value))
            else:
                out.append(self.unknown(key, here))
        if not lists:
            out.append(Problem("PERSON_WITHOUT_LISTS", "", here))
            return out
        shared = kommun.shared(person_problems)
        orgnr, kommunkod = kommun.orgnr, kommun.kommunkod
        kinds_seen = set()
        for kind, items in lists:
            where = Location("json", None, k, index, kind)
            if kind in kinds_seen:
                out.append(Problem("ELEMENT_REPEATED", "", where))
            kinds_seen.add(kind)
            if not items:
                out.append(Problem("LIST_EMPTY", "", where))
                continue
            for position, item in enumerate(items):
                location = Location("json", None, k, index, kind, position)
                if type(item) is not _Object:
                    raise FileRefused("FILE_JSON_SHAPE", f"{location.path()} must be an object")
                record = self._record(item, kind, orgnr, kommunkod, personnummer, location)
                if shared:
                    record.problems[:0] = shared
                out.append(record)
                self.records += 1
        return out

    @staticmethod
    def _record(pairs: _Object, kind: str, orgnr, kommunkod, personnummer, location) -> Record:
        if pairs:
            keys, values = zip(*pairs, strict=True)
            if kind == INTERVENTION:
                ongoing = keys == INTERVENTION_ONGOING
                common = ongoing or keys == INTERVENTION_ENDED
            else:
                ongoing = common = keys == RESULT_ORDER
            # The common shape: every key once, in the annex's order, each a string.
            if common and _ONLY_TEXT.issuperset(map(type, values)):
                t: list[Any] = list(map(str.strip, values))
                if ongoing:
                    t.insert(4, None)  # no SlutdatumInsats (a Resultat never has one)
                if t[4] != "":  # t: the six values, in Record's order
                    return Record(kind, orgnr, kommunkod, personnummer, *t, location)  # type: ignore[call-arg]
        attributes = ATTRIBUTES[kind]
        found: dict[str, str | None] = {}
        problems: list[Problem] = []
        for key, value in pairs:
            attribute = attributes.get(key)
            if attribute is None:
                problems.append(Problem("ELEMENT_UNKNOWN", _pointer(key), location))
            elif attribute in found:
                problems.append(Problem("ELEMENT_REPEATED", key, location))
            elif value is None:
                found[attribute] = None
            elif type(value) is str:
                found[attribute] = value.strip()
            else:
                found[attribute] = None
                problems.append(_Walker._not_text(key, location, value))
        return record(kind, orgnr, kommunkod, personnummer, found, problems, location)
