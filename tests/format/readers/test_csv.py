"""Reading CSV deliveries: one row per transaction."""

from __future__ import annotations

import pytest

from inuk.format.records import INTERVENTION, RESULT
from inuk.format.writers import to_bytes
from tests.conftest import ANNA, BO, VALLENTUNA_CODE, VASBY_CODE, VASBY_ORGNR
from tests.format.readers.samples import (
    expected_values,
    problems,
    read,
    records,
    refusal,
    small_delivery,
    values,
)

HEADER = (
    "organisationsnummer;kommunkod;personnummer;post;transaktionsdatum;status;kod;startdatum;"
    "slutdatum;system"
)
ROW = (
    f"2120000019;0114;{ANNA};insats;2024-02-12 09:15:02;Registrering;KAR;20240108;20240209;SystemX"
)


def csv(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def test_it_reads_each_row_as_a_transaction():
    (record,) = records(read("csv", csv(ROW)))
    assert values(record) == (
        INTERVENTION,
        VASBY_ORGNR,
        VASBY_CODE,
        ANNA,
        "2024-02-12 09:15:02",
        "Registrering",
        "KAR",
        "20240108",
        "20240209",
        "SystemX",
    )
    assert record.location.line == 2


@pytest.mark.parametrize(
    "header",
    [HEADER.upper(), " " + HEADER.replace(";", " ; ") + " ", HEADER.title()],
)
def test_the_header_ignores_case_and_surrounding_space(header):
    assert len(records(read("csv", csv(ROW, header=header)))) == 1


def test_post_ignores_case_and_an_empty_slutdatum_means_ongoing():
    rows = [
        ROW.replace("insats", "INSATS").replace("20240209", ""),
        ROW.replace("insats", "Resultat").replace("20240209", ""),
    ]
    first, second = records(read("csv", csv(*rows)))
    assert (first.kind, first.end) == (INTERVENTION, None)
    assert (second.kind, second.end) == (RESULT, None)


def test_an_empty_cell_other_than_slutdatum_stays_empty_text():
    (record,) = records(read("csv", csv(ROW.replace("Registrering", ""))))
    assert record.status == ""


def test_values_are_stripped_and_quoting_works_as_in_spreadsheets():
    row = ROW.replace("SystemX", '" System ""X""; 2\nrad två "')
    first, second = records(read("csv", csv(row, ROW)))
    assert first.system == 'System "X"; 2\nrad två'
    assert (first.location.line, second.location.line) == (2, 4)


def test_a_bom_crlf_and_blank_lines_are_accepted():
    data = b"\xef\xbb\xbf" + csv(ROW, "", ROW).replace(b"\n", b"\r\n")
    items = read("csv", data)
    assert [r.location.line for r in records(items)] == [2, 4]
    assert problems(items) == []


def test_a_row_with_a_missing_or_an_extra_column_is_a_problem_and_the_rest_is_read():
    missing = ROW.rsplit(";", 1)[0]
    extra = ROW + ";x"
    items = read("csv", csv(missing, ROW, extra))
    assert [(p.code, p.line, p.value) for p in problems(items)] == [
        ("CSV_COLUMN_COUNT", 2, "9"),
        ("CSV_COLUMN_COUNT", 4, "11"),
    ]
    assert [r.location.line for r in records(items)] == [3]


def test_an_unknown_post_is_a_problem():
    items = read("csv", csv(ROW.replace(";insats;", ";avslut;"), ROW))
    assert [(p.code, p.line) for p in problems(items)] == [("CSV_POST", 2)]


def test_a_result_with_an_end_date_is_the_transactions_problem():
    (record,) = records(read("csv", csv(ROW.replace("insats", "resultat"))))
    assert record.end is None
    assert [(p.code, p.field, p.value) for p in record.problems] == [
        ("CSV_END_ON_RESULT", "slutdatum", "20240209")
    ]


def test_runs_of_kommun_and_person_are_numbered_so_persons_can_be_counted():
    rows = [
        ROW,
        ROW,
        ROW.replace(ANNA, BO),
        ROW.replace(VASBY_CODE, VALLENTUNA_CODE),
        ROW.replace(VASBY_CODE, VALLENTUNA_CODE)
        .replace("insats", "resultat")
        .replace("20240209", ""),
    ]
    positions = [
        (r.location.kommun, r.location.person, r.location.item)
        for r in records(read("csv", csv(*rows)))
    ]
    assert positions == [(0, 0, 0), (0, 0, 1), (0, 1, 0), (1, 0, 0), (1, 0, 0)]


def test_the_same_delivery_as_xml_gives_the_same_positions():
    data = to_bytes("csv", small_delivery())
    items = records(read("csv", data))
    assert [values(r) for r in items] == expected_values(small_delivery())
    xml_items = records(read("xml", to_bytes("xml", small_delivery())))
    assert [(r.location.kommun, r.location.person) for r in items] == [
        (r.location.kommun, r.location.person) for r in xml_items
    ]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "FILE_EMPTY"),
        (HEADER.replace("kod;", "code;").encode() + b"\n" + ROW.encode(), "FILE_CSV_HEADER"),
        (HEADER.replace(";system", "").encode() + b"\n", "FILE_CSV_HEADER"),
        (ROW.encode() + b"\n" + ROW.encode(), "FILE_CSV_HEADER"),
        (HEADER.replace(";", ",").encode() + b"\n", "FILE_CSV_HEADER"),
        (csv(), "FILE_NO_TRANSACTIONS"),
        (csv(ROW.replace("Registrering", "Ändring")).decode().encode("latin-1"), "FILE_ENCODING"),
        (csv(ROW).decode().encode("utf-16"), "FILE_ENCODING"),
        (csv(ROW.replace("SystemX", "System\0X")), "FILE_ENCODING"),
    ],
)
def test_a_file_that_is_no_delivery_is_refused(data, code):
    assert refusal("csv", data).code == code


def test_a_header_refusal_does_not_quote_the_file():
    refused = refusal("csv", ROW.encode() + b"\n")
    assert ANNA not in str(refused)
    assert refused.detail == "column 1 must be organisationsnummer"


def test_an_encoding_refusal_gives_the_line():
    rows = [ROW] * 5000 + [ROW.replace("Registrering", "Ändring")]
    data = csv(*rows).decode().encode("latin-1")
    refused = refusal("csv", data)
    assert refused.code == "FILE_ENCODING"
    assert refused.line is not None and refused.line > 1000


def test_a_file_cut_within_a_character_is_truncated():
    data = csv(ROW.replace("SystemX", "Vägledning")).rstrip(b"\n")
    assert refusal("csv", data[: data.index("ä".encode()) + 1]).code == "FILE_TRUNCATED"
