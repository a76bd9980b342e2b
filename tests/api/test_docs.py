"""The OpenAPI description and the readable docs page, which must work without internet."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from inuk.api.errors import ERRORS

pytestmark = pytest.mark.django_db


def test_the_openapi_description_lists_every_endpoint(client: Client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["version"] == "1"
    assert {
        "/api/v1/deliveries": {"get", "post"},
        "/api/v1/deliveries/{id}": {"get"},
        "/api/v1/deliveries/{id}/errors.csv": {"get"},
        "/api/v1/deliveries/{id}/withdrawal": {"post"},
        "/api/v1/identity/erasures": {"post"},
        "/api/v1/organisations": {"get"},
        "/api/v1/codes": {"get"},
        "/api/v1/stats": {"get"},
        "/api/v1/stats/delivery-follow-up": {"get"},
        "/api/v1/stats/{indicator}": {"get"},
        "/api/v1/identity/pseudonym": {"post"},
        "/api/v1/identity/personnummer": {"post"},
        "/api/v1/identity/link": {"post"},
        "/api/v1/identity/extract": {"post"},
    } == {path: set(operations) for path, operations in schema["paths"].items()}
    assert schema["components"]["securitySchemes"]["TokenAuth"] == {
        "type": "http",
        "scheme": "bearer",
    }


def test_no_object_in_the_openapi_description_repeats_a_key(client: Client):
    """Swagger UI refuses a description whose objects repeat a key (200 and "200", say)."""
    repeated: list[str] = []

    def keep(pairs: list[tuple[str, object]]) -> dict:
        keys = [key for key, _ in pairs]
        repeated.extend(key for key in set(keys) if keys.count(key) > 1)
        return dict(pairs)

    json.loads(client.get("/api/v1/openapi.json").content, object_pairs_hook=keep)
    assert repeated == []
    stats = json.loads(client.get("/api/v1/openapi.json").content)["paths"]
    answer = stats["/api/v1/stats/{indicator}"]["get"]["responses"]["200"]
    assert {"application/json", "text/csv"} <= set(answer["content"])


def test_the_upload_documents_each_way_of_sending_the_file(client: Client):
    post = client.get("/api/v1/openapi.json").json()["paths"]["/api/v1/deliveries"]["post"]
    assert set(post["requestBody"]["content"]) == {
        "application/xml",
        "text/xml",
        "text/csv",
        "application/json",
        "application/octet-stream",
        "multipart/form-data",
    }
    assert {"200", "201", "202", "400", "401", "403", "411", "413", "415", "429"} <= set(
        post["responses"]
    )


def test_the_docs_page_loads_swagger_ui_from_the_service_itself(client: Client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    # Nothing from another host: every script and style sheet is the service's own.
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), html
    assets = re.findall(r"""(?:src|href)=["']([^"']+\.(?:js|css))["']""", html)
    assert any("swagger-ui-bundle.js" in asset for asset in assets)
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200, asset
        assert int(served.get("Content-Length", 1)) > 0


def test_every_error_has_a_status_and_messages_in_both_languages():
    for code, kind in ERRORS.items():
        assert re.fullmatch(r"[A-Z_]+", code)
        assert 400 <= kind.status < 600
        assert kind.sv and kind.en and kind.sv != kind.en
