"""The cell key method against an independent implementation: ONS's ``cell-key-perturbation``.

Given the same microdata (one row per person, with INUK's record keys) and the
same perturbation table, the package's tables and INUK's ``protect()`` must
show the same value in every cell: with the package's own
``ptable_10_5_rule.csv`` (which rounds, and repeats its rows 501-750 above
750), and with INUK's own table, whose noise depends on the cell key.
"""

from __future__ import annotations

import random
from functools import cache
from importlib.metadata import distribution
from pathlib import Path

import pytest

pd = pytest.importorskip("pandas")
ons = pytest.importorskip("cell_key_perturbation.create_perturbed_table")

from inuk.ledger.models import RECORD_KEY_RANGE  # noqa: E402
from inuk.stats.disclosure import Audience, protect  # noqa: E402
from inuk.stats.ptable import PerturbationTable  # noqa: E402
from inuk.stats.query import AGE_GROUPS, Dimension  # noqa: E402
from tests.conftest import VALLENTUNA_CODE, VASBY_CODE  # noqa: E402
from tests.stats.tables_by_hand import CATEGORIES, municipality, query, table  # noqa: E402

pytestmark = pytest.mark.slow  # every cell of large tables, by another implementation: seconds

COLUMN = {Dimension.SEX: "sex", Dimension.CODE: "code", Dimension.AGE: "age"}
BREAKDOWNS = [
    (),
    (Dimension.SEX,),
    (Dimension.CODE,),
    (Dimension.SEX, Dimension.CODE),
    (Dimension.AGE, Dimension.SEX),
]
# Persons per municipality: small ones for the small counts, a large one for
# counts above the 10-5 table's 750.
SIZES = {VASBY_CODE: 1900, VALLENTUNA_CODE: 140, "0117": 23}


def ons_ptable_path() -> Path:
    files = distribution("cell-key-perturbation").files or []
    found = next(f for f in files if f.name == "ptable_10_5_rule.csv")
    return Path(str(found.locate())).resolve()


@cache
def microdata() -> pd.DataFrame:
    rng = random.Random(9)
    rows = []
    for geo, size in SIZES.items():
        for _ in range(size):
            rows.append(
                {
                    "geo": geo,
                    # Skewed, so that cells of every size occur, zeros among them.
                    "sex": rng.choices(("K", "M"), (0.8, 0.2))[0],
                    "code": rng.choices(("A1", "A2", "B1"), (0.9, 0.09, 0.01))[0],
                    "age": rng.choices(AGE_GROUPS, (0.6, 0.3, 0.08, 0.02))[0],
                    "all": "total",
                    "record_key": rng.randrange(RECORD_KEY_RANGE),
                }
            )
    return pd.DataFrame(rows)


def inuk_table(by):
    """The INUK table of the microdata: counts of persons, keys summed modulo 2**32."""
    persons = microdata().to_dict("records")
    geographies = [municipality(code, code) for code in SIZES]

    def cell(geography, categories):
        chosen = [
            p
            for p in persons
            if p["geo"] == geography.code
            and all(
                category in ("total", p[COLUMN[dimension]])
                for dimension, category in zip(by, categories, strict=True)
            )
        ]
        return {
            "count": len(chosen),
            "key": sum(p["record_key"] for p in chosen) % RECORD_KEY_RANGE,
        }

    return table(query(by=by, geographies=geographies), cell)


def ons_values(ptable: pd.DataFrame, by) -> dict[tuple[str, tuple[str, ...]], int]:
    """The package's perturbed count of every cell of the INUK table, totals included."""
    values = {}
    for categories in _category_shapes(by):
        tab_vars = [COLUMN[d] for d, c in zip(by, categories, strict=True) if c != "total"]
        perturbed = ons.create_perturbed_table(
            data=microdata(),
            ptable=ptable,
            geog=["geo"],
            tab_vars=tab_vars or ["all"],
            record_key="record_key",
            threshold=0,  # its suppression aside: INUK's smallest count shown is the table's
        )
        for record in perturbed.to_dict("records"):
            key = tuple(
                record[COLUMN[d]] if c != "total" else "total"
                for d, c in zip(by, categories, strict=True)
            )
            values[(record["geo"], key)] = int(record["count"])
    return values


def _category_shapes(by):
    """Which of the breakdowns are totals: every pattern, one package table each."""
    shapes = [()]
    for _ in by:
        shapes = [(*s, c) for s in shapes for c in ("x", "total")]
    return shapes


def _assert_same_values(ptable_frame, capsys):
    compared = 0
    for by in BREAKDOWNS:
        t = inuk_table(by)
        expected = ons_values(ptable_frame, by)
        for cell, row in zip(t.cells, protect(t, Audience.PROTECTED).rows, strict=True):
            ons_value = expected.get((cell.geography.code, cell.categories))
            if ons_value is None:  # the package leaves out cells nobody is in
                assert cell.count == 0
                ons_value = 0
            shown = 0 if row.value.value is None else row.value.value
            assert shown == ons_value, (cell.geography.code, cell.categories, cell.count)
            compared += 1
    capsys.readouterr()  # the package prints warnings about key ranges
    return compared


def test_with_the_packages_own_table_every_cell_is_the_same(settings, capsys):
    settings.INUK_STATS_PTABLE = str(ons_ptable_path())
    settings.INUK_STATS_PTABLE_CYCLE = 250
    frame = pd.read_csv(ons_ptable_path())
    assert _assert_same_values(frame, capsys) > 100
    # The large municipality's total is above 750, where the package repeats rows.
    assert inuk_table(()).cells[0].count > 750


def test_with_inuks_own_table_every_cell_is_the_same(settings, tmp_path, capsys):
    # The package reads rows up to 750 and repeats 501-750 above; INUK's table
    # serves larger counts with its last row, so that row is written out to 750.
    shipped = PerturbationTable.shipped()
    rows = list(shipped.rows) + [shipped.rows[-1]] * (750 - shipped.max_pcv)
    frame = pd.DataFrame(
        [
            {"pcv": pcv, "ckey": ckey, "pvalue": noise}
            for pcv, row in enumerate(rows, start=1)
            for ckey, noise in enumerate(row)
        ]
    )
    assert _assert_same_values(frame, capsys) > 100


def test_the_comparison_would_notice_a_key_summed_wrongly(settings, capsys):
    # INUK's table makes the value depend on the key: summing each person's key
    # twice (or any other mistake) changes published values.
    t = inuk_table((Dimension.CODE,))
    doubled = table(
        t.query,
        lambda g, c: {
            "count": next(x.count for x in t.cells if x.geography == g and x.categories == c),
            "key": 2 * next(x.key for x in t.cells if x.geography == g and x.categories == c),
        },
    )
    right = [r.value for r in protect(t, Audience.PROTECTED).rows]
    wrong = [r.value for r in protect(doubled, Audience.PROTECTED).rows]
    assert right != wrong
    assert CATEGORIES[Dimension.CODE][-1] == "total"
