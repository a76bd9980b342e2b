"""Reading XML deliveries: structure, refusals, and files written to do harm."""

from __future__ import annotations

import io
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inuk.format.errors import FileRefused
from inuk.format.readers import xml
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

INSATS = (
    "<Insats><Transaktionsdatum>2024-02-12 09:15:02</Transaktionsdatum>"
    "<Status>Registrering</Status><Insatskod>KAR</Insatskod>"
    "<StartdatumInsats>20240108</StartdatumInsats><System>SystemX</System></Insats>"
)
PERSON = f"<Person><Personnummer>{ANNA}</Personnummer><Insatslista>{INSATS}</Insatslista></Person>"
KOMMUN_VALUES = "<Organisationsnummer>2120000019</Organisationsnummer><Kommunkod>0114</Kommunkod>"


def delivery(persons: str = PERSON, *, kommun: str | None = None, root_extra: str = "") -> bytes:
    kommun = (
        kommun if kommun is not None else f"{KOMMUN_VALUES}<Personlista>{persons}</Personlista>"
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Leverans><Kommunlista><Kommun>{kommun}</Kommun></Kommunlista>{root_extra}</Leverans>\n"
    ).encode()


def with_insats(insats: str) -> bytes:
    return delivery(PERSON.replace(INSATS, insats))


def only_record(data: bytes):
    (record,) = records(read("xml", data))
    return record


# -- What is read ---------------------------------------------------------------


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


def test_a_record_gives_the_line_of_its_element_and_its_path():
    data = to_bytes("xml", small_delivery())
    lines = data.decode().splitlines()
    for record in records(read("xml", data)):
        item = "<Insats>" if record.kind == INTERVENTION else "<Resultat>"
        assert lines[record.location.line - 1].strip() == item
    first = records(read("xml", data))[0]
    assert first.path("status") == (
        "/Leverans/Kommunlista/Kommun[1]/Personlista/Person[1]/Insatslista/Insats[1]/Status"
    )


def test_whitespace_around_values_is_stripped():
    record = only_record(
        with_insats(INSATS.replace("<Status>Registrering", "<Status>\n  Registrering  "))
    )
    assert record.status == "Registrering"


def test_elements_may_come_in_any_order_within_an_insats():
    reordered = (
        "<Insats><System>SystemX</System><Insatskod>KAR</Insatskod><Status>Registrering</Status>"
        "<SlutdatumInsats>20240301</SlutdatumInsats><StartdatumInsats>20240108</StartdatumInsats>"
        "<Transaktionsdatum>2024-02-12 09:15:02</Transaktionsdatum></Insats>"
    )
    record = only_record(with_insats(reordered))
    assert (record.code, record.start, record.end, record.status) == (
        "KAR",
        "20240108",
        "20240301",
        "Registrering",
    )
    assert record.problems == []


def test_an_empty_slutdatum_means_an_ongoing_intervention():
    record = only_record(with_insats(INSATS.replace("<System>", "<SlutdatumInsats/><System>")))
    assert record.end is None
    assert record.problems == []


def test_an_empty_element_is_an_empty_value_not_a_missing_one():
    record = only_record(with_insats(INSATS.replace("<Status>Registrering</Status>", "<Status/>")))
    assert record.status == ""


def test_a_missing_element_is_none_and_left_to_the_validator():
    record = only_record(with_insats(INSATS.replace("<Status>Registrering</Status>", "")))
    assert record.status is None
    assert record.problems == []


def test_comments_and_processing_instructions_are_ignored():
    record = only_record(with_insats(INSATS.replace("<Status>", "<!-- note --><?pi x?><Status>")))
    assert record.status == "Registrering"
    assert record.problems == []


def test_a_bom_and_crlf_line_ends_are_accepted():
    data = to_bytes("xml", small_delivery())
    plain = read("xml", data)
    windows = read("xml", b"\xef\xbb\xbf" + data.replace(b"\n", b"\r\n"))
    assert [values(r) for r in windows] == [values(r) for r in plain]
    assert [r.location.line for r in windows] == [r.location.line for r in plain]


@pytest.mark.slow  # a long file: seconds
def test_a_long_file_keeps_correct_line_numbers():
    # libxml2 stores line numbers above 65535 apart; the reader must still get them right.
    persons = "\n".join([PERSON.replace("<Insats>", "\n<Insats>")] * 40_000)
    items = records(read("xml", delivery(persons)))
    assert items[-1].location.line == 80_001
    assert items[-1].location.person == 39_999


# -- Problems in the structure ---------------------------------------------------


def test_an_unknown_element_in_an_insats_is_the_transactions_problem():
    record = only_record(
        with_insats(INSATS.replace("<System>", "<Kommentar>x</Kommentar><System>"))
    )
    assert [(p.code, p.field) for p in record.problems] == [("ELEMENT_UNKNOWN", "Kommentar")]
    assert record.problems[0].path.endswith("/Insats[1]/Kommentar")


