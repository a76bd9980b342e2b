"""The one masking rule, tried on personnummer in every disguise a file, name or log may hold."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import luhn

from inuk.format import masking
from inuk.format.masking import (
    holds_personnummer,
    is_personnummer,
    mask_personnummer,
    plausible_month_and_day,
    redact,
)
from tests.conftest import VASBY_ORGNR

SEPARATORS = ["", "-", "+", " ", "\u2013", "\u2212", "\t"]
LETTERS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzåäöABCXYZ_.", max_size=6)


@st.composite
def personnummer(draw: st.DrawFn) -> tuple[str, str]:
    """A personnummer or samordningsnummer: its date part as written (6 or 8), its last four."""
    born = draw(st.dates(dt.date(1890, 1, 1), dt.date(2025, 12, 31)))
    day = born.day + (60 if draw(st.booleans()) else 0)
    eight = f"{born.year:04}{born.month:02}{day:02}"
    birth_number = draw(st.integers(1, 999))
    eleven = f"{eight}{birth_number:03}"
    twelve = eleven + luhn.calc_check_digit(eleven[2:])
    date = eight if draw(st.booleans()) else eight[2:]
    return date, twelve[-4:]


@st.composite
def disguised(draw: st.DrawFn) -> tuple[str, str, str]:
    """Text holding a personnummer in some disguise, the masked form it must show, its last four."""
    date, last_four = draw(personnummer())
    separator = draw(st.sampled_from(SEPARATORS))
    before = draw(LETTERS | st.sampled_from(["", "Person ", "fil_", "id=", "(", "x"]))
    after = draw(LETTERS | st.sampled_from(["", ".xml", " har fel", ")", "y"]))
    text = f"{before}{date}{separator}{last_four}{after}"
    return text, f"{before}{date}-****{after}", last_four


@pytest.mark.slow  # many drawn texts: seconds
@settings(max_examples=500)
@given(disguised())
def test_every_disguise_is_masked_to_its_date_part(case):
    text, masked, _ = case
    assert redact(text) == masked
    assert holds_personnummer(text)


@pytest.mark.slow  # many drawn texts: seconds
@settings(max_examples=300)
@given(st.lists(disguised(), min_size=1, max_size=4), st.sampled_from([" ", ", ", "\n", ";"]))
def test_no_last_four_digits_survive_in_longer_text(cases, joiner):
    text = joiner.join(case[0] for case in cases)
    masked = redact(text)
    for _, shown, _ in cases:
        assert shown in masked
    assert masked.count("-****") == len(cases)


@pytest.mark.slow  # many drawn texts: seconds
@settings(max_examples=300)
@given(personnummer(), st.sampled_from(SEPARATORS))
def test_a_value_meant_as_a_personnummer_never_shows_its_last_four(case, separator):
    date, last_four = case
    assert mask_personnummer(f"{date}{separator}{last_four}") == f"{date}-****"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("8812120387", "881212-****"),  # not 88121203-****, as a 10-digit number once showed
        ("881212-0387", "881212-****"),
        ("19881212038", "***********"),  # a digit short: still nothing of it is shown
        ("1988", "****"),
    ],
)
def test_a_mistyped_personnummer_is_masked_too(text, shown):
    assert mask_personnummer(text) == shown


@pytest.mark.parametrize(
    "text",
    [
        VASBY_ORGNR,  # an organisation number: its third digit is never a month's
        "162120000019",
        "delivery 8f1e2a7c-1988-1212-0387-3b5a9c0d1e2f",  # a UUID's groups are too short
        "sha256 9a19881212038700ff",  # 14 digits: longer than any personnummer
        "19881312-0387",  # month 13
        "19880230-0387",  # 30 February
        "19881260 0387",  # day 60: neither a day nor a samordningsnummer's
        "4 transaktioner, 21474.8 MB",
    ],
)
def test_it_leaves_what_cannot_be_a_personnummer_alone(text):
    assert redact(text) == text
    assert not holds_personnummer(text)


def test_a_samordningsnummer_day_is_plausible_and_day_sixty_is_not():
    assert plausible_month_and_day("0161")
    assert plausible_month_and_day("0289")  # 29 February + 60
    assert not plausible_month_and_day("0290")
    assert not plausible_month_and_day("0160")


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("19881212-0387", True),
        ("  8812120387 ", True),
        ("881212 0387", True),
        ("SystemX 19881212-0387", False),
        ("SystemX", False),
        (VASBY_ORGNR, False),
    ],
)
def test_is_personnummer_says_whether_the_text_is_nothing_else(text, verdict):
    assert is_personnummer(text) is verdict


def test_a_random_id_is_never_one_that_masking_would_cut(monkeypatch):
    # This receipt id was drawn in a test run, and its audit entry named it cut:
    # "82651028-0331" reads as a personnummer (day 28 of October).
    cut = uuid.UUID("82651028-0331-40ae-a41b-bb8f96b641c2")
    whole = uuid.UUID("3f2a9c1e-7b4d-4e8a-9c6f-1a2b3c4d5e6f")
    drawn = iter([cut, whole])
    monkeypatch.setattr(masking.uuid, "uuid4", lambda: next(drawn))

    assert redact(str(cut)) != str(cut)
    assert masking.random_id() == whole


def test_random_ids_pass_the_masking_whole():
    for _ in range(5_000):
        drawn = masking.random_id()
        assert redact(str(drawn)) == str(drawn) and redact(drawn.hex) == drawn.hex
