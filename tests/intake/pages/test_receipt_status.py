"""The receipt's JSON twin (/leveranser/<id>/status.json), polled while a file is processed."""

from __future__ import annotations

import pytest

from inuk.intake.models import Delivery
from inuk.intake.receipts import receipt
from inuk.intake.worker import process_pending
from tests.intake.pages.conftest import file_with_errors

pytestmark = pytest.mark.django_db(databases=["default", "vault"])


def url(delivery: Delivery) -> str:
    return f"/leveranser/{delivery.public_id}/status.json"


def test_it_is_the_receipt_without_its_message_lists(cast, client_as, deliver):
    delivery = deliver(cast.vasby, file_with_errors())
    data = client_as(cast.vasby_reporter).get(url(delivery)).json()
    expected = receipt(delivery)
    del expected["errors"], expected["warnings"]
    assert data == expected
    assert data["errors_total"] == 2


def test_it_follows_a_delivery_from_waiting_to_applied(cast, client_as, deliver):
    delivery = deliver(cast.vasby, file_with_errors(), process_inline=False)
    client = client_as(cast.vasby_analyst)
    waiting = client.get(url(delivery)).json()
    assert (waiting["status"], waiting["progress"], waiting["finished_at"]) == (
        "received",
        None,
        None,
    )
    process_pending("test")
    done = client.get(url(delivery)).json()
    assert done["status"] == "applied"
    assert done["counts"]["rejected"] == 2 and done["finished_at"]


def test_it_reports_progress_while_processing(cast, client_as, on_file):
    delivery = on_file(cast.vasby, status=Delivery.Status.PROCESSING, size=2000, bytes_read=500)
    response = client_as(cast.vasby_reporter).get(url(delivery))
    assert response.json()["progress"] == 0.25
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.parametrize(
    ("member", "status"),
    [
        ("vasby_reporter", 200),
        ("vallentuna_reporter", 404),
        ("vallentuna_analyst", 404),
        ("vasby_admin", 404),
        ("af_analyst", 404),
        ("af_admin", 200),
        ("identity_officer", 200),
    ],
)
def test_another_municipality_gets_404(cast, client_as, on_file, member, status):
    delivery = on_file(cast.vasby)
    assert client_as(getattr(cast, member)).get(url(delivery)).status_code == status