def test_element_names_are_case_sensitive():
    record = only_record(with_insats(INSATS.replace("Status>", "status>")))
    assert record.status is None
    assert [(p.code, p.field) for p in record.problems] == [("ELEMENT_UNKNOWN", "status")]


def test_a_repeated_element_keeps_the_first_value_and_is_a_problem():
    record = only_record(
        with_insats(INSATS.replace("</Status>", "</Status><Status>Borttag</Status>"))
    )
    assert record.status == "Registrering"
    assert [(p.code, p.field) for p in record.problems] == [("ELEMENT_REPEATED", "Status")]


def test_an_element_holding_elements_instead_of_text_is_a_problem():
    record = only_record(with_insats(INSATS.replace(">Registrering<", "><b>Registrering</b><")))
    assert record.status is None
    assert [(p.code, p.field) for p in record.problems] == [("ELEMENT_NOT_TEXT", "Status")]


def test_text_mixed_with_elements_is_a_problem_too():
    record = only_record(with_insats(INSATS.replace(">Registrering<", ">Registrering<b/><")))
    assert [p.code for p in record.problems] == ["ELEMENT_NOT_TEXT"]


def test_a_missing_organisationsnummer_or_personnummer_is_none():
    person = PERSON.replace(f"<Personnummer>{ANNA}</Personnummer>", "")
    data = delivery(kommun=f"<Kommunkod>0114</Kommunkod><Personlista>{person}</Personlista>")
    record = only_record(data)
    assert (record.orgnr, record.kommunkod, record.personnummer) == (None, VASBY_CODE, None)
    assert record.problems == []


def test_a_repeated_personnummer_is_a_problem_of_each_of_the_persons_transactions():
    person = PERSON.replace(
        "</Personnummer>", "</Personnummer><Personnummer>199811024828</Personnummer>"
    )
    person = person.replace(INSATS, INSATS * 2)
    items = records(read("xml", delivery(person)))
    assert [r.personnummer for r in items] == [ANNA, ANNA]
    for record in items:
        assert [(p.code, p.field) for p in record.problems] == [
            ("ELEMENT_REPEATED", "Personnummer")
        ]
        assert "1998110" not in str(record.problems)


def test_a_kommun_value_holding_elements_is_a_problem_of_each_transaction():
    kommun = (
        "<Organisationsnummer><x>2120000019</x></Organisationsnummer><Kommunkod>0114</Kommunkod>"
        f"<Personlista>{PERSON}{PERSON}</Personlista>"
    )
    items = records(read("xml", delivery(kommun=kommun)))
    assert len(items) == 2
    for record in items:
        assert record.orgnr is None
        assert [(p.code, p.path) for p in record.problems] == [
            ("ELEMENT_NOT_TEXT", "/Leverans/Kommunlista/Kommun[1]/Organisationsnummer")
        ]


def test_kommun_values_after_the_personlista_are_still_read():
    kommun = f"<Personlista>{PERSON}</Personlista>{KOMMUN_VALUES}"
    record = only_record(delivery(kommun=kommun))
    assert (record.orgnr, record.kommunkod) == (VASBY_ORGNR, VASBY_CODE)


def test_a_person_without_lists_is_a_problem_of_its_own():
    person = f"<Person><Personnummer>{ANNA}</Personnummer></Person>"
    items = read("xml", delivery(PERSON + person))
    (problem,) = problems(items)
    assert problem.code == "PERSON_WITHOUT_LISTS"
    assert problem.path == "/Leverans/Kommunlista/Kommun[1]/Personlista/Person[2]"
    assert len(records(items)) == 1


def test_an_empty_list_is_a_problem():
    person = PERSON.replace("</Insatslista>", "</Insatslista><Resultatlista/>")
    items = read("xml", delivery(person))
    (problem,) = problems(items)
    assert (problem.code, problem.path) == (
        "LIST_EMPTY",
        "/Leverans/Kommunlista/Kommun[1]/Personlista/Person[1]/Resultatlista",
    )


def test_an_empty_personlista_is_a_problem():
    data = delivery().replace(
        b"</Kommunlista>",
        b"<Kommun>" + KOMMUN_VALUES.encode() + b"<Personlista/></Kommun></Kommunlista>",
    )
    (problem,) = problems(read("xml", data))
    assert (problem.code, problem.path) == (
        "LIST_EMPTY",
        "/Leverans/Kommunlista/Kommun[2]/Personlista",
    )


