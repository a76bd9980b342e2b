"""The rules of SPEC §3 that one transaction is checked against, without a database."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import luhn

from inuk.format.codelist import CodeList
from inuk.format.errors import Problem
from inuk.format.records import INTERVENTION, RESULT, Location, Record
from inuk.format.validation import Checked, Context, validate
from tests.conftest import (
    AF_ORGNR,
    ANNA,
    ANNA_MISTYPED,
    ANNA_SAMORDNING,
    SUPPLIER_ORGNR,
    VALLENTUNA_CODE,
    VASBY_CODE,
    VASBY_ORGNR,
)

STOCKHOLM = ZoneInfo("Europe/Stockholm")
#: 13:00 in Stockholm (winter time, UTC+1).
RECEIVED = dt.datetime(2025, 1, 15, 12, 0, tzinfo=dt.UTC)


def with_check_digit(eleven: str) -> str:
    return eleven + luhn.calc_check_digit(eleven[2:])


PERSON_PATH = "/Leverans/Kommunlista/Kommun[1]/Personlista/Person[2]"
INSATS_PATH = PERSON_PATH + "/Insatslista/Insats[3]"
RESULTAT_PATH = PERSON_PATH + "/Resultatlista/Resultat[3]"


def record(kind: str = INTERVENTION, location: Location | None = None, **values) -> Record:
    """A valid transaction of Upplands Väsby's, with ``values`` changed."""
    fields = {
        "orgnr": VASBY_ORGNR,
        "kommunkod": VASBY_CODE,
        "personnummer": ANNA,
        "transaktionsdatum": "2024-03-01 10:49:29.10000",
        "status": "Registrering",
        "code": "SYV" if kind == INTERVENTION else "STU",
        "start": "20240301",
        "end": "20240331" if kind == INTERVENTION else None,
        "system": "SystemX",
    }
    fields.update(values)
    location = location or Location("xml", line=40, kommun=0, person=1, kind=kind, item=2)
    return Record(kind=kind, location=location, **fields)


def checked(*records: Record | Problem, **context) -> list[Checked | Problem]:
    return list(validate(records, Context(received_at=RECEIVED, **context)))


def check(one: Record, **context) -> Checked:
    [result] = checked(one, **context)
    assert isinstance(result, Checked)
    return result


def only_problem(one: Record, **context) -> Problem:
    result = check(one, **context)
    assert len(result.problems) == 1, [problem.code for problem in result.problems]
    assert not result.ok
    return result.problems[0]


# --- valid transactions ---------------------------------------------------------------


def test_it_accepts_a_valid_intervention_and_parses_its_values():
    result = check(record())
    assert result.ok
    assert result.problems == []
    assert result.orgnr == VASBY_ORGNR
    assert result.kommunkod == VASBY_CODE
    assert result.person is not None
    assert result.person.birth_date == dt.date(1999, 1, 1)
    assert result.transaction_time == dt.datetime(2024, 3, 1, 10, 49, 29, 100000, STOCKHOLM)
    assert result.transaction_time.utcoffset() == dt.timedelta(hours=1)
    assert result.status == "R"
    assert result.code == "SYV"
    assert result.start == dt.date(2024, 3, 1)
    assert result.end == dt.date(2024, 3, 31)
    assert result.system == "SystemX"
    assert result.position == 0


def test_it_accepts_a_valid_result_which_has_no_end_date():
    result = check(record(RESULT))
    assert result.ok
    assert (result.code, result.start, result.end) == ("STU", dt.date(2024, 3, 1), None)


def test_it_accepts_an_ongoing_intervention_without_an_end_date():
    assert check(record(end=None)).ok
    assert check(record(end="")).end is None
    assert check(record(end="")).ok


def test_it_accepts_an_intervention_that_ends_the_day_it_starts():
    assert check(record(start="20240301", end="20240301")).ok


def test_it_reads_a_16_prefixed_orgnr_and_a_three_digit_kommunkod():
    result = check(record(orgnr="16" + VASBY_ORGNR, kommunkod="114"))
    assert result.ok
    assert (result.orgnr, result.kommunkod) == (VASBY_ORGNR, VASBY_CODE)


