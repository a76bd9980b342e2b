"""A delivery written in any format reads back as the same records."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inuk.format.records import INTERVENTION, RESULT
from inuk.format.writers import Kommun, Person, Transaction, to_bytes
from tests.conftest import VASBY_CODE, VASBY_ORGNR
from tests.format.readers.samples import (
    expected_values,
    read,
    records,
    small_delivery,
    values,
)

FORMATS = ["xml", "csv", "json"]


@pytest.mark.parametrize("format", FORMATS)
def test_a_written_delivery_reads_back_as_the_same_records(format):
    delivery = small_delivery()
    items = read(format, to_bytes(format, delivery))
    assert [values(r) for r in records(items)] == expected_values(delivery)
    assert items == records(items)  # nothing is wrong with it


@pytest.mark.parametrize("format", FORMATS)
def test_records_know_their_kommun_person_and_item_in_every_format(format):
    items = records(read(format, to_bytes(format, small_delivery())))
    positions = [
        (r.location.kommun, r.location.person, r.location.kind, r.location.item) for r in items
    ]
    assert positions == [
        (0, 0, INTERVENTION, 0),
        (0, 0, INTERVENTION, 1),
        (0, 0, RESULT, 0),
        (0, 1, INTERVENTION, 0),
        (1, 0, RESULT, 0),
    ]


def test_the_three_formats_give_identical_records():
    delivery = small_delivery()
    read_back = {f: [values(r) for r in records(read(f, to_bytes(f, delivery)))] for f in FORMATS}
    assert read_back["xml"] == read_back["csv"] == read_back["json"]


def test_special_characters_are_escaped_in_every_format():
    system = 'Vägledning & <Stöd> "2"; v.4'
    for format in FORMATS:
        data = to_bytes(format, small_delivery())
        assert system in [r.system for r in records(read(format, data))], format
    assert b"&amp; &lt;St\xc3\xb6d&gt;" in to_bytes("xml", small_delivery())


def test_a_value_of_none_is_left_out():
    delivery = [
        Kommun(
            VASBY_ORGNR,
            None,
            [
                Person(
                    None, [Transaction("2024-01-01 10:00:00", "Registrering", "SYV", "20240101")]
                ),
            ],
        )
    ]
    xml = to_bytes("xml", delivery)
    assert b"Kommunkod" not in xml
    assert b"Personnummer" not in xml
    assert b"SlutdatumInsats" not in xml
    for format in FORMATS:
        (record,) = records(read(format, to_bytes(format, delivery)))
        assert (record.kommunkod, record.end) == ((None if format != "csv" else ""), None)


def test_persons_may_be_a_generator_written_once():
    def persons():
        yield from small_delivery()[0].persons

    data = to_bytes("xml", [Kommun(VASBY_ORGNR, VASBY_CODE, persons())])
    assert len(records(read("xml", data))) == 4


_text = (
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Cn")), min_size=1, max_size=20
    )
    .map(str.strip)
    .filter(bool)
)


@st.composite
def deliveries(draw) -> list[Kommun]:
    def transaction(kind: str) -> Transaction:
        return Transaction(
            draw(_text),
            draw(_text),
            draw(_text),
            draw(_text),
            draw(st.none() | _text) if kind == INTERVENTION else None,
            draw(_text),
        )

    kommuner = []
    for _ in range(draw(st.integers(1, 3))):
        persons = []
        for _ in range(draw(st.integers(1, 3))):
            interventions = [transaction(INTERVENTION) for _ in range(draw(st.integers(0, 3)))]
            results = [transaction(RESULT) for _ in range(draw(st.integers(0, 2)))]
            if interventions or results:
                persons.append(Person(draw(_text), interventions, results))
        if persons:
            kommuner.append(Kommun(draw(_text), draw(_text), persons))
    return kommuner


@pytest.mark.slow  # many drawn texts: seconds
@settings(max_examples=60, deadline=None)
@given(deliveries())
def test_any_text_survives_a_round_trip_in_every_format(delivery):
    if not delivery:
        return
    expected = expected_values(delivery)
    for format in FORMATS:
        got = [values(r) for r in records(read(format, to_bytes(format, delivery)))]
        assert got == expected, format
