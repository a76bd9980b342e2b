"""True tables built by hand, shaped as the engine shapes them, for disclosure tests.

No database: geographies are made up, the question is built directly, and the
counts and keys come from the test.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

from inuk.stats.query import (
    AGE_GROUPS,
    SEXES,
    Dimension,
    Geography,
    GeographyKind,
    Indicator,
    Period,
    Query,
)
from inuk.stats.table import Cell, Table
from tests.conftest import VASBY_CODE

MONTH = Period.month(2026, 10)
CODES = ("A1", "A2", "B1")
CATEGORIES: dict[Dimension, tuple[str, ...]] = {
    Dimension.CODE: (*CODES, "total"),
    Dimension.SEX: (*SEXES, "total"),
    Dimension.AGE: (*AGE_GROUPS, "total"),
    Dimension.SOURCE: ("municipal", "af", "total"),
}


def municipality(code: str = VASBY_CODE, name: str = "Upplands Väsby") -> Geography:
    return Geography(GeographyKind.MUNICIPALITY, code, name, frozenset({code}))


def query(
    indicator: Indicator = Indicator.PARTICIPANTS,
    by: Sequence[Dimension] = (),
    geographies: Sequence[Geography] = (),
    period: Period = MONTH,
) -> Query:
    return Query(indicator, period, tuple(geographies) or (municipality(),), tuple(by))


def combinations(by: Sequence[Dimension]) -> list[tuple[str, ...]]:
    return list(itertools.product(*(CATEGORIES[d] for d in by)))


def table(q: Query, make: Callable[[Geography, tuple[str, ...]], Cell | dict]) -> Table:
    """A table with a cell for every geography and category combination of ``q``.

    ``make`` returns the cell, or a dict of the Cell fields other than
    geography, period and categories.
    """
    cells = []
    for geography in q.geographies:
        for categories in combinations(q.by):
            made = make(geography, categories)
            if isinstance(made, dict):
                made = Cell(geography=geography, period=q.period, categories=categories, **made)
            cells.append(made)
    return Table(q, cells)
