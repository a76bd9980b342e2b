"""The indicators of SPEC §10 straight from the current state, against hand-computed values."""

from __future__ import annotations

import datetime as dt

from inuk.stats.table import Mark
from tests.conftest import GOTEBORG_CODE, VALLENTUNA_CODE, VASBY_CODE
from tests.ledger.conftest import ANNA, BO, result, tx
from tests.stats.conftest import CILLA, DAVID, EVA

D = dt.date


# --- participants ----------------------------------------------------------------------


def test_an_intervention_spanning_months_counts_in_each_month_it_touches(book):
    book.apply(tx("R", start=D(2024, 1, 31), end=D(2024, 3, 1)))

    counts = [book.ask("participants", f"2024-{m:02d}")[0] for m in range(1, 5)]

    assert counts == [1, 1, 1, 0]


def test_a_person_in_two_months_is_one_participant_of_the_quarter_and_the_year(book):
    book.apply(
        tx("R", code="SYV", start=D(2024, 1, 5), end=D(2024, 1, 20)),
        tx("R", code="KAR", start=D(2024, 2, 5), end=D(2024, 2, 20)),
        tx("R", person=BO, start=D(2024, 2, 1), end=D(2024, 2, 2)),
    )

    assert book.ask("participants", "2024-01") == [1]
    assert book.ask("participants", "2024-02") == [2]
    assert book.ask("participants", "2024-Q1") == [2]
    assert book.ask("participants", "2024") == [2]
    assert book.ask("participants", "2024-01..2024-02") == [2]


def test_an_ongoing_intervention_counts_up_to_today_and_never_beyond(book):
    # TODAY is 2024-06-15.
    book.apply(tx("R", start=D(2024, 5, 20), end=None))

    assert book.ask("participants", "2024-05") == [1]
    assert book.ask("participants", "2024-06") == [1]
    assert book.ask("participants", "2024-07") == [0]
    assert book.ask("participants", "2024") == [1]


def test_an_open_intervention_starting_after_today_is_not_ongoing_yet(book):
    book.apply(tx("R", start=D(2024, 6, 20), end=None))

    assert book.ask("participants", "2024-06") == [0]
    assert book.ask("started", "2024-06") == [1]


def test_a_borttag_removes_a_counted_intervention(book):
    book.apply(tx("R", start=D(2024, 1, 5), end=D(2024, 1, 20)), tx("R", person=BO))
    assert book.ask("participants", "2024-01") == [2]

    book.apply(tx("B", at="2024-02-01 10:00", start=D(2024, 1, 5)))

    assert book.ask("participants", "2024-01") == [1]
    assert book.table("participants", "2024-01").cells[0].key == book.key(BO)


def test_an_andring_moving_the_end_date_across_a_month_boundary_moves_the_figures(book):
    book.apply(tx("R", start=D(2024, 1, 10), end=D(2024, 1, 31)))
    assert (book.ask("ended", "2024-01"), book.ask("ended", "2024-02")) == ([1], [0])
    assert book.ask("participants", "2024-02") == [0]

    book.apply(tx("A", at="2024-02-05 10:00", start=D(2024, 1, 10), end=D(2024, 2, 1)))

    assert (book.ask("ended", "2024-01"), book.ask("ended", "2024-02")) == ([0], [1])
    assert book.ask("participants", "2024-02") == [1]


def test_a_person_in_two_municipalities_is_one_participant_of_the_county_and_the_country(book):
    book.apply(tx("R", start=D(2024, 1, 5), end=D(2024, 1, 20)))
    book.apply(
        tx("R", start=D(2024, 1, 10), end=D(2024, 2, 20), kommunkod=VALLENTUNA_CODE),
        organisation=book.vallentuna,
    )

    table = book.table(
        "participants", "2024-01", geographies=(VASBY_CODE, VALLENTUNA_CODE, "01", "SE")
    )

    assert [c.count for c in table.cells] == [1, 1, 1, 1]
    assert {c.key for c in table.cells} == {book.key(ANNA)}
    assert book.ask("participants", "2024-01", geographies=(GOTEBORG_CODE,)) == [0]


def test_municipalities_are_compared_side_by_side_in_the_order_asked(book):
    book.apply(tx("R", start=D(2024, 1, 5), end=D(2024, 1, 20)), tx("R", person=BO))
    book.apply(tx("R", person=CILLA, kommunkod=VALLENTUNA_CODE), organisation=book.vallentuna)

    table = book.table("participants", "2024-01", geographies=(VALLENTUNA_CODE, VASBY_CODE))

    assert [(c.geography.code, c.count) for c in table.cells] == [
        (VALLENTUNA_CODE, 1),
        (VASBY_CODE, 2),
    ]