@pytest.mark.parametrize(
    ("place", "data", "path"),
    [
        ("Leverans", delivery(root_extra="<Bilaga/>"), "/Leverans/Bilaga"),
        (
            "Kommunlista",
            delivery().replace(b"</Kommunlista>", b"<Bilaga/></Kommunlista>"),
            "/Leverans/Kommunlista/Bilaga",
        ),
        (
            "Kommun",
            delivery(kommun=f"{KOMMUN_VALUES}<Bilaga/><Personlista>{PERSON}</Personlista>"),
            "/Leverans/Kommunlista/Kommun[1]/Bilaga",
        ),
        (
            "Personlista",
            delivery(f"<Bilaga/>{PERSON}"),
            "/Leverans/Kommunlista/Kommun[1]/Personlista/Bilaga",
        ),
        (
            "Person",
            delivery(PERSON.replace("<Insatslista>", "<Bilaga/><Insatslista>")),
            "/Leverans/Kommunlista/Kommun[1]/Personlista/Person[1]/Bilaga",
        ),
        (
            "Insatslista",
            delivery(PERSON.replace("<Insatslista>", "<Insatslista><Bilaga/>")),
            "/Leverans/Kommunlista/Kommun[1]/Personlista/Person[1]/Insatslista/Bilaga",
        ),
    ],
)
def test_an_unknown_element_outside_a_transaction_is_reported_once_and_the_rest_is_read(
    place, data, path
):
    items = read("xml", data)
    assert [(p.code, p.path) for p in problems(items)] == [("ELEMENT_UNKNOWN", path)], place
    assert len(records(items)) == 1


def test_a_person_outside_a_personlista_is_reported_not_read():
    data = delivery(kommun=f"{KOMMUN_VALUES}<Personlista>{PERSON}</Personlista>{PERSON}")
    items = read("xml", data)
    assert [(p.code, p.path) for p in problems(items)] == [
        ("ELEMENT_UNKNOWN", "/Leverans/Kommunlista/Kommun[1]/Person")
    ]
    assert len(records(items)) == 1


def test_an_unknown_element_name_is_never_shown_as_a_personnummer():
    items = read("xml", delivery(PERSON.replace("<Insatslista>", f"<p{ANNA}/><Insatslista>")))
    assert ANNA not in repr(problems(items))


# -- Refusals ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "FILE_EMPTY"),
        (b" \n\t ", "FILE_EMPTY"),
        (b"\xef\xbb\xbf\n", "FILE_EMPTY"),
        (b"<Delivery><Kommunlista/></Delivery>", "FILE_WRONG_ROOT"),
        (delivery().replace(b"<Leverans>", b'<Leverans xmlns="urn:x">'), "FILE_WRONG_ROOT"),
        (b"hello <Leverans/>", "FILE_NOT_WELL_FORMED"),
        (delivery().replace(b"</Personlista>", b"</Personlist>"), "FILE_NOT_WELL_FORMED"),
        (delivery() + b"<Leverans/>", "FILE_NOT_WELL_FORMED"),
        (
            delivery().replace(b"<Status>", b"<x:Status>").replace(b"</Status>", b"</x:Status>"),
            "FILE_NOT_WELL_FORMED",
        ),
        (delivery().replace(b"UTF-8", b"ISO-8859-1"), "FILE_ENCODING"),
        (delivery().replace(b"SystemX", "Ändrat".encode("latin-1")), "FILE_ENCODING"),
        (delivery().decode().encode("utf-16"), "FILE_ENCODING"),
        (delivery().decode().encode("utf-16-le"), "FILE_ENCODING"),
        (delivery().replace(b"SystemX", b"&foo;"), "FILE_DOCTYPE"),
        (b"<Leverans><Kommunlista/></Leverans>", "FILE_NO_TRANSACTIONS"),
        (
            delivery(f"<Person><Personnummer>{ANNA}</Personnummer><Insatslista/></Person>"),
            "FILE_NO_TRANSACTIONS",
        ),
    ],
)
def test_a_file_that_is_no_delivery_is_refused(data, code):
    assert refusal("xml", data).code == code


def test_a_refusal_gives_the_line():
    data = delivery().replace(b"<Leverans>", b"<Leverans>\n\n").replace(b"</Personlista>", b"</X>")
    refused = refusal("xml", data)
    assert (refused.code, refused.line) == ("FILE_NOT_WELL_FORMED", 4)


def test_parsers_own_messages_which_may_quote_the_file_are_not_passed_on():
    data = delivery().replace(b"</Personnummer>", f"</P{ANNA}>".encode())
    refused = refusal("xml", data)
    assert "P2001" not in str(refused)
    assert ANNA not in str(refused)


def _truncation_points(data: bytes) -> st.SearchStrategy[int]:
    return st.integers(min_value=1, max_value=data.rindex(b">"))


SMALL = to_bytes("xml", small_delivery())


@settings(max_examples=200, deadline=None)
@given(_truncation_points(SMALL))
def test_a_file_cut_anywhere_is_refused_as_truncated(cut):
    assert refusal("xml", SMALL[:cut]).code == "FILE_TRUNCATED"