def test_it_upper_cases_and_strips_the_code():
    result = check(record(code=" syv "))
    assert result.ok
    assert result.code == "SYV"


def test_it_lets_af_deliver_for_any_municipality():
    assert check(record(orgnr=AF_ORGNR, kommunkod=VALLENTUNA_CODE)).ok


def test_it_leaves_a_supplier_s_authorisation_to_the_service_register():
    # Offline, only a municipality's own code can be checked; who else may
    # deliver for whom is decided when a delivery is received.
    assert check(record(orgnr=SUPPLIER_ORGNR, kommunkod=VALLENTUNA_CODE)).ok


# --- Status -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("Registrering", "R"),
        ("registrering", "R"),
        (" REGISTRERING \n", "R"),
        ("Ändring", "A"),
        ("ändring", "A"),
        ("ÄNDRING", "A"),
        ("A\u0308ndring", "A"),  # Ä written as A and a combining diaeresis
        ("Borttag", "B"),
        ("bortTAG", "B"),
    ],
)
def test_it_reads_status_words_in_any_case(word, status):
    result = check(record(status=word))
    assert result.ok
    assert result.status == status


@pytest.mark.parametrize("word", ["Andring", "Ny", "", "R", "Registrering2"])
def test_it_rejects_an_unknown_status(word):
    problem = only_problem(record(status=word))
    assert (problem.code, problem.field, problem.path) == (
        "STATUS_UNKNOWN",
        "Status",
        INSATS_PATH + "/Status",
    )
    assert problem.value == word


# --- Transaktionsdatum ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-01 10:49:29", dt.datetime(2024, 3, 1, 10, 49, 29)),
        ("2024-03-01T10:49:29", dt.datetime(2024, 3, 1, 10, 49, 29)),
        ("2024-03-01T10:49:29.5", dt.datetime(2024, 3, 1, 10, 49, 29, 500000)),
        ("2024-07-01 10:49:29.123456789", dt.datetime(2024, 7, 1, 10, 49, 29, 123456)),
    ],
)
def test_it_reads_transaktionsdatum_with_a_space_or_a_t_as_swedish_local_time(text, expected):
    result = check(record(transaktionsdatum=text))
    assert result.ok
    assert result.transaction_time == expected.replace(tzinfo=STOCKHOLM)
    assert result.transaction_time.tzinfo == STOCKHOLM


@pytest.mark.parametrize(
    "text",
    [
        "2024-03-01",
        "2024-03-01 10:49",
        "20240301T104929",
        "2024-03-01 10:49:29Z",
        "2024-03-01 10:49:29+01:00",
        "2024-03-01 10:49:29,5",
        "2024-03-01 10:49:29.",
        "2024-W09-5 10:49:29",
        "2024-02-30 10:49:29",
        "2024-03-01 24:00:00",
        "2024-03-01 10:49:60",
        "01/03/2024 10:49:29",
        "",
    ],
)
def test_it_rejects_a_transaktionsdatum_of_another_format_or_no_real_time(text):
    problem = only_problem(record(transaktionsdatum=text))
    assert (problem.code, problem.field, problem.path) == (
        "TIMESTAMP_FORMAT",
        "Transaktionsdatum",
        INSATS_PATH + "/Transaktionsdatum",
    )


def test_it_rejects_a_transaktionsdatum_after_the_time_of_receipt():
    # Received 13:00 in Stockholm.
    assert check(record(transaktionsdatum="2025-01-15 13:00:00")).ok
    problem = only_problem(record(transaktionsdatum="2025-01-15 13:00:00.000001"))
    assert (problem.code, problem.field) == ("TIMESTAMP_FUTURE", "Transaktionsdatum")
    assert problem.value == "2025-01-15 13:00:00.000001"