def test_the_cell_key_sums_each_distinct_persons_record_key_once(book):
    book.apply(
        tx("R", code="SYV", start=D(2024, 1, 5), end=D(2024, 1, 20)),
        tx("R", code="KAR", start=D(2024, 1, 6), end=D(2024, 1, 21)),
        tx("R", person=BO, start=D(2024, 1, 7), end=D(2024, 1, 8)),
    )

    cell = book.table("started", "2024-01").cells[0]

    assert (cell.count, cell.key) == (3, book.key(ANNA, BO))


# --- breakdowns -------------------------------------------------------------------------


def test_a_breakdown_by_sex_carries_its_total_and_its_zeros(book):
    book.apply(tx("R", person=ANNA), tx("R", person=CILLA), tx("R", person=BO))

    table = book.table("participants", "2024-01", by=["sex"])

    assert [(c.categories, c.count) for c in table.cells] == [
        (("K",), 2),
        (("M",), 1),
        (("total",), 3),
    ]
    assert table.cells[1].key == book.key(BO)


def test_age_group_is_the_start_year_minus_the_birth_year(book):
    # Eva, born 2005, is 19 at a 2024 start and 20 at a 2025 start.
    book.apply(
        tx("R", person=EVA, start=D(2024, 12, 30), end=D(2025, 1, 10)),
        tx("R", person=EVA, code="KAR", start=D(2025, 1, 2), end=D(2025, 1, 3)),
        tx("R", person=CILLA, start=D(2025, 1, 5), end=D(2025, 1, 6)),
    )

    table = book.table("participants", "2025-01", by=["age"])

    assert [(c.categories[0], c.count) for c in table.cells] == [
        ("16-19", 1),
        ("20-24", 1),
        ("25-29", 0),
        ("30+", 1),
        ("total", 2),
    ]


def test_two_breakdowns_give_every_combination_row_major(book):
    book.apply(
        tx("R", person=ANNA, code="SYV"),
        tx("R", person=ANNA, code="KAR", start=D(2024, 1, 2)),
        tx("R", person=BO, code="KAR"),
    )

    table = book.table("participants", "2024-01", by=["sex", "code"])
    counts = {c.categories: c.count for c in table.cells}

    codes = ["ATR", "JSA", "KAR", "MOT", "OVR", "PRA", "SPR", "SUB", "SYV", "UTB", "total"]
    assert [c.categories for c in table.cells] == [
        (sex, code) for sex in ("K", "M", "total") for code in codes
    ]
    assert (counts["K", "KAR"], counts["K", "SYV"], counts["K", "total"]) == (1, 1, 1)
    assert (counts["total", "KAR"], counts["total", "total"], counts["M", "PRA"]) == (2, 2, 0)


def test_af_only_persons_count_under_af_and_in_both(book):
    book.apply(tx("R", person=ANNA))
    book.apply(tx("R", person=BO), organisation=book.af)

    assert book.ask("participants", "2024-01", source="af") == [1]
    assert book.ask("participants", "2024-01", source="municipal") == [1]
    assert book.ask("participants", "2024-01") == [2]
    assert book.ask("participants", "2024-01", by=["source"]) == [1, 1, 2]


def test_a_person_with_a_samordningsnummer_counts_like_anyone(book):
    book.apply(tx("R", person=DAVID, start=D(2024, 3, 1), end=D(2024, 3, 2)))

    table = book.table("started", "2024-03", by=["age"])

    assert [c.count for c in table.cells] == [0, 0, 1, 0, 1]


def test_a_withdrawn_delivery_stops_counting(book):
    book.apply(tx("R", person=ANNA))
    book.apply(tx("R", person=BO, at="2024-01-11 10:00"))
    assert book.ask("participants", "2024-01") == [2]

    book.withdraw(book.deliveries[-1])

    assert book.ask("participants", "2024-01") == [1]


# --- started and ended --------------------------------------------------------------


def test_started_counts_interventions_not_persons(book):
    book.apply(
        tx("R", code="SYV", start=D(2024, 2, 1)),
        tx("R", code="KAR", start=D(2024, 2, 29)),
        tx("R", code="MOT", start=D(2024, 3, 1)),
    )

    assert book.ask("started", "2024-02") == [2]
    assert book.ask("started", "2024-Q1") == [3]


def test_ended_gives_the_median_length_in_days_both_ends_counted(book):
    book.apply(
        tx("R", code="SYV", start=D(2024, 3, 1), end=D(2024, 3, 1)),  # 1 day
        tx("R", code="KAR", start=D(2024, 2, 1), end=D(2024, 3, 10)),  # 39 days
        tx("R", person=BO, start=D(2024, 3, 1), end=D(2024, 3, 10)),  # 10 days
        tx("R", person=CILLA, start=D(2024, 3, 1), end=D(2024, 3, 11)),  # 11 days
        tx("R", person=EVA, start=D(2024, 3, 1), end=None),  # not ended
    )

    cells = book.table("ended", "2024-03", by=["sex"]).cells

    assert [(c.count, c.median_days) for c in cells] == [(3, 11.0), (1, 10.0), (4, 10.5)]


