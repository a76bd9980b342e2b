"""Whatever a file holds, its receipt fits the database's columns (issue: a long name)."""

from __future__ import annotations

import pytest

from inuk.format.writers import Person
from inuk.intake.models import Delivery, Message
from tests.conftest import ANNA, delivery_file, insats

pytestmark = pytest.mark.django_db(databases=["default", "vault"])

LONG_NAME = "Okänt" + "x" * 96  # 101 characters, more than a message's field holds


def test_an_unknown_element_with_a_long_name_is_reported_on_the_receipt(cast, agreements, deliver):
    data = delivery_file([Person(ANNA, [insats("SYV")])]).replace(
        b"<System>", f"<{LONG_NAME}>1</{LONG_NAME}><System>".encode(), 1
    )
    delivery = deliver(cast.vasby, data)

    assert delivery.status == Delivery.Status.APPLIED
    message = Message.objects.get(delivery=delivery, code="ELEMENT_UNKNOWN")
    field_length = Message._meta.get_field("field").max_length
    assert message.field == LONG_NAME[:field_length]
    assert LONG_NAME[:field_length] in message.path


def test_an_unknown_json_key_with_a_long_name_is_reported_on_the_receipt(cast, agreements, deliver):
    data = delivery_file([Person(ANNA, [insats("SYV")])], format="json").replace(
        b'"System": "SystemX"', f'"System": "SystemX", "{LONG_NAME}": "1"'.encode(), 1
    )
    delivery = deliver(cast.vasby, data, format="json")

    assert delivery.status == Delivery.Status.APPLIED
    assert delivery.rejected == 1
    message = Message.objects.get(delivery=delivery, code="ELEMENT_UNKNOWN")
    assert message.field == LONG_NAME[: Message._meta.get_field("field").max_length]
