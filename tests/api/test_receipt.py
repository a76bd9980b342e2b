"""``GET /api/v1/deliveries/{id}`` and ``.../errors.csv``: one receipt, and all its messages."""

from __future__ import annotations

import csv
import io

import pytest

from inuk.audit.models import Entry
from inuk.intake import receipts
from inuk.intake.models import FAILURE, FAILURE_CODE, Delivery
from tests.api.conftest import fresh_delivery
from tests.conftest import VASBY_ORGNR, Cast

pytestmark = pytest.mark.django_db(databases=["default", "vault"])


@pytest.fixture
def vasby_reader(cast: Cast, agreements, api_as):
    return api_as(cast.token(cast.vasby, "read"))


def test_the_receipt_is_the_shared_receipt_shape_with_its_links(cast, vasby_reader):
    delivery = fresh_delivery(cast.vasby, bad=2)
    response = vasby_reader.get(f"/deliveries/{delivery.public_id}")
    assert response.status_code == 200
    body = response.json()
    expected = receipts.receipt(Delivery.objects.get(pk=delivery.pk))
    assert {key: body[key] for key in expected} == expected
    assert body["url"] == f"http://testserver/api/v1/deliveries/{delivery.public_id}"
    assert body["errors_csv"] == body["url"] + "/errors.csv"
    assert body["counts"]["rejected"] == 2
    assert [error["code"] for error in body["errors"]] == ["CODE_UNKNOWN", "CODE_UNKNOWN"]


def test_a_failed_delivery_is_final_with_the_reason(cast, vasby_reader):
    delivery = fresh_delivery(cast.vasby)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.FAILED,
        refusal_code=FAILURE_CODE,
        refusal_sv=FAILURE.sv,
        refusal_en=FAILURE.en,
    )
    body = vasby_reader.get(f"/deliveries/{delivery.public_id}").json()
    assert body["status"] == "failed"
    assert body["refusal"] is None
    assert body["failure"] == {
        "code": "PROCESSING_FAILED",
        "message_sv": FAILURE.sv,
        "message_en": FAILURE.en,
    }


@pytest.mark.parametrize("receipt_id", ["0b6f3c52-5d1e-4b8e-9a51-2f0c7d9e4a11", "not-a-uuid", "1"])
def test_an_unknown_id_is_404(vasby_reader, receipt_id):
    response = vasby_reader.get(f"/deliveries/{receipt_id}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "DELIVERY_NOT_FOUND"


def test_another_organisations_receipt_is_404_like_an_unknown_one(cast, vasby_reader):
    theirs = fresh_delivery(cast.vallentuna)
    for path in (f"/deliveries/{theirs.public_id}", f"/deliveries/{theirs.public_id}/errors.csv"):
        response = vasby_reader.get(path)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "DELIVERY_NOT_FOUND"


def read_csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def test_the_csv_has_every_message_streamed_beyond_the_receipts_limit(
    cast, vasby_reader, monkeypatch
):
    monkeypatch.setattr("inuk.intake.receipts.CSV_BATCH", 3)
    delivery = fresh_delivery(cast.vasby, bad=7)
    response = vasby_reader.get(f"/deliveries/{delivery.public_id}/errors.csv")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0] == ["severity", *receipts.MESSAGE_FIELDS]
    assert len(rows) == 1 + 7
    assert {row[1] for row in rows[1:]} == {"CODE_UNKNOWN"}
    assert all(row[0] == "error" for row in rows[1:])


def test_a_receipt_without_messages_gives_a_csv_with_the_header_only(cast, vasby_reader):
    delivery = fresh_delivery(cast.vasby)
    rows = read_csv(vasby_reader.get(f"/deliveries/{delivery.public_id}/errors.csv"))
    assert rows == [["severity", *receipts.MESSAGE_FIELDS]]


def test_downloading_the_csv_is_audited_as_an_export(cast, vasby_reader):
    delivery = fresh_delivery(cast.vasby, bad=1)
    vasby_reader.get(f"/deliveries/{delivery.public_id}/errors.csv")
    entry = Entry.objects.get(event="export")
    assert entry.target == str(delivery.public_id)
    assert entry.organisation == VASBY_ORGNR
    assert entry.actor.startswith("token:")


def test_the_token_that_sent_a_delivery_follows_its_receipt_without_the_read_permission(
    cast, agreements, api_as, settings
):
    settings.INUK_INLINE_MAX_BYTES = 0
    sender = api_as(cast.token(cast.vasby, "deliver", name="Procapita"))
    other_sender = api_as(cast.token(cast.vasby, "deliver", name="Combine"))
    posted = sender.post("/deliveries", b"x" * 10, content_type="text/csv").json()
    assert sender.get(f"/deliveries/{posted['id']}").json()["status"] == "received"
    assert [item["id"] for item in sender.get("/deliveries").json()["items"]] == [posted["id"]]
    # Another deliver-only token of the same organisation does not see it.
    assert other_sender.get(f"/deliveries/{posted['id']}").status_code == 404
    assert other_sender.get("/deliveries").json()["items"] == []