# --- results ------------------------------------------------------------------------


def test_a_result_counts_from_the_start_to_90_days_after_the_end_both_included(book):
    start, end = D(2024, 1, 10), D(2024, 1, 31)
    book.apply(
        tx("R", person=ANNA, start=start, end=end),
        result("R", person=ANNA, code="STU", start=start),  # first day: counts
        tx("R", person=BO, start=start, end=end),
        result("R", person=BO, code="ARB", start=end + dt.timedelta(days=90)),  # last: counts
        tx("R", person=CILLA, start=start, end=end),
        result("R", person=CILLA, code="ARB", start=start - dt.timedelta(days=1)),  # before
        tx("R", person=EVA, start=start, end=end),
        result("R", person=EVA, code="ARB", start=end + dt.timedelta(days=91)),  # too late
        tx("R", person=DAVID, start=start, end=D(2024, 2, 1)),  # ended in another month
        result("R", person=DAVID, code="ARB", start=start),
    )

    cells = book.table("results", "2024-01", by=["code"]).cells
    by_code = {c.categories[0]: (c.count, c.base) for c in cells}

    assert by_code["STU"] == (1, 4)
    assert by_code["ARB"] == (1, 4)
    assert by_code["AMS"] == (0, 4)
    assert by_code["total"] == (2, 4)
    assert cells[-1].key == book.key(ANNA, BO)
    assert cells[-1].base_key == book.key(ANNA, BO, CILLA, EVA)


def test_a_result_reported_by_another_deliverer_counts(book):
    book.apply(tx("R", person=ANNA, start=D(2024, 1, 10), end=D(2024, 1, 31)))
    book.apply(result("R", person=ANNA, code="AFI", start=D(2024, 2, 5)), organisation=book.af)

    cell = book.table("results", "2024-01").cells[0]

    assert (cell.count, cell.base) == (1, 1)


def test_a_person_with_two_ended_interventions_counts_once_in_the_base(book):
    book.apply(
        tx("R", code="SYV", start=D(2024, 1, 2), end=D(2024, 1, 5)),
        tx("R", code="KAR", start=D(2024, 1, 6), end=D(2024, 1, 9)),
        result("R", code="STU", start=D(2024, 1, 8)),
    )

    cell = book.table("results", "2024-01").cells[0]

    assert (cell.count, cell.base) == (1, 1)


# --- collaboration ------------------------------------------------------------------


def test_collaboration_counts_persons_with_both_a_municipal_and_an_af_intervention(book):
    book.apply(
        tx("R", person=ANNA, start=D(2024, 1, 2), end=D(2024, 1, 5)),
        tx("R", person=BO, start=D(2024, 1, 2), end=D(2024, 1, 5)),
    )
    book.apply(
        tx("R", person=ANNA, code="JSA", start=D(2024, 1, 20), end=D(2024, 2, 5)),
        tx("R", person=CILLA, code="JSA", start=D(2024, 1, 20), end=D(2024, 2, 5)),
        organisation=book.af,
    )

    assert book.ask("collaboration", "2024-01") == [1]
    assert book.ask("collaboration", "2024-02") == [0]
    assert book.ask("collaboration", "2024-01", by=["code"])[-1] == 1
    assert book.table("collaboration", "2024-01").cells[0].key == book.key(ANNA)


def test_collaboration_by_source_is_not_applicable_but_its_total_is(book):
    book.apply(tx("R", person=ANNA))
    book.apply(tx("R", person=ANNA, code="JSA"), organisation=book.af)

    cells = book.table("collaboration", "2024-01", by=["source"]).cells

    assert [(c.mark, c.count) for c in cells] == [
        (Mark.NOT_APPLICABLE, 0),
        (Mark.NOT_APPLICABLE, 0),
        (Mark.NONE, 1),
    ]


def test_collaboration_in_one_municipality_needs_both_sources_there(book):
    book.apply(tx("R", person=ANNA))
    book.apply(tx("R", person=ANNA, code="JSA", kommunkod=VALLENTUNA_CODE), organisation=book.af)

    assert book.ask("collaboration", "2024-01", geographies=(VASBY_CODE, "01")) == [0, 1]


# --- missing data -------------------------------------------------------------------


def test_a_municipality_that_has_never_delivered_has_no_data(book):
    book.apply(tx("R", person=BO, kommunkod=GOTEBORG_CODE), organisation=book.af)

    table = book.table("participants", "2024-01", geographies=(GOTEBORG_CODE, "14"), by=["source"])

    assert [(c.mark, c.count) for c in table.cells] == [
        (Mark.MISSING, 0),
        (Mark.NONE, 1),
        (Mark.MISSING, 0),
        (Mark.NONE, 0),
        (Mark.NONE, 1),
        (Mark.NONE, 1),
    ]
