"""Disclosure control: the one way true figures become figures a viewer may see (SPEC §10 R11).

Every page, API answer and export calls ``protect(table, audience_of(user))``;
nothing else turns a ``Table`` into a ``Published``. AF's national analysts
(and ``inuk stats`` on the server, unless it is asked to answer as a
municipality) see true figures; everyone else sees them protected by the
deployment's method, ``INUK_STATS_PROTECTION``:

- ``cell-key`` (the default): each count gets the noise that the perturbation
  table gives for its true count and its cell key (``inuk.stats.ptable``). The
  cell key is the sum of the record keys of the cell's distinct persons, so the
  same cell has the same key, and the same published value, however it was
  asked: by page, API or export, as a month or as a one-month range, alone or
  in a larger table. Zero stays zero; nothing becomes negative; no count is
  published between zero and the table's smallest count shown.
- ``threshold``: counts from 1 to ``INUK_STATS_THRESHOLD`` - 1 are suppressed
  (``..``), then, table by table, further cells are suppressed until no
  suppressed cell is the only unknown of any equation "total = sum of its
  parts" of the table (``suppress()``, ``equations()``).

The rest follows the same rules for both methods:

- ``results``: the base (persons whose intervention ended) is protected as a
  count of its own; the share is the published count over the published base,
  at most 1, and is not shown (``..``) when either is protected or when the
  base is below the smallest count shown. A base of zero has no share (``.``).
- ``ended``: the median length is shown only when the published count is at
  least the smallest count shown; with no ended intervention there is no
  median (``.``).
- A cell the engine marked missing (``-``) or not applicable (``.``) keeps its
  mark, for its count, share, base and median alike.
"""

from __future__ import annotations

import dataclasses
import functools
from collections import defaultdict
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from inuk.stats.ptable import PerturbationTable, PerturbationTableError
from inuk.stats.query import GeographyKind, Indicator
from inuk.stats.table import Cell, Figure, Mark, Protection, Published, Row, Table

TOTAL = "total"


class Audience(StrEnum):
    """Who the figures are for: true figures, or protected ones."""

    TRUE = "true"  # AF's national analysts; the server command unless --as-municipality
    PROTECTED = "protected"  # everyone else


def audience_of(principal: Any) -> Audience:
    """True figures only for those ``inuk.accounts.scoping.sees_true_figures`` names: AF's
    national analysts. Everyone else gets protected figures."""
    from inuk.accounts.scoping import sees_true_figures

    return Audience.TRUE if sees_true_figures(principal) else Audience.PROTECTED


def protect(table: Table, audience: Audience) -> Published:
    """The figures of ``table`` as ``audience`` may see them."""
    method: Method = TRUE_FIGURES if audience is Audience.TRUE else configured_method()
    # A copy of the parameters: the method is shared by every answer of the process.
    protection = dataclasses.replace(
        method.protection, parameters=dict(method.protection.parameters)
    )
    return Published(query=table.query, rows=method.rows(table), protection=protection)


# --- the methods texts ------------------------------------------------------------------

#: A paragraph per method for the methods page and the API's list of indicators.
METHOD_TEXTS: dict[str, dict[str, str]] = {
    "cell-key": {
        "sv": (
            "Siffrorna skyddas med cellnyckelmetoden, som SCB använder för personstatistik. "
            "Varje person har en slumpmässig nyckel, och varje cell i en tabell får ett litet "
            "brus som bestäms av antalet och av summan av cellens personers nycklar. Samma "
            "cell visar därför alltid samma värde, hur den än efterfrågas, och att jämföra "
            "tabeller avslöjar inget säkert om enskilda. Noll förblir noll, inget antal blir "
            "negativt och små antal visas aldrig som sig själva. Delarna summerar därför inte "
            "alltid till totalen. Andelar beräknas av de skyddade antalen och visas inte när "
            "basen är mindre än det minsta antal som visas."
        ),
        "en": (
            "Figures are protected by the cell key method, which Statistics Sweden uses for "
            "statistics about persons. Each person has a random key, and each cell of a table "
            "gets a small noise decided by its count and the sum of its persons' keys. The same "
            "cell therefore always shows the same value, however it is asked for, and comparing "
            "tables reveals nothing certain about anyone. Zero stays zero, no count turns "
            "negative and small counts are never shown as themselves. Parts therefore do not "
            "always add up to their total. Shares are computed from the protected counts and "
            "are not shown when their base is below the smallest count shown."
        ),
    },
    "threshold": {
        "sv": (
            "Siffrorna skyddas med tröskelvärden: antal som är större än noll men mindre än "
            "det minsta antal som visas ersätts med '..'. Därutöver döljs fler celler i varje "
            "tabell, så att ingen dold cell kan räknas ut ur totalen och de övriga delarna. "
            "Andelar och medianer visas inte när deras antal är dolt eller för litet."
        ),
        "en": (
            "Figures are protected by a threshold: counts above zero but below the smallest "
            "count shown are replaced by '..'. Further cells of each table are hidden as well, "
            "so that no hidden cell can be worked out from its total and the other parts. "
            "Shares and medians are not shown when their count is hidden or too small."
        ),
    },
    "none": {
        "sv": "Sanna värden utan röjandeskydd, för Arbetsförmedlingens nationella analytiker.",
        "en": "True figures without disclosure control, for AF's national analysts.",
    },
}


