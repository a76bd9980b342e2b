"""protect(): who sees true figures, and what the protected ones look like by either method."""

from __future__ import annotations

import pytest

from inuk.stats.disclosure import METHOD_TEXTS, Audience, audience_of, protect
from inuk.stats.ptable import PerturbationTable
from inuk.stats.query import Dimension, Indicator, Period
from inuk.stats.table import Mark
from tests.conftest import VALLENTUNA_CODE, VASBY_CODE
from tests.stats.tables_by_hand import municipality, query, table

SHIPPED = PerturbationTable.shipped()


def _keyed(geography, categories):
    """Counts and keys that differ from cell to cell, with a zero and some small counts."""
    seed = sum(map(ord, geography.code + "".join(categories)))
    count = (seed * 7) % 40
    return {"count": count, "key": (seed * 2654435761) % 2**32 if count else 0}


@pytest.fixture
def threshold(settings):
    settings.INUK_STATS_PROTECTION = "threshold"
    settings.INUK_STATS_THRESHOLD = 5


# --- who sees what ----------------------------------------------------------------------


@pytest.mark.django_db
def test_only_afs_active_national_analysts_see_true_figures(cast):
    assert audience_of(cast.af_analyst) is Audience.TRUE
    for someone in (
        cast.vasby_analyst,
        cast.vasby_reporter,
        cast.vallentuna_analyst,
        cast.af_admin,
        cast.identity_officer,
        None,
    ):
        assert audience_of(someone) is Audience.PROTECTED, someone


@pytest.mark.django_db
def test_a_deactivated_national_analyst_sees_protected_figures(cast):
    cast.af_analyst.is_active = False
    assert audience_of(cast.af_analyst) is Audience.PROTECTED


@pytest.mark.django_db
def test_an_anonymous_visitor_and_an_api_token_see_protected_figures(cast):
    from django.contrib.auth.models import AnonymousUser

    from inuk.accounts.models import ApiToken

    assert audience_of(AnonymousUser()) is Audience.PROTECTED
    assert audience_of(ApiToken(organisation=cast.af)) is Audience.PROTECTED


# --- true figures -------------------------------------------------------------------------


def test_true_figures_are_the_counts_and_say_so():
    t = table(query(by=[Dimension.SEX]), _keyed)
    published = protect(t, Audience.TRUE)
    assert [row.value.value for row in published.rows] == [c.count for c in t.cells]
    assert published.protection.method == "none"
    assert published.protection.description_sv == METHOD_TEXTS["none"]["sv"]


# --- the cell key method --------------------------------------------------------------


def test_the_cell_key_method_is_the_default_and_perturbs_every_cell_by_its_key():
    t = table(query(by=[Dimension.SEX, Dimension.AGE]), _keyed)
    published = protect(t, Audience.PROTECTED)
    assert published.protection.method == "cell-key"
    assert published.protection.parameters == {
        "table": "ptable_default.csv",
        "max_noise": 5,
        "smallest_shown": 5,
        "key_range": 256,
        "variance": 3.0,
    }
    for cell, row in zip(t.cells, published.rows, strict=True):
        assert (row.geography, row.period, row.categories) == (
            cell.geography,
            cell.period,
            cell.categories,
        )
        assert row.value.value == SHIPPED.perturb(cell.count, cell.key)
    assert any(r.value.value != c.count for r, c in zip(published.rows, t.cells, strict=True))


def test_no_small_count_is_shown_and_zero_stays_zero():
    q = query(by=[Dimension.CODE])
    for shift in range(300):
        t = table(
            q,
            lambda g, c, shift=shift: {
                "count": (ord(c[0][-1]) + shift) % 7,
                "key": 7919 * shift + ord(c[0][0]),
            },
        )
        for cell, row in zip(t.cells, protect(t, Audience.PROTECTED).rows, strict=True):
            assert row.value.value not in (1, 2, 3, 4)
            assert row.value.value is not None and row.value.value >= 0
            if cell.count == 0:
                assert row.value.value == 0


def test_the_same_cell_shows_the_same_value_however_it_is_asked():
    # A month asked as a month and as a one-month range is the same period, and a
    # cell's key is its persons', so the cell shows one value in every table.
    as_month = query(period=Period.parse("2026-10"))
    as_range = query(
        by=[Dimension.SEX],
        geographies=[municipality(VALLENTUNA_CODE, "Vallentuna"), municipality()],
        period=Period.parse("2026-10..2026-10"),
    )
    alone = table(as_month, lambda g, c: {"count": 17, "key": 987654321})
    within = table(
        as_range,
        lambda g, c: (
            {"count": 17, "key": 987654321}
            if g.code == VASBY_CODE and c == ("total",)
            else {"count": 9, "key": 5}
        ),
    )
    value_alone = protect(alone, Audience.PROTECTED).rows[0].value
    value_within = next(
        row.value
        for row in protect(within, Audience.PROTECTED).rows
        if row.geography.code == VASBY_CODE and row.categories == ("total",)
    )
    assert value_alone == value_within


def test_a_deployment_can_load_another_perturbation_table(settings, tmp_path):
    path = tmp_path / "agency.csv"
    path.write_text(
        "pcv,ckey,pvalue\n"
        + "".join(f"{p},{k},{1 if k else -p}\n" for p in (1, 2, 3) for k in (0, 1))
    )
    settings.INUK_STATS_PTABLE = str(path)
    t = table(query(), lambda g, c: {"count": 30, "key": 3})
    published = protect(t, Audience.PROTECTED)
    assert published.rows[0].value.value == 31  # 30 uses pcv 3's row, key 3 mod 2 = 1
    assert published.protection.parameters["table"] == "agency.csv"


