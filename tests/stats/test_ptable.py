"""Perturbation tables: our generator keeps its promises, and any pcv,ckey,pvalue table loads."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from inuk.stats.ptable import PerturbationTable, PerturbationTableError, generate

# (max noise D, variance V, smallest count shown js)
PARAMETERS = [(5, 3.0, 5), (2, 1.0, 3), (3, 2.0, 1), (4, 1.5, 4), (6, 4.0, 2)]


def _moments(table: PerturbationTable, count: int) -> tuple[float, float]:
    distribution = table.distribution(count)
    mean = sum((value - count) * p for value, p in distribution.items())
    variance = sum((value - count - mean) ** 2 * p for value, p in distribution.items())
    return mean, variance


@pytest.mark.parametrize(("max_noise", "variance", "smallest_shown"), PARAMETERS)
def test_a_generated_table_keeps_every_promise_of_its_parameters(
    max_noise, variance, smallest_shown
):
    table = generate(max_noise, variance, smallest_shown)
    assert table.key_range == 256
    for count in range(0, table.max_pcv + 30):
        published = {table.perturb(count, key) for key in range(table.key_range)}
        if count == 0:
            assert published == {0}, "zero stays zero"
            continue
        assert min(published) >= 0, f"count {count} can turn negative"
        assert not published & set(range(1, smallest_shown)), (
            f"count {count} can be published as a small count: {sorted(published)}"
        )
        assert all(abs(value - count) <= max_noise for value in published)
        mean, spread = _moments(table, count)
        # Unbiased up to one key's share of the largest move, the keys being whole.
        assert abs(mean) <= max_noise / table.key_range, (count, mean)
        if count - max_noise >= smallest_shown:  # every value of count ± D allowed
            # As near V as whole keys allow.
            assert spread == pytest.approx(variance, abs=2 / table.key_range), (count, spread)


@st.composite
def parameters(draw):
    max_noise = draw(st.integers(1, 8))
    smallest_shown = draw(st.integers(1, max_noise + 1))
    variance = draw(st.floats(0.2, max_noise**2 / 2))
    return max_noise, variance, smallest_shown


@pytest.mark.slow  # many drawn tables: seconds
@hypothesis_settings(max_examples=25, deadline=None)
@given(parameters())
def test_any_parameters_the_generator_accepts_give_a_table_that_keeps_its_promises(params):
    test_a_generated_table_keeps_every_promise_of_its_parameters(*params)


def test_small_counts_are_never_published_as_themselves():
    table = generate(5, 3.0, 5)
    for count in range(1, 5):
        assert count not in table.distribution(count)


def test_small_counts_do_move_so_the_noise_hides_them():
    table = generate(5, 3.0, 5)
    assert table.distribution(1).keys() >= {0, 5}


def test_counts_above_the_table_use_its_last_row():
    table = generate(5, 3.0, 5)
    for key in range(256):
        assert table.noise(1000, key) == table.noise(table.max_pcv, key)


def test_the_noise_depends_on_the_cell_key_reduced_to_the_tables_range():
    table = generate(5, 3.0, 5)
    assert table.noise(40, 7) == table.noise(40, 7 + 256 * 12345)
    assert len({table.noise(40, key) for key in range(256)}) > 5


def test_the_shipped_table_is_the_generators_with_the_documented_defaults():
    shipped = PerturbationTable.shipped()
    assert shipped.rows == generate().rows
    assert shipped.parameters == {
        "max_noise": 5,
        "variance": 3.0,
        "smallest_shown": 5,
        "key_range": 256,
    }
    assert shipped.smallest_shown == 5


def test_a_table_survives_writing_and_reading_as_csv():
    table = generate(3, 2.0, 3, key_range=64)
    text = table.to_csv()
    assert text.splitlines()[:2] == ["pcv,ckey,pvalue", f"1,0,{table.noise(1, 0)}"]
    assert PerturbationTable.from_csv(text).rows == table.rows


def test_a_table_is_read_with_quoted_headers_a_pcv_zero_row_and_extra_columns():
    lines = ['"pcv","ckey","pvalue","p"', "0,0,0,1", "0,1,0,1"]
    lines += [f"1,{k},{-1 if k == 0 else 0},0.5" for k in range(2)]
    lines += [f"2,{k},{k},0.5" for k in range(2)]
    table = PerturbationTable.from_csv("\n".join(lines))
    assert table.rows == ((-1, 0), (0, 1))
    assert table.perturb(5, 1) == 6  # above the table: its last row


def test_counts_above_a_cycling_table_reuse_its_last_rows_in_turn():
    # Rows 3..4 repeat above 4, as ONS's table repeats 501..750 above 750.
    rows = ((0,), (0,), (-3,), (1,))
    table = PerturbationTable(rows, cycle=2)
    assert [table.perturb(c, 0) for c in (3, 4, 5, 6, 7, 8)] == [0, 5, 2, 7, 4, 9]


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("pcv,ckey\n1,0\n", "lacks the column(s) pvalue"),
        ("pcv,ckey,pvalue\n1,0,0\n1,1,0\n2,0,0\n", "pcv 2 does not have every cell key"),
        ("pcv,ckey,pvalue\n1,0,0\n1,1,0\n1,2,0\n", "power of two"),
        ("pcv,ckey,pvalue\n1,0,-2\n", "negative"),
        ("pcv,ckey,pvalue\n1,0,x\n", "line 2 is not three whole numbers"),
        ("pcv,ckey,pvalue\n1,0,0\n1,0,1\n", "repeats pcv 1, ckey 0"),
        ("pcv,ckey,pvalue\n", "no rows"),
    ],
)
def test_an_unusable_table_is_refused_saying_why(text, complaint):
    with pytest.raises(PerturbationTableError, match=re.escape(complaint)):
        PerturbationTable.from_csv(text)


def test_the_generator_refuses_a_noise_too_small_to_hide_the_small_counts():
    with pytest.raises(PerturbationTableError, match="at least smallest_shown - 1"):
        generate(max_noise=2, variance=1.0, smallest_shown=5)


def test_the_command_writes_a_table_from_its_parameters(tmp_path):
    out = tmp_path / "ptable.csv"
    call_command(
        "ptable",
        "generate",
        "--max-noise",
        "3",
        "--variance",
        "2",
        "--smallest-shown",
        "3",
        "-o",
        str(out),
    )
    assert PerturbationTable.from_file(out).rows == generate(3, 2.0, 3).rows


def test_the_command_describes_the_table_in_use(capsys):
    call_command("ptable", "describe")
    out = capsys.readouterr().out
    assert "ptable_default.csv: counts 1..10, cell keys 0..255, largest noise ±5" in out
    assert "smallest count shown 5" in out
    assert "    1       0.000" in out  # count 1: no bias


def test_the_command_says_what_is_wrong_with_a_table(tmp_path):
    from django.core.management.base import CommandError

    bad = tmp_path / "bad.csv"
    bad.write_text("pcv,ckey,pvalue\n1,0,-2\n")
    with pytest.raises(CommandError, match="pcv 1 would be published as a negative count"):
        call_command("ptable", "describe", str(bad))


def test_a_table_that_cannot_be_read_stops_the_service(settings, tmp_path):
    from django.core.management.base import SystemCheckError

    settings.INUK_STATS_PTABLE = str(tmp_path / "missing.csv")
    with pytest.raises(SystemCheckError, match=r"inuk\.E101"):
        call_command("check")
