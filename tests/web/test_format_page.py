"""The format page and the published format files the service serves."""

import pytest
from django.test import Client

from inuk.format.errors import RULES

pytestmark = pytest.mark.django_db


def test_the_format_page_lists_every_error_code(client: Client):
    page = client.get("/format/").content.decode()
    for code in RULES:
        assert code in page


@pytest.mark.parametrize(
    "name",
    [
        "leverans.xsd",
        "leverans.schema.json",
        "csv.md",
        "README.md",
        "examples/valid.xml",
        "examples/valid.csv",
        "examples/valid.json",
    ],
)
def test_the_published_format_files_are_served(client: Client, name):
    response = client.get(f"/static/web/format/{name}")
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert len(body) > 100