@pytest.mark.parametrize("zone", [dt.UTC, STOCKHOLM])
def test_it_compares_transaktionsdatum_in_real_time_across_the_end_of_summer_time(zone):
    # On 27 October 2024 Swedish clocks went from 03:00 back to 02:00. Received
    # at 02:30 the second time (winter time), a transaction at 02:45 the
    # first time (summer time) happened three quarters of an hour earlier.
    received = dt.datetime(2024, 10, 27, 1, 30, tzinfo=dt.UTC).astimezone(zone)
    [result] = validate(
        [record(transaktionsdatum="2024-10-27 02:45:00")], Context(received_at=received)
    )
    assert result.ok
    assert result.transaction_time.astimezone(dt.UTC) < received
    [later] = validate(
        [record(transaktionsdatum="2024-10-27 03:00:01")], Context(received_at=received)
    )
    assert [problem.code for problem in later.problems] == ["TIMESTAMP_FUTURE"]


# --- Insatskod, Resultatkod -----------------------------------------------------------


def test_it_rejects_a_code_not_in_the_list():
    problem = only_problem(record(code="XYZ"))
    assert (problem.code, problem.field, problem.path, problem.value) == (
        "CODE_UNKNOWN",
        "Insatskod",
        INSATS_PATH + "/Insatskod",
        "XYZ",
    )


def test_it_rejects_a_result_code_on_an_intervention_and_the_other_way_round():
    assert only_problem(record(code="STU")).code == "CODE_UNKNOWN"
    problem = only_problem(record(RESULT, code="SYV"))
    assert (problem.code, problem.field, problem.path) == (
        "CODE_UNKNOWN",
        "Resultatkod",
        RESULTAT_PATH + "/Resultatkod",
    )


def codes_valid(valid_from: dt.date, valid_to: dt.date | None) -> CodeList:
    return CodeList(
        [("insats", "SYV", valid_from, valid_to), ("resultat", "STU", valid_from, valid_to)]
    )


def test_it_rejects_a_code_not_yet_valid_on_the_start_date():
    codes = codes_valid(dt.date(2024, 6, 1), None)
    problem = only_problem(record(start="20240301", end=None), codes=codes)
    assert (problem.code, problem.field, problem.path) == (
        "CODE_NOT_VALID_ON_START",
        "Insatskod",
        INSATS_PATH + "/Insatskod",
    )
    assert check(record(start="20240601", end=None), codes=codes).ok


def test_a_retired_code_stays_valid_for_records_that_started_before():
    codes = codes_valid(dt.date(2015, 1, 1), dt.date(2024, 3, 1))
    assert check(record(start="20240229", end="20240331"), codes=codes).ok
    problem = only_problem(record(RESULT, start="20240301"), codes=codes)
    assert (problem.code, problem.field) == ("CODE_NOT_VALID_ON_START", "Resultatkod")


# --- Startdatum, Slutdatum ----------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["2024-03-01", "20240230", "2024031", "202403011", "2024W095", "２０２４０３０１", "x"]
)
def test_it_rejects_a_start_date_that_is_not_yyyymmdd_and_a_real_date(text):
    problem = only_problem(record(start=text, end=None))
    assert (problem.code, problem.field, problem.path, problem.value) == (
        "DATE_FORMAT",
        "StartdatumInsats",
        INSATS_PATH + "/StartdatumInsats",
        text,
    )


def test_it_rejects_an_end_date_that_is_not_a_real_date():
    problem = only_problem(record(end="20240431"))
    assert (problem.code, problem.field, problem.path) == (
        "DATE_FORMAT",
        "SlutdatumInsats",
        INSATS_PATH + "/SlutdatumInsats",
    )


def test_it_rejects_a_result_start_date_that_is_not_a_real_date():
    problem = only_problem(record(RESULT, start="20241301"))
    assert (problem.code, problem.field) == ("DATE_FORMAT", "StartdatumResultat")


def test_it_rejects_an_end_date_before_the_start_date():
    problem = only_problem(record(start="20240301", end="20240229"))
    assert (problem.code, problem.field, problem.path, problem.value) == (
        "END_BEFORE_START",
        "SlutdatumInsats",
        INSATS_PATH + "/SlutdatumInsats",
        "20240229",
    )


