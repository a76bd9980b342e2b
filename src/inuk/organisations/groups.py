"""Municipality groups from a ``kommunkod;grupp`` CSV file, as AF keeps its groupings.

One line per membership, a header line optional::

    kommunkod;grupp
    0114;Pendlingskommun nära storstad
    0115;Pendlingskommun nära storstad
    0180;Storstäder

A group named in the file gets exactly the municipalities the file lists for
it; a group not named is left as it is; a group that does not exist yet is
created, its short name (slug, ``g:SLUG`` in statistics questions) made from
its name. The whole file is checked before anything changes, so a file with
one bad line changes nothing and every bad line is named, in Swedish and
English.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.text import slugify

from inuk.audit.log import Event, record
from inuk.format.identifiers import InvalidIdentifier, normalise_kommunkod
from inuk.organisations.models import Municipality, MunicipalityGroup

#: Errors named one by one before the rest are only counted.
MAX_ERRORS_LISTED = 20

_HEADER = ("kommunkod", "grupp")


@dataclass(frozen=True)
class LineError:
    """What is wrong with one line of the file, in both languages."""

    line: int
    sv: str
    en: str

    def __str__(self) -> str:
        return f"{self.line}: {self.sv} / {self.en}"


class GroupFileError(ValueError):
    """The file cannot be imported; ``errors`` names every bad line (nothing was changed)."""

    def __init__(self, errors: list[LineError]) -> None:
        self.errors = errors
        listed = "; ".join(str(e) for e in errors[:MAX_ERRORS_LISTED])
        more = len(errors) - MAX_ERRORS_LISTED
        super().__init__(listed + (f"; +{more}" if more > 0 else ""))

    @property
    def message_sv(self) -> str:
        return "Filen kan inte läsas in: " + "; ".join(
            f"rad {e.line}: {e.sv}" for e in self.errors[:MAX_ERRORS_LISTED]
        )

    @property
    def message_en(self) -> str:
        return "The file cannot be imported: " + "; ".join(
            f"line {e.line}: {e.en}" for e in self.errors[:MAX_ERRORS_LISTED]
        )


@dataclass
class ImportResult:
    """What an import did, group by group, for the admin's message and the audit log."""

    created: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    memberships: int = 0

    def details(self) -> dict:
        return {
            "created": self.created,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "memberships": self.memberships,
        }


def read_groups(data: bytes | str) -> dict[str, set[str]]:
    """The file's groups and their kommunkoder, or ``GroupFileError`` naming every bad line."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise GroupFileError(
                [LineError(0, "Filen är inte UTF-8.", "The file is not UTF-8.")]
            ) from None
    known = set(Municipality.objects.values_list("code", flat=True))
    groups: dict[str, set[str]] = defaultdict(set)
    errors: list[LineError] = []
    for number, fields in enumerate(csv.reader(io.StringIO(data), delimiter=";"), start=1):
        cells = [f.strip() for f in fields]
        if not any(cells):
            continue
        if number == 1 and tuple(c.lower() for c in cells) == _HEADER:
            continue
        if len(cells) != 2 or not cells[1]:
            errors.append(
                LineError(
                    number,
                    "Raden ska ha två fält, kommunkod;grupp.",
                    "The line must have two fields, kommunkod;grupp.",
                )
            )
            continue
        text, name = cells
        try:
            code = normalise_kommunkod(text)
        except InvalidIdentifier:
            code = ""
        if code not in known:
            errors.append(
                LineError(
                    number,
                    f"Kommunkoden {text[:10]!r} finns inte.",
                    f"There is no municipality code {text[:10]!r}.",
                )
            )
            continue
        if len(name) > 100 or not slugify(name):
            errors.append(
                LineError(
                    number,
                    "Gruppens namn ska ha 1–100 tecken, varav minst en bokstav eller siffra.",
                    "The group's name must have 1–100 characters, at least one a letter or digit.",
                )
            )
            continue
        groups[name].add(code)
    if errors:
        raise GroupFileError(errors)
    if not groups:
        raise GroupFileError(
            [LineError(0, "Filen har inga rader att läsa in.", "The file has no lines to import.")]
        )
    return dict(groups)


def import_groups(data: bytes | str, *, actor: str, remote_addr: str = "") -> ImportResult:
    """Give each group of the file exactly the file's municipalities, in one transaction.

    Audited as an administrative change (``admin.change``), in the same
    transaction: the groups named and how many memberships they now have.
    """
    groups = read_groups(data)
    result = ImportResult()
    with transaction.atomic():
        for name in sorted(groups):
            codes = groups[name]
            group = MunicipalityGroup.objects.filter(name=name).first()
            if group is None:
                group = MunicipalityGroup.objects.create(name=name, slug=_free_slug(name))
                result.created.append(name)
            else:
                before = set(group.municipalities.values_list("code", flat=True))
                (result.unchanged if before == codes else result.changed).append(name)
            group.municipalities.set(Municipality.objects.filter(code__in=codes))
            result.memberships += len(codes)
        record(
            Event.ADMIN_CHANGE,
            actor=actor,
            target="organisations.municipalitygroup:import",
            remote_addr=remote_addr,
            details={"action": "imported", **result.details()},
        )
    return result


def _free_slug(name: str) -> str:
    base = slugify(name)[:55]
    slug, n = base, 1
    while MunicipalityGroup.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug
