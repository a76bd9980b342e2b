"""No personnummer leaves intake and the vault (SPEC §8): not into the statistics
database, the task queue, logs or receipts."""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.db import connections

from inuk.intake import receipts
from inuk.intake.models import Delivery
from inuk.intake.receive import Submission, receive
from tests.intake.deliveries import VASBY, Person, Tx, pnr, xml

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "vault"])

VALID = [
    pnr("19990101", "123"),
    pnr("20010202", "456"),
    pnr("19980161", "789"),
]  # last: samordningsnummer
BROKEN = VALID[0][:-1] + str((int(VALID[0][-1]) + 3) % 10)


def forms(number: str) -> list[str]:
    """The ways a personnummer can be written: 12 digits, 10 digits, with a dash."""
    return [number, number[2:], f"{number[2:8]}-{number[8:]}", f"{number[:8]}-{number[8:]}"]


def leaks(text: str) -> list[str]:
    return [form for number in [*VALID, BROKEN] for form in forms(number) if form in text]


def dump_database(alias: str) -> str:
    connection = connections[alias]
    parts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, (bytes, memoryview)):
                        value = bytes(value).decode("latin-1")
                    parts.append(str(value))
    return "\n".join(parts)


def test_no_personnummer_outside_the_vault(vasby, deliver, caplog):
    caplog.set_level(logging.DEBUG)
    persons = [Person(number, [Tx("SYV"), Tx("ARB", kind="R")]) for number in VALID]
    deliveries = [
        deliver(vasby, xml(*VASBY, persons)),
        deliver(vasby, xml(*VASBY, [Person(BROKEN, [Tx()]), Person(VALID[0], [Tx("NOPE")])])),
        deliver(vasby, xml(*VASBY, persons)[:-30]),  # refused: not well-formed
        deliver(vasby, xml(*VASBY, [Person(VALID[1], [Tx(status="Borttag", start="20200101")])])),
        deliver(vasby, xml(*VASBY, persons) + b" ", process_inline=False),
    ]
    from inuk.intake.worker import process_pending

    process_pending("test")
    statuses = set(Delivery.objects.values_list("status", flat=True))
    assert statuses == {"applied", "refused"}

    assert leaks(dump_database("default")) == []
    assert leaks(json.dumps([receipts.receipt(d) for d in deliveries])) == []
    assert leaks(caplog.text) == []


def test_the_vault_does_hold_them_encrypted(vasby, deliver):
    deliver(vasby, xml(*VASBY, [Person(VALID[0], [Tx()])]))
    assert leaks(dump_database("vault")) == []  # encrypted, so not readable there either
    from inuk.vault.pseudonymize import find

    assert find(VALID[0]) is not None


def test_a_disguised_personnummer_is_masked_wherever_a_delivery_carries_free_text(vasby, caplog):
    caplog.set_level(logging.DEBUG)
    number = VALID[0]
    glued, split, inside = f"x{number}", f"{number[2:8]} {number[8:]}", f"id{number[2:]}y"
    person = Person(
        VALID[1],
        [
            Tx(system=f"SystemX {glued}"),  # accepted, stored masked
            Tx("ARB", kind="R", system=split),  # a System that is a personnummer: an error
            Tx(start="20240106", status=f"Ny{inside}"),  # the error shows its value masked
        ],
    )
    submission = Submission(organisation=vasby, filename=f"leverans_{inside}.xml")
    delivery = receive(io.BytesIO(xml(*VASBY, [person])), submission)

    delivery.refresh_from_db()
    assert delivery.filename == f"leverans_id{number[2:8]}-****y.xml"
    receipt = json.dumps(receipts.receipt(delivery), ensure_ascii=False)
    assert {"SYSTEM_PERSONNUMMER", "STATUS_UNKNOWN"} <= {e["code"] for e in receipt_errors(receipt)}
    everything = "\n".join([dump_database("default"), receipt, caplog.text])
    for disguise in (glued, split, inside, number, number[2:]):
        assert disguise not in everything
    assert f"SystemX x{number[:8]}-****" in dump_database("default")


def receipt_errors(receipt: str) -> list[dict]:
    return json.loads(receipt)["errors"]
