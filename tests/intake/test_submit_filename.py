"""What ``inuk submit`` puts in the request's address: never a personnummer from the file's name.

The name goes in the query string, which proxies and web servers log before
the service sees it, so it is masked before it leaves the machine.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from inuk.intake import submit_command

EXAMPLE = Path(__file__).parents[2] / "docs" / "format" / "examples" / "valid.xml"


@pytest.fixture
def sent(monkeypatch) -> list[httpx.Request]:
    """The requests the command makes, answered as an applied delivery."""
    requests: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(
            201, json={"status": "applied", "counts": {"rejected": 0}, "errors": []}
        )

    def client(token: str) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(answer))

    monkeypatch.setattr(submit_command, "_client", client)
    return requests


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("leverans_198812120387.xml", "leverans_19881212-****.xml"),
        ("8812120387januari.xml", "881212-****januari.xml"),
        ("881212 0387.xml", "881212-****.xml"),
    ],
)
def test_a_personnummer_in_the_file_name_is_masked_in_the_query_string(tmp_path, sent, name, shown):
    path = tmp_path / name
    shutil.copyfile(EXAMPLE, path)

    status = submit_command.run([str(path), "--url", "http://inuk.test", "--token", "t", "--json"])

    assert status == submit_command.EXIT_APPLIED
    [request] = sent
    assert request.url.params["filename"] == shown
    assert "0387" not in str(request.url)


def test_an_ordinary_file_name_is_sent_as_it_is(tmp_path, sent):
    path = tmp_path / "januari-2025.xml"
    shutil.copyfile(EXAMPLE, path)

    submit_command.run([str(path), "--url", "http://inuk.test", "--token", "t", "--json"])

    assert sent[0].url.params["filename"] == "januari-2025.xml"
