"""``POST /api/v1/deliveries``: a file in, its receipt out, the status code saying what happened."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from inuk.audit.models import Entry
from inuk.format import writers
from inuk.format.synthetic import personnummer
from inuk.format.writers import Person
from inuk.intake.models import Delivery
from inuk.intake.worker import process_pending
from inuk.ledger.models import Transaction
from tests.conftest import (
    ANNA,
    BO,
    VALLENTUNA_CODE,
    VASBY_ORGNR,
    Cast,
    delivery_file,
    insats,
)

pytestmark = pytest.mark.django_db(databases=["default", "vault"])


def vasby_file(*transactions: writers.Transaction) -> bytes:
    return delivery_file(
        [Person(ANNA, list(transactions) or [insats("SYV", "20240105", "20240301")])]
    )


def csv_file() -> bytes:
    return delivery_file([Person(ANNA, [insats("SYV")])], format="csv")


@pytest.fixture
def vasby_api(cast: Cast, agreements, api_as):
    return api_as(cast.token(cast.vasby, "deliver", "read"))


def test_a_small_file_is_processed_at_once_and_answered_201_with_its_receipt(vasby_api):
    response = vasby_api.post("/deliveries", vasby_file(), query="filename=januari.xml")
    assert response.status_code == 201, response.content
    body = response.json()
    delivery = Delivery.objects.get()
    assert body["id"] == str(delivery.public_id)
    assert body["status"] == "applied"
    assert body["repeat"] is False
    assert body["counts"]["accepted"] == 1
    assert body["url"] == f"http://testserver/api/v1/deliveries/{delivery.public_id}"
    assert response["Location"] == body["url"]
    assert body["errors_csv"].endswith(f"/deliveries/{delivery.public_id}/errors.csv")
    assert delivery.channel == "api"
    assert delivery.filename == "januari.xml"
    assert delivery.submitted_by.startswith("token:")
    assert Transaction.objects.count() == 1


def test_the_body_is_streamed_not_read_into_memory(vasby_api, settings):
    # Django refuses to load a body over this size into request.body; streaming is not affected.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    data = delivery_file(
        [Person(personnummer(dt.date(1999, 1, 1), n), [insats("SYV")]) for n in range(1, 21)]
    )
    assert len(data) > 10 * settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = vasby_api.post("/deliveries", data)
    assert response.status_code == 201, response.content
    assert response.json()["counts"]["accepted"] == 20


def test_a_large_file_is_accepted_202_for_a_worker(vasby_api, settings):
    settings.INUK_INLINE_MAX_BYTES = 10
    response = vasby_api.post("/deliveries", vasby_file())
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "received"
    assert body["finished_at"] is None
    assert Transaction.objects.count() == 0


def test_the_same_bytes_again_answer_200_with_the_first_receipt_marked_as_a_repeat(vasby_api):
    first = vasby_api.post("/deliveries", vasby_file()).json()
    again = vasby_api.post("/deliveries", vasby_file())
    assert again.status_code == 200
    assert again["Inuk-Repeat"] == "true"
    assert again.json()["repeat"] is True
    assert again.json()["id"] == first["id"]
    assert Delivery.objects.count() == 1


def test_a_dry_run_answers_200_with_a_receipt_without_id_and_stores_nothing(vasby_api):
    response = vasby_api.post("/deliveries", vasby_file(), query="dry_run=true")
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["status"], body["url"]) == (None, "dry_run", None)
    assert body["counts"]["transactions"] == 1
    assert not Delivery.objects.exists()


def test_a_large_dry_run_answers_202_and_a_worker_checks_it_as_the_inline_one_would(
    vasby_api, settings
):
    data = vasby_file(insats("SYV"), insats("NOPE", "20240110"))
    inline = vasby_api.post("/deliveries", data, query="dry_run=true").json()
    settings.INUK_INLINE_MAX_BYTES = len(data) - 1
    response = vasby_api.post("/deliveries", data, query="dry_run=true")
    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["status"], body["dry_run"], body["finished_at"]) == ("received", True, None)
    assert response["Location"] == body["url"]
    assert process_pending("test") == 1
    checked = vasby_api.get(body["url"].removeprefix("http://testserver/api/v1")).json()
    assert (checked["status"], checked["dry_run"]) == ("checked", True)
    for name in ("counts", "errors", "errors_total", "refusal"):
        assert checked[name] == inline[name], name
    assert not Transaction.objects.exists()
    listed = vasby_api.get("/deliveries").json()["items"]
    assert [(item["status"], item["dry_run"]) for item in listed] == [("checked", True)]


def test_the_same_bytes_sent_for_real_after_a_large_dry_run_are_received_and_applied(
    vasby_api, settings
):
    settings.INUK_INLINE_MAX_BYTES = 10
    tried = vasby_api.post("/deliveries", vasby_file(), query="dry_run=true").json()
    process_pending("test")
    settings.INUK_INLINE_MAX_BYTES = 1024 * 1024
    response = vasby_api.post("/deliveries", vasby_file())
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["repeat"], body["dry_run"]) == ("applied", False, False)
    assert body["id"] != tried["id"]
    assert Transaction.objects.count() == 1


def test_a_strict_delivery_with_an_error_is_rejected_whole(vasby_api):
    data = vasby_file(insats("SYV"), insats("NOPE", "20240110"))
    body = vasby_api.post("/deliveries", data, query="strict=true").json()
    assert body["status"] == "rejected"
    assert body["strict"] is True
    assert (body["counts"]["accepted"], body["counts"]["rejected"]) == (0, 1)
    assert body["errors"][0]["code"] == "CODE_UNKNOWN"


def test_a_file_as_multipart_is_received_under_its_own_name(vasby_api, tmp_path):
    path = tmp_path / "leverans-2026-11.xml"
    path.write_bytes(vasby_file())
    with open(path, "rb") as upload:
        response = vasby_api.post("/deliveries", {"file": upload})
    assert response.status_code == 201, response.content
    assert Delivery.objects.get().filename == "leverans-2026-11.xml"


def test_an_upload_spooled_to_disk_is_removed_when_its_request_ends(vasby_api, settings, tmp_path):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 10  # every upload goes to the data directory
    path = tmp_path / "leverans.xml"
    path.write_bytes(vasby_file()[:-30])  # cut short: refused
    with open(path, "rb") as upload:
        response = vasby_api.post("/deliveries", {"file": upload})

    assert response.status_code == 201
    assert response.json()["status"] == "refused"
    assert list(Path(settings.FILE_UPLOAD_TEMP_DIR).iterdir()) == []


def test_multipart_without_the_file_field_is_400(vasby_api):
    response = vasby_api.post("/deliveries", {"other": "x"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "FILE_FIELD_MISSING"


@pytest.mark.parametrize(
    ("content_type", "data", "fmt"),
    [
        ("application/xml", vasby_file(), "xml"),
        ("text/xml; charset=utf-8", vasby_file(), "xml"),
        ("text/csv", csv_file(), "csv"),
        ("application/octet-stream", csv_file(), "csv"),
        ("application/octet-stream", vasby_file(), "xml"),
    ],
)
def test_the_content_type_names_the_format_or_octet_stream_has_it_detected(
    vasby_api, content_type, data, fmt
):
    response = vasby_api.post("/deliveries", data, content_type=content_type)
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "applied"
    assert response.json()["format"] == fmt


def test_a_csv_file_sent_as_xml_is_refused_as_not_well_formed(vasby_api):
    body = vasby_api.post("/deliveries", csv_file(), content_type="application/xml").json()
    assert body["status"] == "refused"
    assert body["refusal"]["code"] == "FILE_NOT_WELL_FORMED"


def test_the_format_parameter_overrides_the_content_type(vasby_api):
    response = vasby_api.post(
        "/deliveries", csv_file(), content_type="application/xml", query="format=csv"
    )
    assert response.json()["status"] == "applied"


def test_a_refused_file_gets_a_refused_receipt(vasby_api):
    response = vasby_api.post("/deliveries", b"<Leverans><oops></Leverans>")
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "refused"
    assert body["refusal"]["code"] == "FILE_NOT_WELL_FORMED"
    assert body["refusal"]["message_sv"] and body["refusal"]["message_en"]


def test_a_municipality_without_an_agreement_in_force_is_refused(cast, api_as):
    api = api_as(cast.token(cast.vasby))
    body = api.post("/deliveries", vasby_file()).json()
    assert body["status"] == "refused"
    assert body["refusal"]["code"] == "AGREEMENT_NOT_IN_FORCE"


def test_a_file_for_another_municipality_is_refused(vasby_api):
    data = delivery_file([Person(BO, [insats("SYV")])], kommunkod=VALLENTUNA_CODE)
    body = vasby_api.post("/deliveries", data).json()
    assert body["status"] == "refused"
    assert body["refusal"]["code"] == "KOMMUNKOD_NOT_OWN"


def error_code(response) -> str:
    return response.json()["error"]["code"]


def test_a_multipart_body_without_a_boundary_is_400(vasby_api):
    response = vasby_api.post("/deliveries", b"not multipart", content_type="multipart/form-data")
    assert response.status_code == 400
    assert error_code(response) == "INVALID_REQUEST"
    assert response.json()["error"]["details"][0]["where"] == "body"


def test_an_empty_body_is_400(vasby_api):
    response = vasby_api.post("/deliveries", b"")
    assert response.status_code == 400
    assert error_code(response) == "FILE_EMPTY"
    assert not Delivery.objects.exists()


def test_an_unsupported_content_type_is_415(vasby_api):
    response = vasby_api.post(
        "/deliveries", b"a=b", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert error_code(response) == "UNSUPPORTED_MEDIA_TYPE"
    error = response.json()["error"]
    assert "application/xml" in error["message_sv"] and "application/xml" in error["message_en"]


def test_a_body_announced_over_the_limit_is_413_before_it_is_read(vasby_api, settings):
    settings.INUK_MAX_DELIVERY_BYTES = 1000
    # The announced length is far beyond what is sent: reading would hang or fail.
    response = vasby_api.post("/deliveries", b"<Leverans/>", CONTENT_LENGTH="5000000000")
    assert response.status_code == 413
    assert error_code(response) == "FILE_TOO_LARGE"
    assert not Delivery.objects.exists()


def test_a_multipart_file_over_the_limit_is_413(vasby_api, settings, tmp_path):
    data = vasby_file()
    settings.INUK_MAX_DELIVERY_BYTES = len(data) - 1
    path = tmp_path / "leverans.xml"
    path.write_bytes(data)
    with open(path, "rb") as upload:
        response = vasby_api.post("/deliveries", {"file": upload})
    assert response.status_code == 413
    assert not Delivery.objects.exists()


def test_a_chunked_body_without_a_length_is_411(vasby_api):
    response = vasby_api.post(
        "/deliveries", vasby_file(), CONTENT_LENGTH="", HTTP_TRANSFER_ENCODING="chunked"
    )
    assert response.status_code == 411
    assert error_code(response) == "LENGTH_REQUIRED"


def test_no_token_is_401_with_a_bearer_challenge(api_as, agreements, cast):
    response = api_as(None).post("/deliveries", vasby_file())
    assert response.status_code == 401
    assert error_code(response) == "AUTHENTICATION_REQUIRED"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_token_without_the_deliver_permission_is_403(cast, agreements, api_as):
    response = api_as(cast.token(cast.vasby, "read")).post("/deliveries", vasby_file())
    assert response.status_code == 403
    assert error_code(response) == "NOT_ALLOWED_TO_DELIVER"
    assert not Delivery.objects.exists()


def test_the_errors_are_json_with_swedish_and_english_messages(vasby_api):
    response = vasby_api.post("/deliveries", b"")
    assert response["Content-Type"] == "application/json; charset=utf-8"
    error = json.loads(response.content.decode("utf-8"))["error"]
    assert set(error) == {"code", "message_sv", "message_en"}
    assert "Filen är tom." in response.content.decode("utf-8")  # not \u escaped


def test_receiving_is_audited_with_the_token_as_actor(vasby_api):
    vasby_api.post("/deliveries", vasby_file())
    entry = Entry.objects.get(event="delivery.received")
    assert entry.actor.startswith("token:")
    assert entry.organisation == VASBY_ORGNR