# --- System ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "x" * 101])
def test_it_rejects_a_system_name_that_is_empty_or_longer_than_100_characters(text):
    problem = only_problem(record(system=text))
    assert (problem.code, problem.field, problem.path) == (
        "SYSTEM_LENGTH",
        "System",
        INSATS_PATH + "/System",
    )


def test_it_accepts_a_system_name_of_100_characters():
    assert check(record(system="å" * 100)).ok


@pytest.mark.parametrize("text", [ANNA, f" {ANNA[:8]}-{ANNA[8:]} ", f"{ANNA[2:8]} {ANNA[8:]}"])
def test_it_rejects_a_system_that_is_a_personnummer_and_shows_it_masked(text):
    problem = only_problem(record(system=text))
    assert (problem.code, problem.field) == ("SYSTEM_PERSONNUMMER", "System")
    assert "-****" in problem.value
    assert ANNA[-4:] not in json.dumps(problem.as_dict())
    assert problem.as_dict()["message_sv"].startswith("System ska vara namnet")


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (f"SystemX {ANNA}", f"SystemX {ANNA[:8]}-****"),
        (f"SystemX{ANNA[2:]}", f"SystemX{ANNA[2:8]}-****"),
        ("SystemX 4.2 (2120000019)", "SystemX 4.2 (2120000019)"),
    ],
)
def test_it_keeps_a_system_with_a_personnummer_inside_only_masked(text, kept):
    result = check(record(system=text))
    assert result.ok
    assert result.system == kept


def test_a_system_of_100_characters_stays_within_100_when_masked():
    result = check(record(system="x" * 88 + ANNA))
    assert result.ok
    assert result.system is not None
    assert len(result.system) == 100
    assert ANNA[-4:] not in result.system


# --- Organisationsnummer, Kommunkod ---------------------------------------------------


@pytest.mark.parametrize(
    ("orgnr", "code"),
    [
        ("212000-0019", "ORGNR_FORMAT"),
        ("172120000019", "ORGNR_FORMAT"),
        ("2100000019", "ORGNR_THIRD_DIGIT"),
        ("2120000018", "ORGNR_CHECKSUM"),
    ],
)
def test_it_rejects_an_invalid_orgnr_at_the_kommun_s_element(orgnr, code):
    problem = only_problem(record(orgnr=orgnr))
    assert (problem.code, problem.field, problem.path) == (
        code,
        "Organisationsnummer",
        "/Leverans/Kommunlista/Kommun[1]/Organisationsnummer",
    )
    assert problem.position == 0


@pytest.mark.parametrize(
    ("kommunkod", "code"),
    [
        ("14", "KOMMUNKOD_FORMAT"),
        ("01140", "KOMMUNKOD_FORMAT"),
        ("0100", "KOMMUNKOD_UNKNOWN"),
        ("999", "KOMMUNKOD_UNKNOWN"),
    ],
)
def test_it_rejects_a_kommunkod_that_is_not_one_of_the_290(kommunkod, code):
    assert check(record(orgnr=AF_ORGNR, kommunkod=kommunkod)).kommunkod is None
    problem = only_problem(record(orgnr=AF_ORGNR, kommunkod=kommunkod))
    assert (problem.code, problem.field, problem.path, problem.value) == (
        code,
        "Kommunkod",
        "/Leverans/Kommunlista/Kommun[1]/Kommunkod",
        kommunkod,
    )


def test_it_rejects_a_municipality_delivering_for_another_municipality():
    result = check(record(kommunkod=VALLENTUNA_CODE))
    assert (result.orgnr, result.kommunkod) == (VASBY_ORGNR, None)
    problem = only_problem(record(kommunkod=VALLENTUNA_CODE))
    assert (problem.code, problem.field, problem.value) == (
        "KOMMUNKOD_NOT_OWN",
        "Kommunkod",
        VALLENTUNA_CODE,
    )


def test_it_checks_own_codes_against_the_register_it_is_given():
    own_codes = {VASBY_ORGNR: frozenset({VASBY_CODE, VALLENTUNA_CODE})}
    assert check(record(kommunkod=VALLENTUNA_CODE), own_codes=own_codes).ok


