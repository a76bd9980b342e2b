"""Each indicator is defined once, with names and a methods text in both languages."""

from __future__ import annotations

from inuk.stats.indicators import INDICATORS, definition
from inuk.stats.query import Indicator


def test_every_indicator_the_engine_computes_has_one_definition():
    assert [d.id for d in INDICATORS] == list(Indicator)
    assert [d.number for d in INDICATORS] == [1, 2, 3, 4, 5]


def test_every_definition_speaks_swedish_and_english():
    for d in INDICATORS:
        assert d.name_sv and d.name_en and d.unit_sv and d.unit_en
        assert len(d.methods_sv) > 50 and len(d.methods_en) > 50
        assert d.methods_sv != d.methods_en


def test_the_results_indicator_breaks_down_by_result_code():
    assert definition("results").code_kind == "resultat"
    assert definition("started").code_kind == "insats"