# --- shares and medians ---------------------------------------------------------------


def test_a_share_is_the_published_count_over_the_published_base():
    t = table(
        query(Indicator.RESULTS),
        lambda g, c: {"count": 40, "key": 11, "base": 90, "base_key": 12345},
    )
    row = protect(t, Audience.PROTECTED).rows[0]
    count, base = SHIPPED.perturb(40, 11), SHIPPED.perturb(90, 12345)
    assert (row.value.value, row.base.value) == (count, base)
    assert row.share.value == pytest.approx(count / base)


def test_a_share_is_never_above_one_though_the_noise_may_lift_the_count_above_its_base():
    up = next(k for k in range(256) if SHIPPED.noise(40, k) > 0)
    down = next(k for k in range(256) if SHIPPED.noise(40, k) < 0)
    t = table(
        query(Indicator.RESULTS),
        lambda g, c: {"count": 40, "key": up, "base": 40, "base_key": down},
    )
    row = protect(t, Audience.PROTECTED).rows[0]
    assert row.value.value > row.base.value
    assert row.share.value == 1.0


@pytest.mark.parametrize("base", [1, 2, 3, 4])
def test_a_share_whose_base_is_below_the_smallest_count_shown_is_not_shown(base):
    # Whatever the noise does to the base (zero, or five and up), the share is hidden.
    for key in range(256):
        t = table(
            query(Indicator.RESULTS),
            lambda g, c, key=key: {"count": 1, "key": key, "base": base, "base_key": key},
        )
        row = protect(t, Audience.PROTECTED).rows[0]
        if row.base.value is not None and row.base.value >= 5:
            assert row.share.value is not None
        else:
            assert row.share.mark in (Mark.PROTECTED, Mark.NOT_APPLICABLE)
            assert row.share.value is None


def test_a_share_whose_base_is_small_is_hidden_under_the_threshold_method(threshold):
    t = table(
        query(Indicator.RESULTS, by=[Dimension.SEX]),
        lambda g, c: {"count": 2, "key": 0, "base": 3 if c == ("K",) else 8, "base_key": 0},
    )
    rows = {row.categories: row for row in protect(t, Audience.PROTECTED).rows}
    assert rows[("K",)].share.mark is Mark.PROTECTED
    assert rows[("K",)].base.mark is Mark.PROTECTED
    # M's base alone would give K's away from the total's: hidden too, and its share.
    assert rows[("M",)].base.mark is Mark.PROTECTED
    assert rows[("M",)].share.mark is Mark.PROTECTED


def test_a_share_of_nobody_is_not_applicable():
    t = table(query(Indicator.RESULTS), lambda g, c: {"count": 0, "key": 0, "base": 0})
    for audience in Audience:
        assert protect(t, audience).rows[0].share.mark is Mark.NOT_APPLICABLE


def test_a_share_is_true_for_the_national_analyst():
    t = table(query(Indicator.RESULTS), lambda g, c: {"count": 1, "key": 0, "base": 3})
    assert protect(t, Audience.TRUE).rows[0].share.value == pytest.approx(1 / 3)


def test_a_median_is_shown_only_for_a_published_count_of_at_least_the_smallest_shown(threshold):
    t = table(
        query(Indicator.ENDED, by=[Dimension.SEX]),
        lambda g, c: {
            "count": {"K": 3, "M": 12, "total": 15}[c[0]],
            "key": 0,
            "median_days": 42.5,
        },
    )
    rows = {row.categories[0]: row for row in protect(t, Audience.PROTECTED).rows}
    assert rows["K"].median_days.mark is Mark.PROTECTED
    assert rows["M"].median_days.mark is Mark.PROTECTED  # M is hidden to protect K
    assert rows["total"].median_days.value == 42.5
    assert protect(t, Audience.TRUE).rows[0].median_days.value == 42.5


def test_a_median_of_no_ended_intervention_is_not_applicable():
    t = table(query(Indicator.ENDED), lambda g, c: {"count": 0, "key": 0})
    assert protect(t, Audience.PROTECTED).rows[0].median_days.mark is Mark.NOT_APPLICABLE


# --- marks -------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["cell-key", "threshold"])
def test_the_engines_marks_pass_through_for_every_audience(settings, method):
    settings.INUK_STATS_PROTECTION = method
    marks = {"municipal": Mark.NONE, "af": Mark.MISSING, "total": Mark.NOT_APPLICABLE}
    t = table(
        query(Indicator.RESULTS, by=[Dimension.SOURCE]),
        lambda g, c: {"count": 0, "key": 0, "base": 0, "mark": marks[c[0]]},
    )
    for audience in Audience:
        rows = {row.categories[0]: row for row in protect(t, audience).rows}
        for category in ("af", "total"):
            row = rows[category]
            assert row.value == row.share == row.base
            assert row.value.mark is marks[category] and row.value.value is None
            assert row.value.text == str(marks[category])


def test_every_answer_says_which_method_protected_it_in_both_languages(threshold):
    protection = protect(table(query(), _keyed), Audience.PROTECTED).protection
    assert protection.method == "threshold"
    assert protection.parameters == {"smallest_shown": 5, "secondary_suppression": True}
    assert "1 och 4" in protection.description_sv
    assert "1 to 4" in protection.description_en
