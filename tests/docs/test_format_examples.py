"""The published delivery format (``docs/format/``) agrees with the validator.

Suppliers build their exports from the schemas, the format page and the
example files alone, so each of them is checked against what the service
actually does: the valid examples pass, each invalid example breaks exactly
the rule it is named for, every rule the offline validator checks has an
example, and the format page lists every error code with its messages.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from lxml import etree

from inuk.format import readers
from inuk.format.errors import RULES
from inuk.format.readers import csv as csv_format
from inuk.format.records import Record
from inuk.format.report import validate_path

DOCS = Path(__file__).resolve().parents[2] / "docs"
FORMAT = DOCS / "format"
EXAMPLES = FORMAT / "examples"
INVALID = EXAMPLES / "invalid"
VALID = sorted(EXAMPLES.glob("valid.*"))
INVALID_EXAMPLES = sorted(path for path in INVALID.iterdir() if path.is_file())

#: Rules with no example file, and why.
EXEMPT = {
    # Need the service's register of organisations, agreements and
    # authorisations, which the offline validator does not have.
    "ORG_NOT_SENDER": "needs the sender and the register",
    "ORG_NOT_REGISTERED": "needs the register",
    "AGREEMENT_NOT_IN_FORCE": "needs the register of agreements",
    "KOMMUNKOD_NOT_AUTHORISED": "needs the register of supplier authorisations",
    # A warning about the ledger's state, given when a delivery is applied.
    "IDENTITY_UNKNOWN": "needs the ledger",
    # An example would have to be 2 GB; tested below with a tiny limit instead.
    "FILE_TOO_LARGE": "tested with a small limit",
    # An example would take 4 MB; tests/format/readers/test_limits.py makes its files.
    "FILE_PERSON_TOO_LARGE": "tested with generated files",
}

#: Codes that refuse the whole file rather than a transaction.
REFUSALS = {code for code in RULES if code.startswith("FILE_")}

#: Invalid XML examples whose rule the XML Schema itself can express.
SCHEMA_EXPRESSES = [
    "ELEMENT_MISSING",
    "ELEMENT_NOT_TEXT",
    "ELEMENT_REPEATED",
    "ELEMENT_UNKNOWN",
    "FILE_WRONG_ROOT",
    "KOMMUNKOD_FORMAT",
    "LIST_EMPTY",
    "ORGNR_FORMAT",
    "ORGNR_THIRD_DIGIT",
    "PERSON_WITHOUT_LISTS",
    "PNR_CENTURY",
    "PNR_FORMAT",
    "STATUS_UNKNOWN",
    "SYSTEM_LENGTH",
    "TIMESTAMP_FORMAT",
]


def code_of(path: Path) -> str:
    """The code an example is named for: ``FILE_DOCTYPE.billion-laughs.xml`` is FILE_DOCTYPE."""
    return path.name.split(".")[0]


def reported_codes(report: dict) -> set[str]:
    return {error["code"] for error in report["errors"]}


def records(path: Path) -> list[tuple]:
    """The transactions a reader finds in ``path``, as plain values."""
    with open(path, "rb") as stream:
        _, items = readers.open_delivery(stream, max_bytes=None)
        return [
            (
                item.kind,
                item.orgnr,
                item.kommunkod,
                item.personnummer,
                item.transaktionsdatum,
                item.status,
                item.code,
                item.start,
                item.end,
                item.system,
            )
            for item in items
            if isinstance(item, Record)
        ]


def json_validator():
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    schema = json.loads((FORMAT / "leverans.schema.json").read_text(encoding="utf-8"))
    assert jsonschema_rs.meta.is_valid(schema)
    return jsonschema_rs.Draft202012Validator(schema)


def xml_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(FORMAT / "leverans.xsd")))


# --- the examples and the validator --------------------------------------------


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_every_valid_example_validates_without_an_error(path):
    report = validate_path(path)

    assert report["errors"] == []
    assert report["valid"] is True
    assert report["format"] == path.suffix[1:]
    assert report["counts"] == {"persons": 4, "transactions": 10, "errors": 0}


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_every_valid_example_validates_when_its_format_is_named(path):
    report = validate_path(path, path.suffix[1:])

    assert report["valid"] is True, report["errors"]


@pytest.mark.parametrize("path", INVALID_EXAMPLES, ids=lambda p: p.name)
def test_each_invalid_example_fails_with_exactly_the_code_it_is_named_for(path):
    code = code_of(path)
    report = validate_path(path)

    assert report["valid"] is False
    assert reported_codes(report) == {code}
    assert bool(report.get("refused")) == (code in REFUSALS)


def test_a_malformed_file_keeps_its_own_code_after_a_file_with_an_entity_was_read():
    # A validator run (or a worker) reads many files in one process: what one
    # file did must not change the verdict on the next.
    validate_path(INVALID / "FILE_DOCTYPE.undeclared-entity.xml")

    assert reported_codes(validate_path(INVALID / "FILE_NOT_WELL_FORMED.xml")) == {
        "FILE_NOT_WELL_FORMED"
    }
    assert reported_codes(validate_path(INVALID / "FILE_TRUNCATED.xml")) == {"FILE_TRUNCATED"}


def test_every_rule_the_offline_validator_checks_has_an_example():
    assert set(EXEMPT) <= set(RULES)
    named = {code_of(path) for path in INVALID_EXAMPLES}

    assert named - set(RULES) == set(), "examples named for no rule"
    assert set(RULES) - set(EXEMPT) - named == set(), "rules without an example"
    assert named & set(EXEMPT) == set()


def test_a_file_over_the_size_limit_is_refused_unread():
    report = validate_path(EXAMPLES / "valid.xml", max_bytes=100)

    assert report["valid"] is False
    assert report["refused"] is True
    assert reported_codes(report) == {"FILE_TOO_LARGE"}


def test_the_attack_examples_never_reach_the_file_system():
    for path in INVALID.glob("FILE_DOCTYPE*.xml"):
        report = validate_path(path)

        assert reported_codes(report) == {"FILE_DOCTYPE"}
        assert "root:" not in json.dumps(report)  # /etc/passwd's first line


def test_the_three_valid_examples_hold_the_same_records():
    xml, csv, json_ = (records(EXAMPLES / f"valid.{suffix}") for suffix in ("xml", "csv", "json"))

    assert len(xml) == 10
    assert csv == xml
    assert json_ == xml


# --- the schemas ----------------------------------------------------------------


def test_the_xml_example_is_valid_against_the_xml_schema():
    schema = xml_schema()

    assert schema.validate(etree.parse(str(EXAMPLES / "valid.xml"))), schema.error_log


@pytest.mark.parametrize("code", SCHEMA_EXPRESSES)
def test_the_xml_schema_rejects_what_it_can_express(code):
    schema = xml_schema()

    assert not schema.validate(etree.parse(str(INVALID / f"{code}.xml")))


def test_every_annotation_in_the_xml_schema_is_in_swedish_and_english():
    tree = etree.parse(str(FORMAT / "leverans.xsd"))
    namespaces = {"xs": "http://www.w3.org/2001/XMLSchema"}
    lang = "{http://www.w3.org/XML/1998/namespace}lang"
    annotations = tree.findall(".//xs:annotation", namespaces)

    assert annotations
    for annotation in annotations:
        languages = [d.get(lang) for d in annotation.findall("xs:documentation", namespaces)]
        assert languages == ["sv", "en"], etree.tostring(annotation)[:200]


def test_the_json_example_is_valid_against_the_json_schema():
    validator = json_validator()
    example = json.loads((EXAMPLES / "valid.json").read_text(encoding="utf-8"))

    assert [str(error) for error in validator.iter_errors(example)] == []


def _changed(change) -> dict:
    example = json.loads((EXAMPLES / "valid.json").read_text(encoding="utf-8"))
    change(example["Leverans"]["Kommunlista"][0]["Personlista"])
    return example


@pytest.mark.parametrize(
    "change",
    [
        lambda persons: persons[0].update(Personnummer="20010314-2378"),
        lambda persons: persons[0]["Insatslista"][0].update(Status="Ny"),
        lambda persons: persons[0]["Insatslista"][0].update(Transaktionsdatum="2024-02-12"),
        lambda persons: persons[0]["Insatslista"][0].update(StartdatumInsats="2024-01-08"),
        lambda persons: persons[0]["Insatslista"][0].pop("System"),
        lambda persons: persons[0]["Insatslista"][0].update(Kommentar="x"),
        lambda persons: persons[3].pop("Resultatlista"),
        lambda persons: persons[0].update(Insatslista=[]),
    ],
    ids=["pnr-dash", "status", "timestamp", "date", "missing", "unknown", "no-lists", "empty"],
)
def test_the_json_schema_rejects_what_it_can_express(change):
    assert not json_validator().is_valid(_changed(change))


@pytest.mark.parametrize("name", ["ELEMENT_NOT_TEXT.number.json", "FILE_JSON_SHAPE.json"])
def test_the_json_schema_rejects_the_json_examples_of_the_wrong_shape(name):
    example = json.loads((INVALID / name).read_text(encoding="utf-8"))

    assert not json_validator().is_valid(example)


# --- the format page ------------------------------------------------------------

ERROR_ROW = re.compile(r"^\| `([A-Z_]+)` \| [^|]+ \| (.+?) \| (.+?) \|$", re.MULTILINE)


def test_the_format_page_lists_every_error_code_and_no_other():
    page = (FORMAT / "README.md").read_text(encoding="utf-8")
    rows = ERROR_ROW.findall(page)
    listed = [code for code, _, _ in rows]

    assert sorted(listed) == sorted(set(listed)), "a code listed twice"
    assert set(listed) == set(RULES)


def test_the_format_page_gives_each_code_its_messages():
    page = (FORMAT / "README.md").read_text(encoding="utf-8")

    for code, sv, en in ERROR_ROW.findall(page):
        assert (sv, en) == (RULES[code].sv, RULES[code].en), code


def test_every_code_the_format_page_mentions_is_a_rule():
    page = (FORMAT / "README.md").read_text(encoding="utf-8")
    mentioned = set(re.findall(r"`([A-Z]+(?:_[A-Z]+)+)`", page)) - {"INUK_MAX_DELIVERY_BYTES"}

    assert mentioned - set(RULES) == set()


def test_the_examples_page_describes_every_invalid_example():
    page = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    described = set(re.findall(r"^\| `([^`]+)` \|", page, re.MULTILINE))

    assert described == {path.name for path in INVALID_EXAMPLES}


def test_the_csv_description_has_the_readers_header():
    page = (FORMAT / "csv.md").read_text(encoding="utf-8")

    assert ";".join(csv_format.HEADER) in page
    assert (
        ";".join(csv_format.HEADER)
        == (EXAMPLES / "valid.csv").read_text(encoding="utf-8").splitlines()[0]
    )


# --- links between the pages ----------------------------------------------------

LINK = re.compile(r"\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6} (.+)$", re.MULTILINE)


def anchor(heading: str) -> str:
    """The anchor a Markdown heading gets on GitHub and most renderers."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


@pytest.mark.parametrize(
    "page",
    [FORMAT / "README.md", FORMAT / "csv.md", EXAMPLES / "README.md", DOCS / "glossary.md"],
    ids=lambda p: p.relative_to(DOCS).as_posix(),
)
def test_every_link_on_the_page_leads_somewhere(page):
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if target.startswith(("http://", "https://")):
            continue
        file_part, _, fragment = target.partition("#")
        linked = (page.parent / file_part).resolve() if file_part else page
        assert linked.exists(), target
        if fragment:
            headings = HEADING.findall(linked.read_text(encoding="utf-8"))
            assert fragment in {anchor(h) for h in headings}, target
