"""Figures as the engine computes them (``Table``) and as a viewer may see them (``Published``).

A ``Table`` holds true counts and must never leave the ``stats`` app: only
``inuk.stats.disclosure.protect()`` turns it into a ``Published``, which is what
pages, the API and exports show.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from inuk.stats.query import Geography, Period, Query


class Mark(StrEnum):
    """Marks as Kolada uses them, in place of a value."""

    NONE = ""
    PROTECTED = ".."  # hidden or not shown to protect individuals
    MISSING = "-"  # no data: nothing delivered for it
    NOT_APPLICABLE = "."  # the question has no meaning for this cell


@dataclass(frozen=True)
class Cell:
    """One cell of a table, true figures.

    ``count`` is the indicator's value: persons for participants, results and
    collaboration, interventions for started and ended. ``key`` is the cell key
    before reduction: the sum of the record keys of the cell's *distinct
    persons* (each person once, however many interventions), modulo
    ``ledger.models.RECORD_KEY_RANGE``. ``mark`` is ``MISSING`` or
    ``NOT_APPLICABLE`` where the engine knows the cell has no figure.

    For ``ended``: ``median_days`` is the median length of the cell's ended
    interventions, in days (end - start + 1... see the methods text).
    For ``results``: ``base`` and ``base_key`` are the cell of persons whose
    intervention ended (the share's denominator), with its own cell key.
    """

    geography: Geography
    period: Period
    categories: tuple[str, ...]  # one per Query.by, in its order
    count: int
    key: int
    mark: Mark = Mark.NONE
    median_days: float | None = None
    base: int | None = None
    base_key: int | None = None


@dataclass
class Table:
    """Every cell of a question: each geography x every category combination, zeros included."""

    query: Query
    cells: list[Cell] = field(default_factory=list)
    #: "rollup" or "state": where the figures came from (for the benchmark and debugging).
    origin: str = "state"


@dataclass(frozen=True)
class Figure:
    """A value as shown, or the mark that stands in its place."""

    value: int | float | None
    mark: Mark = Mark.NONE

    @property
    def text(self) -> str:
        return str(self.mark) if self.mark else str(self.value)


@dataclass(frozen=True)
class Row:
    geography: Geography
    period: Period
    categories: tuple[str, ...]
    value: Figure
    share: Figure | None = None  # results: value / base
    base: Figure | None = None  # results: persons whose intervention ended
    median_days: Figure | None = None  # ended


@dataclass(frozen=True)
class Protection:
    """Which method protected the figures, with its parameters, for every answer to state."""

    method: str  # "cell-key", "threshold" or "none"
    parameters: dict
    description_sv: str
    description_en: str


@dataclass
class Published:
    query: Query
    rows: list[Row]
    protection: Protection


def series(answers: list[Published]) -> Published:
    """The answers to one question over several periods, as one: rows period after period.

    The question kept is the first period's; the rows carry their own periods,
    and ``periods()`` lists them.
    """
    first = answers[0]
    return Published(
        query=first.query,
        rows=[row for answer in answers for row in answer.rows],
        protection=first.protection,
    )


def periods(published: Published) -> list[Period]:
    """The periods of an answer's rows, in order: one, or a series."""
    return list(dict.fromkeys(row.period for row in published.rows)) or [published.query.period]