# --- the methods ------------------------------------------------------------------------


class Method:
    """A way of publishing a table: which counts and bases are shown, and the smallest shown."""

    protection: Protection
    #: Shares need a base, and medians a count, of at least this to be shown.
    smallest_shown: int = 1

    def counts(self, table: Table) -> tuple[list[int | None], list[int | None]]:
        """The published count and base of every cell; None where protected."""
        raise NotImplementedError

    def rows(self, table: Table) -> list[Row]:
        values, bases = self.counts(table)
        indicator = table.query.indicator
        return [
            _row(cell, value, base, indicator, self.smallest_shown)
            for cell, value, base in zip(table.cells, values, bases, strict=True)
        ]


class TrueFigures(Method):
    protection = Protection(
        method="none",
        parameters={},
        description_sv=METHOD_TEXTS["none"]["sv"],
        description_en=METHOD_TEXTS["none"]["en"],
    )

    def counts(self, table: Table) -> tuple[list[int | None], list[int | None]]:
        return [c.count for c in table.cells], [c.base for c in table.cells]


TRUE_FIGURES = TrueFigures()


class CellKey(Method):
    """The cell key method with a perturbation table."""

    def __init__(self, ptable: PerturbationTable) -> None:
        self.ptable = ptable
        self.smallest_shown = ptable.smallest_shown
        parameters: dict[str, Any] = {
            "table": ptable.name,
            "max_noise": ptable.max_noise,
            "smallest_shown": ptable.smallest_shown,
            "key_range": ptable.key_range,
            **{k: v for k, v in ptable.parameters.items() if k == "variance"},
        }
        if ptable.cycle:
            parameters["cycle"] = ptable.cycle
        self.protection = Protection(
            method="cell-key",
            parameters=parameters,
            description_sv=(
                f"Cellnyckelmetoden (tabell {ptable.name}): varje antal har fått ett brus på "
                f"högst ±{ptable.max_noise}.{_small_sv(ptable.smallest_shown, ' visas aldrig')} "
                "Delarna summerar inte alltid till totalen."
            ),
            description_en=(
                f"The cell key method (table {ptable.name}): each count has been given a "
                f"noise of at most ±{ptable.max_noise}."
                f"{_small_en(ptable.smallest_shown, ' are never shown')} "
                "Parts need not add up to totals."
            ),
        )

    def published(self, count: int | None, key: int | None) -> int | None:
        if count is None:
            return None
        value = self.ptable.perturb(count, key or 0)
        # Our own tables never give such a value; a loaded one might.
        return None if 0 < value < self.smallest_shown else value

    def counts(self, table: Table) -> tuple[list[int | None], list[int | None]]:
        return (
            [self.published(c.count, c.key) for c in table.cells],
            [self.published(c.base, c.base_key) for c in table.cells],
        )


