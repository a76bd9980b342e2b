"""The redacting log filter: the last line of defence for personnummer in logs."""

import logging

import pytest

from inuk.logging import RedactPersonnummer, redact


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("198812120387", "19881212-****"),
        ("19881212-0387", "19881212-****"),
        ("8812120387", "881212-****"),
        ("881212-0387", "881212-****"),
        ("881212+0387", "881212-****"),
        ("samordning 19980161-7891.", "samordning 19980161-****."),
    ],
)
def test_it_masks_every_written_form_of_a_personnummer(text, shown):
    assert redact(text) == shown


@pytest.mark.parametrize(
    "text",
    [
        "2120000019",  # an organisation number: third digit 2 or more
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
