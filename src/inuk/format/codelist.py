"""The code lists as plain data, for the validator that runs without a database.

``CodeList.shipped()`` reads the preliminary list that ships with the product;
``Code.code_list()`` (``inuk.codes.models``) reads AF's current list from the
``Code`` table into one.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources

INTERVENTION = "insats"
RESULT = "resultat"


@dataclass(frozen=True, slots=True)
class Period:
    valid_from: dt.date
    valid_to: dt.date | None

    def covers(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


class CodeList:
    """Which codes of each kind exist, and on which start dates they may be used."""

    def __init__(self, entries: Iterable[tuple[str, str, dt.date, dt.date | None]]) -> None:
        self._periods: dict[tuple[str, str], list[Period]] = {}
        for kind, code, valid_from, valid_to in entries:
            self._periods.setdefault((kind, code), []).append(Period(valid_from, valid_to))

    def exists(self, kind: str, code: str) -> bool:
        return (kind, code) in self._periods

    def valid_on(self, kind: str, code: str, day: dt.date) -> bool:
        return any(period.covers(day) for period in self._periods.get((kind, code), ()))

    def codes(self, kind: str) -> list[str]:
        return sorted(code for k, code in self._periods if k == kind)

    @classmethod
    @cache
    def shipped(cls) -> CodeList:
        return cls(
            (row["kind"], row["code"], row["valid_from"], row["valid_to"]) for row in shipped_rows()
        )


def shipped_rows() -> list[dict]:
    """The preliminary code list of SPEC §7, as shipped in ``format/data/codes.csv``."""
    text = resources.files("inuk.format").joinpath("data/codes.csv").read_text(encoding="utf-8")
    rows = []
    for row in csv.DictReader(text.splitlines()):
        rows.append(
            {
                **row,
                "valid_from": dt.date.fromisoformat(row["valid_from"]),
                "valid_to": dt.date.fromisoformat(row["valid_to"]) if row["valid_to"] else None,
            }
        )
    return rows
