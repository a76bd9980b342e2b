"""The shipped register of the 290 municipalities, and AF.

Plain data, readable without a database or Django settings: the offline
validator uses it to check kommunkod against the delivering organisation.
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources
from typing import NamedTuple

# Kept here rather than on the models so that the offline validator (``inuk
# validate``) can read the register without Django being configured.
AF_ORGNR = "2021002114"
AF_NAME = "Arbetsförmedlingen"


class MunicipalityRow(NamedTuple):
    code: str
    name: str
    orgnr: str
    county_code: str
    county_name: str


@cache
def municipalities() -> tuple[MunicipalityRow, ...]:
    text = resources.files("inuk.format").joinpath("data/kommuner.csv").read_text(encoding="utf-8")
    return tuple(
        MunicipalityRow(
            r["kommunkod"], r["kommun"], r["organisationsnummer"], r["lanskod"], r["lan"]
        )
        for r in csv.DictReader(text.splitlines())
    )


@cache
def municipality_codes() -> frozenset[str]:
    return frozenset(row.code for row in municipalities())


@cache
def codes_by_orgnr() -> dict[str, frozenset[str]]:
    """Which kommunkod each municipal organisation number may deliver for (offline check)."""
    result: dict[str, set[str]] = {}
    for row in municipalities():
        result.setdefault(row.orgnr, set()).add(row.code)
    return {orgnr: frozenset(codes) for orgnr, codes in result.items()}
