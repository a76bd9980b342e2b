"""Reading JSON deliveries: the same tree as the XML, streamed."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inuk.format.errors import FileRefused
from inuk.format.readers import json as json_format
from inuk.format.records import INTERVENTION
from inuk.format.writers import to_bytes
from tests.conftest import ANNA, VASBY_CODE, VASBY_ORGNR
from tests.format.readers.samples import (
    expected_values,
    problems,
    read,
    records,
    refusal,
    small_delivery,
    values,
)

INSATS = {
    "Transaktionsdatum": "2024-02-12 09:15:02",
    "Status": "Registrering",
    "Insatskod": "KAR",
    "StartdatumInsats": "20240108",
    "System": "SystemX",
}


def person(**changes) -> dict:
    return {"Personnummer": ANNA, "Insatslista": [dict(INSATS)], **changes}


def delivery(persons: list | None = None, **kommun_changes) -> dict:
    kommun = {
        "Organisationsnummer": VASBY_ORGNR,
        "Kommunkod": VASBY_CODE,
        "Personlista": persons if persons is not None else [person()],
        **kommun_changes,
    }
    return {"Leverans": {"Kommunlista": [kommun]}}


def encode(document, **options) -> bytes:
    return json.dumps(document, ensure_ascii=False, **options).encode()


def only_record(document):
    (record,) = records(read("json", encode(document)))
    return record


def with_insats(**changes):
    return delivery([person(Insatslista=[{**INSATS, **changes}])])


# -- What is read -------------------------------------------------------------------


def test_it_reads_each_transaction_with_its_kommun_and_person():
    record = only_record(delivery())
    assert values(record) == (
        INTERVENTION,
        VASBY_ORGNR,
        VASBY_CODE,
        ANNA,
        "2024-02-12 09:15:02",
        "Registrering",
        "KAR",
        "20240108",
        None,
        "SystemX",
    )
    assert record.path("status") == "/Leverans/Kommunlista/0/Personlista/0/Insatslista/0/Status"


@pytest.mark.parametrize("indent", [None, 2, "\t"])
def test_layout_does_not_matter(indent):
    data = to_bytes("json", small_delivery())
    document = json.loads(data)
    items = read("json", encode(document, indent=indent))
    assert [values(r) for r in items] == expected_values(small_delivery())


def test_keys_may_come_in_any_order_even_sorted():
    data = encode(json.loads(to_bytes("json", small_delivery())), sort_keys=True)
    items = read("json", data)
    assert [values(r) for r in items] == expected_values(small_delivery())


def test_a_bom_and_crlf_line_ends_are_accepted():
    data = encode(json.loads(to_bytes("json", small_delivery())), indent=1).replace(b"\n", b"\r\n")
    items = read("json", b"\xef\xbb\xbf" + data)
    assert [values(r) for r in items] == expected_values(small_delivery())


def test_whitespace_around_values_is_stripped_and_null_is_missing():
    record = only_record(with_insats(Status="  Registrering\n", SlutdatumInsats=None, System=None))
    assert (record.status, record.end, record.system) == ("Registrering", None, None)
    assert record.problems == []


def test_values_split_across_read_chunks_are_read_whole():
    long_system = "S" * 200_000
    record = only_record(with_insats(System=long_system))
    assert record.system == long_system


def test_many_persons_are_streamed_in_order():
    persons = [person(Personnummer=f"p{i}") for i in range(3000)]
    items = records(read("json", encode(delivery(persons), indent=2)))
    assert [r.personnummer for r in items] == [f"p{i}" for i in range(3000)]
    assert items[-1].location.person == 2999


# -- Problems in the structure -----------------------------------------------------


def test_a_number_where_text_belongs_is_a_problem():
    record = only_record(with_insats(StartdatumInsats=20240108))
    assert record.start is None
    ((code, field, value),) = [(p.code, p.field, p.value) for p in record.problems]
    assert (code, field, value) == ("ELEMENT_NOT_TEXT", "StartdatumInsats", "20240108")


@pytest.mark.parametrize("value", [True, ["x"], {"a": "b"}, 1.5])
def test_anything_but_a_string_is_not_text(value):
    record = only_record(with_insats(Status=value))
    assert [p.code for p in record.problems] == ["ELEMENT_NOT_TEXT"]


def test_a_personnummer_given_as_a_number_is_not_shown():
    items = records(read("json", encode(delivery([person(Personnummer=int(ANNA))]))))
    assert items[0].personnummer is None
    assert [p.code for p in items[0].problems] == ["ELEMENT_NOT_TEXT"]
    assert ANNA not in repr(items[0].problems)


def test_a_repeated_key_keeps_the_first_value_and_is_a_problem():
    text = encode(with_insats()).replace(
        b'"Status": "Registrering"', b'"Status": "Registrering", "Status": "Borttag"'
    )
    (record,) = records(read("json", text))
    assert record.status == "Registrering"
    assert [(p.code, p.field) for p in record.problems] == [("ELEMENT_REPEATED", "Status")]


def test_an_unknown_key_in_an_insats_is_the_transactions_problem():
    record = only_record(with_insats(Kommentar="x"))
    assert [(p.code, p.path) for p in record.problems] == [
        ("ELEMENT_UNKNOWN", "/Leverans/Kommunlista/0/Personlista/0/Insatslista/0/Kommentar")
    ]


def test_unknown_keys_outside_a_transaction_are_reported_and_the_rest_is_read():
    document = delivery([person(Bilaga="x")], Bilaga=1)
    document["Leverans"]["Bilaga"] = [1, 2]
    document["Bilaga"] = {"a": 1}
    items = read("json", encode(document))
    assert sorted(p.path for p in problems(items)) == [
        "/Bilaga",
        "/Leverans/Bilaga",
        "/Leverans/Kommunlista/0/Bilaga",
        "/Leverans/Kommunlista/0/Personlista/0/Bilaga",
    ]
    assert len(records(items)) == 1


def test_kommun_values_after_the_personlista_are_still_read():
    document = {
        "Leverans": {
            "Kommunlista": [
                {
                    "Personlista": [person()],
                    "Kommunkod": VASBY_CODE,
                    "Organisationsnummer": VASBY_ORGNR,
                }
            ]
        }
    }
    record = only_record(document)
    assert (record.orgnr, record.kommunkod) == (VASBY_ORGNR, VASBY_CODE)


def test_a_kommun_value_of_the_wrong_type_is_a_problem_of_each_transaction():
    items = records(
        read("json", encode(delivery([person(), person()], Organisationsnummer=2120000019)))
    )
    for record in items:
        assert record.orgnr is None
        assert [(p.code, p.path) for p in record.problems] == [
            ("ELEMENT_NOT_TEXT", "/Leverans/Kommunlista/0/Organisationsnummer")
        ]


def test_a_person_without_lists_and_empty_lists_are_problems():
    persons = [person(), {"Personnummer": ANNA}, person(Insatslista=[], Resultatlista=None)]
    items = read("json", encode(delivery(persons)))
    assert [(p.code, p.path) for p in problems(items)] == [
        ("PERSON_WITHOUT_LISTS", "/Leverans/Kommunlista/0/Personlista/1"),
        ("LIST_EMPTY", "/Leverans/Kommunlista/0/Personlista/2/Insatslista"),
    ]


def test_an_empty_personlista_is_a_problem():
    document = delivery()
    document["Leverans"]["Kommunlista"].append(
        {"Organisationsnummer": VASBY_ORGNR, "Kommunkod": VASBY_CODE, "Personlista": []}
    )
    (problem,) = problems(read("json", encode(document)))
    assert (problem.code, problem.path) == ("LIST_EMPTY", "/Leverans/Kommunlista/1/Personlista")


# -- Refusals -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "FILE_EMPTY"),
        (b"  \n", "FILE_EMPTY"),
        (b"[]", "FILE_JSON_SHAPE"),
        (b'"Leverans"', "FILE_JSON_SHAPE"),
        (b"{}", "FILE_JSON_SHAPE"),
        (b'{"Leverans": []}', "FILE_JSON_SHAPE"),
        (b'{"Leverans": {"Kommunlista": {}}}', "FILE_JSON_SHAPE"),
        (b'{"Leverans": {"Kommunlista": ["x"]}}', "FILE_JSON_SHAPE"),
        (encode(delivery(["x"])), "FILE_JSON_SHAPE"),
        (encode(delivery([person(Insatslista={"a": 1})])), "FILE_JSON_SHAPE"),
        (encode(delivery([person(Insatslista=["x"])])), "FILE_JSON_SHAPE"),
        (b'{"Leverans": {"Kommunlista": []}}', "FILE_NO_TRANSACTIONS"),
        (b'{"Leverans": {}}', "FILE_NO_TRANSACTIONS"),
        (b"{'Leverans': 1}", "FILE_INVALID_JSON"),
        (encode(delivery()) + b" {}", "FILE_INVALID_JSON"),
        (
            encode(delivery()).replace(b'"Status": "Registrering"', b'"Status": Registrering'),
            "FILE_INVALID_JSON",
        ),
        (encode(delivery()).replace(b"SystemX", "Ändrat".encode("latin-1")), "FILE_ENCODING"),
        (encode(delivery()).decode().encode("utf-16"), "FILE_ENCODING"),
        (b"{" + b"[" * 100_000, "FILE_INVALID_JSON"),
    ],
)
def test_a_file_that_is_no_delivery_is_refused(data, code):
    assert refusal("json", data).code == code


def test_deeply_nested_values_are_refused_not_a_crash():
    data = encode(delivery([person(Bilaga=0)])).replace(
        b"0}", b"[" * 100_000 + b"]" * 100_000 + b"}"
    )
    assert refusal("json", data).code == "FILE_JSON_SHAPE"


def test_an_invalid_file_is_refused_with_its_line_and_no_content():
    data = encode(delivery(), indent=2).replace(b'"KAR"', b"KAR" + ANNA.encode())
    refused = refusal("json", data)
    assert refused.code == "FILE_INVALID_JSON"
    assert refused.line == 14
    assert "KAR" not in str(refused)


SMALL = encode(json.loads(to_bytes("json", small_delivery())), indent=2)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=len(SMALL.rstrip()) - 1))
def test_a_file_cut_anywhere_is_refused_as_truncated(cut):
    assert refusal("json", SMALL[:cut]).code == "FILE_TRUNCATED"


def test_a_large_file_cut_in_the_middle_is_refused_as_truncated():
    persons = [person(Personnummer=f"p{i}") for i in range(5000)]
    data = encode(delivery(persons))
    got = []
    with pytest.raises(FileRefused) as caught:
        got.extend(json_format.read(io.BytesIO(data[: len(data) // 2])))
    assert caught.value.code == "FILE_TRUNCATED"
    assert 2000 < len(got) < 2600


def test_an_invalid_value_is_refused_without_reading_the_rest_of_the_file():
    class Counting(io.BytesIO):
        requested = 0

        def read(self, size=-1):
            data = super().read(size)
            self.requested += len(data)
            return data

    persons = [person(Personnummer=f"p{i}") for i in range(20_000)]
    data = encode(delivery(persons)).replace(b'"p10"', b"p10", 1)
    stream = Counting(data)
    with pytest.raises(FileRefused) as caught:
        list(json_format.read(stream))
    assert caught.value.code == "FILE_INVALID_JSON"
    assert stream.requested < len(data) / 4


def test_a_kommun_value_repeated_after_the_personlista_is_reported():
    text = encode(delivery()).replace(b"]}]}}", b'], "Kommunkod": "0115"}]}}')
    items = read("json", text)
    assert records(items)[0].kommunkod == VASBY_CODE
    assert [(p.code, p.path) for p in problems(items)] == [
        ("ELEMENT_REPEATED", "/Leverans/Kommunlista/0/Kommunkod")
    ]
