"""The redacting log filter: the last line of defence for personnummer in logs."""

import copy
import io
import json
import logging
import logging.config

import pytest

from inuk.logging import RedactPersonnummer, redact
from tests.conftest import VASBY_ORGNR, make_cast


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("198812120387", "19881212-****"),
        ("19881212-0387", "19881212-****"),
        ("8812120387", "881212-****"),
        ("881212-0387", "881212-****"),
        ("881212+0387", "881212-****"),
        ("samordning 19980161-7891.", "samordning 19980161-****."),
        ("fil_198812120387.xml", "fil_19881212-****.xml"),
        ("user x8812120387", "user x881212-****"),
        ("19881212 0387", "19881212-****"),
    ],
)
def test_it_masks_every_written_form_of_a_personnummer(text, shown):
    assert redact(text) == shown


@pytest.mark.parametrize(
    "text",
    [
        VASBY_ORGNR,  # an organisation number: third digit 2 or more
        "delivery 8f1e2a7c-1988-1212-0387-3b5a9c0d1e2f",  # a UUID
        "sha256 9a19881212038700ff",  # inside a checksum
        "4 transaktioner",
    ],
)
def test_it_leaves_other_numbers_alone(text):
    assert redact(text) == text


def test_the_filter_rewrites_the_log_record(caplog):
    logger = logging.getLogger("inuk.test")
    logger.addFilter(RedactPersonnummer())
    with caplog.at_level(logging.INFO, logger="inuk.test"):
        logger.info("person %s failed", "198812120387")
    logger.filters.clear()
    assert "198812120387" not in caplog.text
    assert "19881212-****" in caplog.text


def test_the_filter_masks_a_personnummer_glued_to_letters_or_split_by_a_space(caplog):
    logger = logging.getLogger("inuk.test")
    logger.addFilter(RedactPersonnummer())
    with caplog.at_level(logging.INFO, logger="inuk.test"):
        logger.info("file %s from %s", "rapport198812120387.xml", "881212 0387")
    logger.filters.clear()
    assert "0387" not in caplog.text
    assert "rapport19881212-****.xml from 881212-****" in caplog.text


def _log_a_failure(logger: logging.Logger) -> None:
    def look_up(personnummer: str) -> None:
        raise LookupError(f"no person {personnummer}")

    try:
        look_up("19881212-0387")
    except LookupError:
        logger.exception("look-up failed")


def test_the_filter_masks_the_exception_and_its_traceback(caplog):
    logger = logging.getLogger("inuk.test")
    logger.addFilter(RedactPersonnummer())
    with caplog.at_level(logging.INFO, logger="inuk.test"):
        _log_a_failure(logger)
    logger.filters.clear()
    [record] = caplog.records
    formatted = logging.Formatter().format(record)
    assert "LookupError: no person 19881212-****" in formatted
    assert "Traceback" in formatted
    assert "0387" not in formatted
    assert "0387" not in caplog.text


def test_a_handler_that_formats_the_traceback_itself_sees_it_masked(tmp_path):
    # Any handler of the configured logging, whatever its formatter does.
    path = tmp_path / "log.txt"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.addFilter(RedactPersonnummer())
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("inuk.test.file")
    logger.addHandler(handler)
    try:
        _log_a_failure(logger)
    finally:
        logger.removeHandler(handler)
        handler.close()
    text = path.read_text(encoding="utf-8")
    assert "no person 19881212-****" in text
    assert "0387" not in text


def test_every_handler_the_settings_configure_redacts():
    # Django's default logging adds handlers of its own (a console, mails to
    # ADMINS) that would write a record before the root's filter masked it.
    handlers = [
        (name, handler)
        for name, logger in [("root", logging.root), *logging.root.manager.loggerDict.items()]
        if isinstance(logger, logging.Logger)
        for handler in logger.handlers
        # pytest's own capture, and libraries' NullHandler, which writes nothing
        if not type(handler).__module__.startswith("_pytest")
        and not isinstance(handler, logging.NullHandler)
    ]
    assert handlers
    for name, handler in handlers:
        assert any(isinstance(f, RedactPersonnummer) for f in handler.filters), name


@pytest.fixture
def json_log(settings):
    """The settings' own logging, switched to JSON lines, its console read back as written."""
    configured = copy.deepcopy(settings.LOGGING)
    configured["handlers"]["console"]["formatter"] = "json"
    logging.config.dictConfig(configured)
    written = io.StringIO()
    (console,) = logging.root.handlers
    console.setStream(written)  # type: ignore[attr-defined]

    def lines() -> list[dict]:
        return [json.loads(line) for line in written.getvalue().splitlines()]

    yield lines
    logging.config.dictConfig(settings.LOGGING)


@pytest.mark.django_db
def test_a_json_line_names_the_request_the_user_and_the_organisation(json_log, client):
    user = make_cast().vasby_reporter
    client.force_login(user)
    response = client.get("/konto/")
    assert response.status_code == 200
    (line,) = [line for line in json_log() if line["logger"] == "inuk.request"]
    assert line["request_id"] == response["X-Request-ID"]
    assert line["user"] == user.pk
    assert line["organisation"] == user.organisation_id
    assert (line["level"], line["method"], line["path"], line["status"]) == (
        "INFO",
        "GET",
        "/konto/",
        200,
    )
    assert user.email not in str(line)


@pytest.mark.django_db
def test_a_json_line_masks_a_personnummer_in_every_field(json_log, client):
    response = client.get("/leveranser/198812120387/")
    assert response.status_code == 404
    lines = json_log()
    assert {line["request_id"] for line in lines} == {response["X-Request-ID"]}
    assert len(lines) == 2  # Django's "Not Found" and the request's own line
    assert all("19881212-****" in line["message"] for line in lines)
    assert "198812120387" not in json.dumps(lines)


def test_a_line_written_outside_a_request_has_no_request(json_log):
    logging.getLogger("inuk.worker").warning("Delivery %s failed", 42)
    (line,) = json_log()
    assert line["message"] == "Delivery 42 failed"
    assert line["request_id"] is None and line["user"] is None
