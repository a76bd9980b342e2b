"""A delivery's statuses are the model's: the client and the API name the same ones."""

from __future__ import annotations

import typing

from inuk.api import schemas
from inuk.intake import submit_command
from inuk.intake.models import Delivery
from inuk.intake.receipts import DRY_RUN


def test_the_client_knows_every_status_a_receipt_may_have():
    assert set(submit_command.STATUS_TEXT) == {*Delivery.Status.values, DRY_RUN}


def test_the_client_waits_for_exactly_the_final_statuses():
    assert set(submit_command.FINAL) == {*Delivery.FINAL, DRY_RUN}


def test_the_api_publishes_the_model_s_statuses_in_its_order():
    assert typing.get_args(schemas.DeliveryStatus) == tuple(Delivery.Status.values)
    assert typing.get_args(schemas.ReceiptStatus) == (*Delivery.Status.values, DRY_RUN)