class Threshold(Method):
    """Threshold suppression with secondary suppression."""

    def __init__(self, smallest_shown: int) -> None:
        self.smallest_shown = smallest_shown
        self.protection = Protection(
            method="threshold",
            parameters={"smallest_shown": smallest_shown, "secondary_suppression": True},
            description_sv=(
                "Tröskelvärde:"
                + _small_sv(smallest_shown, " visas som '..'")
                + " Fler celler döljs "
                "vid behov, så att inget dolt antal kan räknas ut ur totalerna."
            ),
            description_en=(
                "Threshold:"
                + _small_en(smallest_shown, " are shown as '..'")
                + " Further cells are "
                "hidden where needed, so that no hidden count can be worked out from totals."
            ),
        )

    def counts(self, table: Table) -> tuple[list[int | None], list[int | None]]:
        system = equations(table.cells)
        counts = [c.count for c in table.cells]
        hidden = suppress(table.cells, counts, self.smallest_shown, system)
        bases = [c.base for c in table.cells]
        hidden_bases = suppress(table.cells, [b or 0 for b in bases], self.smallest_shown, system)
        return (
            [None if h else c for c, h in zip(counts, hidden, strict=True)],
            [None if h else b for b, h in zip(bases, hidden_bases, strict=True)],
        )


def _small_sv(smallest_shown: int, fate: str) -> str:
    if smallest_shown <= 1:
        return ""
    if smallest_shown == 2:
        return f" Antalet 1{fate}."
    return f" Antal mellan 1 och {smallest_shown - 1}{fate}."


def _small_en(smallest_shown: int, fate: str) -> str:
    if smallest_shown <= 1:
        return ""
    if smallest_shown == 2:
        return f" Counts of 1{fate}."
    return f" Counts from 1 to {smallest_shown - 1}{fate}."


def suppress(
    cells: Sequence[Cell],
    counts: Sequence[int],
    smallest_shown: int,
    system: list[list[int]] | None = None,
) -> list[bool]:
    """Which cells to hide: counts from 1 to ``smallest_shown - 1``, and enough more.

    The primary suppression hides the small counts. The secondary suppression
    then looks at every equation "total = sum of its parts" of the table
    (``equations()``): wherever one hidden cell is the only unknown of an
    equation, it could be worked out from the others, so one more cell of that
    equation is hidden, until no equation has a single unknown. Each equation is
    taken as exact even where a person can be in several parts (a person with
    two codes), which at worst hides more than needed.

    The further cell is chosen deterministically, so the same table is always
    hidden the same way: among the equation's shown cells with a count above
    zero, the one with the fewest totals among its categories (an inner cell
    before a subtotal, a subtotal before the grand total, since totals are also
    shown in other tables), then the smallest count, then the first. A zero is
    never hidden: everyone can tell an empty cell from the context (an empty
    code, a municipality without AF clients), so hiding it protects nothing.
    There is always a cell to choose: the engine's totals count no one who is
    in none of their parts, so a hidden total has a part above zero, and a
    hidden part a total above zero.

    A cell the engine marked missing or not applicable is shown as a mark, so
    it is an unknown of its equations if it counts anyone, and is never chosen.
    """
    hidden = [
        (0 < count < smallest_shown) or (bool(cell.mark) and count != 0)
        for cell, count in zip(cells, counts, strict=True)
    ]
    if system is None:
        system = equations(cells)
    changed = True
    while changed:
        changed = False
        for equation in system:
            if sum(hidden[i] for i in equation) != 1:
                continue
            candidates = [
                i for i in equation if not hidden[i] and counts[i] > 0 and not cells[i].mark
            ]
            if not candidates:
                continue
            chosen = min(candidates, key=lambda i: (cells[i].categories.count(TOTAL), counts[i], i))
            hidden[chosen] = True
            changed = True
    return hidden


def equations(cells: Sequence[Cell]) -> list[list[int]]:
    """The table's equations "total = sum of its parts", as lists of cell indexes.

    Within each geography and period, for each breakdown position: the cells
    that agree on every other position form an equation, whose total is the
    cell with ``"total"`` at that position. One breakdown gives one equation per
    geography; two give one per row and one per column, totals' rows and
    columns included.
    """
    by_place: dict[tuple, list[int]] = defaultdict(list)
    for index, cell in enumerate(cells):
        # Codes and months, not the objects: hashing those is slow (the country
        # holds 290 municipalities), and tables are protected on every answer.
        place = (cell.geography.code, cell.period.first_month, cell.period.last_month)
        categories = cell.categories
        for position in range(len(categories)):
            rest = categories[:position] + categories[position + 1 :]
            by_place[(place, position, rest)].append(index)
    system = [
        indexes
        for (_, position, _), indexes in by_place.items()
        if len(indexes) > 1 and any(cells[i].categories[position] == TOTAL for i in indexes)
    ]
    return system + _geography_equations(cells)