# --- Personnummer ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("personnummer", "code"),
    [
        ("19881212-1237", "PNR_FORMAT"),
        (with_check_digit("17881212123"), "PNR_CENTURY"),
        (with_check_digit("19880230123"), "PNR_DATE"),
        (with_check_digit("19881212000"), "PNR_BIRTH_NUMBER"),
        (ANNA_MISTYPED, "PNR_CHECKSUM"),
        (with_check_digit("20250116123"), "PNR_FUTURE"),  # the day after receipt
    ],
)
def test_it_rejects_an_invalid_personnummer_and_shows_it_masked(personnummer, code):
    problem = only_problem(record(personnummer=personnummer))
    assert (problem.code, problem.field, problem.path) == (
        code,
        "Personnummer",
        PERSON_PATH + "/Personnummer",
    )
    assert problem.value == personnummer[:8] + "-****"
    assert personnummer[-4:] not in json.dumps(problem.as_dict())


def test_it_accepts_a_personnummer_born_on_the_day_of_receipt():
    assert check(record(personnummer=with_check_digit("20250115123"))).ok


def test_it_accepts_a_samordningsnummer_and_flags_it():
    result = check(record(personnummer=ANNA_SAMORDNING))
    assert result.ok
    assert result.person.coordination
    assert result.person.birth_date == dt.date(1999, 1, 1)
    assert not check(record()).person.coordination


@settings(max_examples=150)
@given(
    st.text(alphabet="0123456789", min_size=12, max_size=12),
    st.sampled_from(["xml", "json", "csv"]),
)
def test_an_error_report_never_holds_a_whole_personnummer(personnummer, format):
    location = Location(format, line=7, kommun=0, person=0, kind=INTERVENTION, item=0)
    items = checked(
        record(location=location, personnummer=personnummer, code="X"),
        record(location=location, personnummer=personnummer, start="2024", status="Ny"),
    )
    report = json.dumps([problem.as_dict() for item in items for problem in item.problems])
    assert personnummer[-10:] not in report
    assert personnummer[-10:] not in repr(items)


def test_an_error_report_masks_a_personnummer_written_where_it_does_not_belong():
    result = check(record(system=f"{ANNA} " + "x" * 100))
    report = json.dumps([problem.as_dict() for problem in result.problems])
    assert "SYSTEM_LENGTH" in report
    assert ANNA[-10:] not in report
    assert f"{ANNA[:8]}-****" in report


# --- missing values, several problems, the reader's problems ------------------------


@pytest.mark.parametrize(
    ("attribute", "field_name"),
    [
        ("orgnr", "Organisationsnummer"),
        ("kommunkod", "Kommunkod"),
        ("personnummer", "Personnummer"),
        ("transaktionsdatum", "Transaktionsdatum"),
        ("status", "Status"),
        ("code", "Insatskod"),
        ("start", "StartdatumInsats"),
        ("system", "System"),
    ],
)
def test_it_reports_a_missing_required_value(attribute, field_name):
    problem = only_problem(record(**{attribute: None, "end": None}))
    assert (problem.code, problem.field) == ("ELEMENT_MISSING", field_name)
    assert problem.path.endswith("/" + field_name)


def test_it_reports_at_most_one_error_per_field():
    result = check(
        record(
            orgnr="2120000018",
            kommunkod="x",
            personnummer="17881212000x",
            transaktionsdatum="2099-13-01 10:00:00",
            status="?",
            code="XYZ",
            start="20240230",
            end="20240231",
            system="",
        )
    )
    fields = [problem.field for problem in result.problems]
    assert sorted(fields) == sorted(
        [
            "Organisationsnummer",
            "Kommunkod",
            "Personnummer",
            "Transaktionsdatum",
            "Status",
            "Insatskod",
            "StartdatumInsats",
            "SlutdatumInsats",
            "System",
        ]
    )
    assert (result.orgnr, result.kommunkod, result.person, result.start, result.end) == (
        (None,) * 5
    )


