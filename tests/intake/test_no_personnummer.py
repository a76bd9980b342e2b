"""No personnummer leaves intake and the vault (SPEC §8): not into the statistics
database, the task queue, logs or receipts."""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.db import connections

from inuk.format.writers import Person
from inuk.intake import receipts
from inuk.intake.models import Delivery
from inuk.intake.receive import Submission, receive
from tests.conftest import ANNA, BO, DORIS, delivery_file, insats, resultat

pytestmark = [
    pytest.mark.slow,  # deliveries committed for real, every table read: seconds each
    pytest.mark.django_db(transaction=True, databases=["default", "vault"]),
]

VALID = [ANNA, BO, DORIS]  # Doris's: a samordningsnummer
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


def test_no_personnummer_outside_the_vault(cast, agreements, deliver, caplog):
    caplog.set_level(logging.DEBUG)
    persons = [Person(number, [insats("SYV")], [resultat("ARB")]) for number in VALID]
    deliveries = [
        deliver(cast.vasby, delivery_file(persons)),
        deliver(
            cast.vasby,
            delivery_file([Person(BROKEN, [insats()]), Person(VALID[0], [insats("NOPE")])]),
        ),
        deliver(cast.vasby, delivery_file(persons)[:-30]),  # refused: not well-formed
        deliver(
            cast.vasby,
            delivery_file([Person(VALID[1], [insats(status="Borttag", start="20200101")])]),
        ),
        deliver(cast.vasby, delivery_file(persons) + b" ", process_inline=False),
    ]
    from inuk.intake.worker import process_pending

    process_pending("test")
    statuses = set(Delivery.objects.values_list("status", flat=True))
    assert statuses == {"applied", "refused"}

    assert leaks(dump_database("default")) == []
    assert leaks(json.dumps([receipts.receipt(d) for d in deliveries])) == []
    assert leaks(caplog.text) == []


def test_the_vault_does_hold_them_encrypted(cast, agreements, deliver):
    deliver(cast.vasby, delivery_file([Person(VALID[0], [insats()])]))
    assert leaks(dump_database("vault")) == []  # encrypted, so not readable there either
    from inuk.vault.pseudonymize import find

    assert find(VALID[0]) is not None


def test_a_disguised_personnummer_is_masked_wherever_a_delivery_carries_free_text(
    cast, agreements, caplog
):
    caplog.set_level(logging.DEBUG)
    number = VALID[0]
    glued, split, inside = f"x{number}", f"{number[2:8]} {number[8:]}", f"id{number[2:]}y"
    person = Person(
        VALID[1],
        [
            insats(system=f"SystemX {glued}"),  # accepted, stored masked
            insats(start="20240106", status=f"Ny{inside}"),  # the error shows its value masked
        ],
        [resultat("ARB", system=split)],  # a System that is a personnummer: an error
    )
    submission = Submission(organisation=cast.vasby, filename=f"leverans_{inside}.xml")
    delivery = receive(io.BytesIO(delivery_file([person])), submission)

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