def _geography_equations(cells: Sequence[Cell]) -> list[list[int]]:
    """Equations across geographies: an aggregate beside every one of its municipalities.

    Picked municipalities are never summed, but a table may hold a county or a
    group together with all the municipalities it is made of (a group of three,
    side by side with its members); then each of its cells is the sum of theirs,
    and a hidden municipality could be worked out from the aggregate.
    """
    geographies = list(dict.fromkeys(cell.geography for cell in cells))
    municipalities = {g.code for g in geographies if g.kind is GeographyKind.MUNICIPALITY}
    aggregates = [
        g
        for g in geographies
        if g.kind is not GeographyKind.MUNICIPALITY and g.municipalities <= municipalities
    ]
    if not aggregates:
        return []
    index_of = {
        (cell.geography.code, cell.period.first_month, cell.categories): i
        for i, cell in enumerate(cells)
    }
    system = []
    for aggregate in aggregates:
        for i, cell in enumerate(cells):
            if cell.geography.code != aggregate.code:
                continue
            parts = [
                index_of.get((code, cell.period.first_month, cell.categories))
                for code in sorted(aggregate.municipalities)
            ]
            system.append([i, *(j for j in parts if j is not None)])
    return system


def _row(
    cell: Cell,
    value: int | None,
    base: int | None,
    indicator: Indicator,
    smallest_shown: int,
) -> Row:
    is_results = indicator is Indicator.RESULTS
    is_ended = indicator is Indicator.ENDED
    if cell.mark:
        marked = Figure(None, cell.mark)
        return Row(
            cell.geography,
            cell.period,
            cell.categories,
            marked,
            share=marked if is_results else None,
            base=marked if is_results else None,
            median_days=marked if is_ended else None,
        )
    shown = Figure(value) if value is not None else Figure(None, Mark.PROTECTED)
    share = base_figure = median = None
    if is_results:
        base_figure = Figure(base) if base is not None else Figure(None, Mark.PROTECTED)
        share = _share(value, base, smallest_shown)
    if is_ended:
        median = _median(value, cell.median_days, smallest_shown)
    return Row(cell.geography, cell.period, cell.categories, shown, share, base_figure, median)


def _share(value: int | None, base: int | None, smallest_shown: int) -> Figure:
    if base == 0:
        return Figure(None, Mark.NOT_APPLICABLE)  # no one ended: a share of nobody
    if value is None or base is None or base < smallest_shown:
        return Figure(None, Mark.PROTECTED)
    # Noise can lift a count above its base; a share above 1 would only confuse.
    return Figure(min(value / base, 1.0))


def _median(value: int | None, median_days: float | None, smallest_shown: int) -> Figure:
    if value == 0 or (value is not None and median_days is None):
        return Figure(None, Mark.NOT_APPLICABLE)  # nothing ended: no median
    if value is None or value < smallest_shown:
        return Figure(None, Mark.PROTECTED)
    return Figure(median_days)


# --- the deployment's method ------------------------------------------------------------


def configured_method() -> Method:
    """The method the settings choose (read on every call, so tests may override them)."""
    return _method(
        settings.INUK_STATS_PROTECTION,
        settings.INUK_STATS_PTABLE,
        settings.INUK_STATS_PTABLE_CYCLE,
        settings.INUK_STATS_THRESHOLD,
    )


@functools.lru_cache(maxsize=8)
def _method(protection: str, ptable_path: str, cycle: int, threshold: int) -> Method:
    if protection == "threshold":
        return Threshold(threshold)
    return CellKey(perturbation_table(ptable_path, cycle))


def perturbation_table(path: str, cycle: int = 0) -> PerturbationTable:
    """The table at ``path`` (``INUK_STATS_PTABLE``), or the shipped one when it is empty."""
    try:
        if not path:
            return PerturbationTable.shipped()
        return PerturbationTable.from_file(path, cycle=cycle)
    except PerturbationTableError as exc:
        raise ImproperlyConfigured(f"INUK_STATS_PTABLE: {exc}") from None