def test_it_reports_an_unknown_code_but_not_its_validity_when_the_start_date_is_wrong():
    result = check(record(code="XYZ", start="2024-03-01", end=None))
    assert {problem.code for problem in result.problems} == {"DATE_FORMAT", "CODE_UNKNOWN"}


def test_it_passes_the_reader_s_problems_through_in_order():
    problem = Problem("LIST_EMPTY", "Insatslista", Location("xml", line=3, kommun=0, person=0))
    first, second = record(), record()
    items = checked(first, problem, second)
    assert [type(item) for item in items] == [Checked, Problem, Checked]
    assert items[1] is problem
    assert [items[0].position, items[2].position] == [0, 1]
    assert items[2].record is second


def test_it_keeps_the_reader_s_problems_of_a_record_and_adds_none_for_the_same_field():
    from_reader = Problem.about(
        "ELEMENT_REPEATED", "Status", Location("xml", line=5), "Ny", position=0
    )
    one = record(status="Ny", code="XYZ")
    one.problems.append(from_reader)
    result = check(one)
    assert [(problem.code, problem.field) for problem in result.problems] == [
        ("ELEMENT_REPEATED", "Status"),
        ("CODE_UNKNOWN", "Insatskod"),
    ]
    assert result.status is None
    assert not result.ok


def test_a_warning_from_the_reader_does_not_make_a_record_fail():
    one = record()
    one.problems.append(Problem("IDENTITY_UNKNOWN", severity="warning"))
    result = check(one)
    assert result.ok
    assert result.status == "R"


def test_each_record_of_a_person_or_kommun_gets_its_own_problem():
    bad_person = with_check_digit("19881212000")
    items = checked(
        record(personnummer=bad_person),
        record(personnummer=bad_person),
        record(),
        record(personnummer=bad_person, orgnr="2120000018"),
        record(orgnr="2120000018"),
    )
    assert [[problem.code for problem in item.problems] for item in items] == [
        ["PNR_BIRTH_NUMBER"],
        ["PNR_BIRTH_NUMBER"],
        [],
        ["ORGNR_CHECKSUM", "PNR_BIRTH_NUMBER"],
        ["ORGNR_CHECKSUM"],
    ]
    assert [problem.position for item in items for problem in item.problems] == [0, 1, 3, 3, 4]


def test_it_names_the_place_of_a_problem_in_json_and_csv():
    json_location = Location("json", kommun=0, person=1, kind=INTERVENTION, item=2)
    problem = only_problem(record(location=json_location, status="Ny"))
    assert problem.path == "/Leverans/Kommunlista/0/Personlista/1/Insatslista/2/Status"
    problem = only_problem(record(location=json_location, personnummer=ANNA[:-1] + "x"))
    assert problem.path == "/Leverans/Kommunlista/0/Personlista/1/Personnummer"
    problem = only_problem(record(location=Location("csv", line=17), status="Ny"))
    assert (problem.line, problem.path, problem.field) == (17, "", "Status")


def test_it_needs_a_time_of_receipt_with_a_time_zone():
    with pytest.raises(ValueError, match="timezone-aware"):
        Context(received_at=dt.datetime(2025, 1, 15, 12, 0))


@pytest.mark.slow  # a Python process of its own
def test_it_validates_without_django_settings_or_a_database():
    # ``inuk validate`` runs offline, so nothing here may need Django configured.
    script = """
import django.conf
from inuk.format.records import Location, Record
from inuk.format.validation import Context, validate
record = Record("I", "2120000019", "114", "198812121237", "2024-03-01 10:49:29", "Ändring",
                "SYV", "20240301", None, "SystemX", Location("xml", 1, 0, 0, "I", 0))
[checked] = validate([record], Context())
assert checked.ok and checked.kommunkod == "0114", checked.problems
assert not django.conf.settings.configured
print("ok")
"""
    environment = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    source = Path(__file__).resolve().parents[2] / "src"
    environment["PYTHONPATH"] = str(source)
    completed = subprocess.run(
        [sys.executable, "-c", script], env=environment, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "ok"