def test_a_file_cut_in_a_large_delivery_is_refused_as_truncated():
    big = to_bytes("xml", small_delivery()).replace(
        b"<Person>", b"<Person>" + b"<!-- " + b"x" * 200_000 + b" -->", 1
    )
    assert refusal("xml", big[: len(big) // 2]).code == "FILE_TRUNCATED"


def test_records_read_before_the_cut_are_the_files_own():
    data = to_bytes("xml", small_delivery())
    cut = data.index(b"<Kommun>", data.index(b"</Kommun>"))  # in the second Kommun
    got = []
    with pytest.raises(FileRefused) as caught:
        got.extend(xml.read(io.BytesIO(data[:cut])))
    assert caught.value.code == "FILE_TRUNCATED"
    assert [values(r) for r in records(got)] == expected_values(small_delivery())[:4]


# -- Files written to do harm ---------------------------------------------------

PASSWD_MARK = "root:"

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE Leverans [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Leverans><Kommunlista><Kommun><Personlista><Person><Personnummer>&lol9;</Personnummer>
<Insatslista><Insats><System>&lol9;</System></Insats></Insatslista></Person></Personlista>
</Kommun></Kommunlista></Leverans>
"""

XXE = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE Leverans [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Leverans><Kommunlista><Kommun><Personlista><Person><Personnummer>1</Personnummer>
<Insatslista><Insats><System>&xxe;</System></Insats></Insatslista></Person></Personlista>
</Kommun></Kommunlista></Leverans>
"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE Leverans SYSTEM "http://127.0.0.1:9/leverans.dtd">
<Leverans><Kommunlista/></Leverans>
"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE Leverans [
  <!ENTITY % file SYSTEM "file:///etc/passwd">
  <!ENTITY % eval "<!ENTITY &#x25; send SYSTEM 'http://127.0.0.1:9/?x=%file;'>">
  %eval;
  %send;
]>
<Leverans><Kommunlista/></Leverans>
"""

DOCTYPE_AFTER_COMMENT = (
    b"""<?xml version="1.0"?>
<!-- """
    + b"x" * 100_000
    + b""" -->
<!DOCTYPE Leverans [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Leverans/>
"""
)


@pytest.mark.parametrize(
    "data",
    [BILLION_LAUGHS, XXE, EXTERNAL_DTD, PARAMETER_ENTITY, DOCTYPE_AFTER_COMMENT],
    ids=["billion-laughs", "xxe", "external-dtd", "parameter-entity", "doctype-after-comment"],
)
def test_a_file_with_a_doctype_is_refused_at_once_without_reading_anything(data):
    started = time.monotonic()
    refused = refusal("xml", data)
    assert refused.code == "FILE_DOCTYPE"
    assert time.monotonic() - started < 1
    assert PASSWD_MARK not in str(refused)
    assert "lol" not in str(refused)


def test_a_doctype_is_refused_before_a_byte_past_it_is_read():
    class Tripwire:
        """A stream whose second read means the reader went on after the prolog."""

        def __init__(self) -> None:
            self.reads = 0

        def read(self, size: int = -1) -> bytes:
            self.reads += 1
            return XXE if self.reads == 1 else b"<" * 10

    stream = Tripwire()
    with pytest.raises(FileRefused) as caught:
        list(xml.read(stream))
    assert caught.value.code == "FILE_DOCTYPE"
    assert stream.reads == 1


def test_an_xinclude_is_an_unknown_element_and_never_followed():
    person = PERSON.replace(
        "<System>SystemX</System>",
        '<System><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="/etc/passwd"'
        ' parse="text"/></System>',
    )
    items = read("xml", delivery(person))
    assert PASSWD_MARK not in repr(items)
    (record,) = records(items)
    assert record.system is None
    assert [p.code for p in record.problems] == ["ELEMENT_NOT_TEXT"]


def test_deep_nesting_is_refused_not_a_crash():
    data = delivery(
        PERSON.replace("<Insatslista>", "<a>" * 100_000 + "</a>" * 100_000 + "<Insatslista>")
    )
    refused = refusal("xml", data)
    assert refused.code == "FILE_NOT_WELL_FORMED"


def test_a_kommun_value_repeated_after_the_personlista_is_reported():
    kommun = f"{KOMMUN_VALUES}<Personlista>{PERSON}</Personlista>{KOMMUN_VALUES}"
    items = read("xml", delivery(kommun=kommun))
    assert records(items)[0].orgnr == VASBY_ORGNR
    assert sorted((p.code, p.path) for p in problems(items)) == [
        ("ELEMENT_REPEATED", "/Leverans/Kommunlista/Kommun[1]/Kommunkod"),
        ("ELEMENT_REPEATED", "/Leverans/Kommunlista/Kommun[1]/Organisationsnummer"),
    ]
