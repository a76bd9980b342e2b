"""The API tests' client, speaking to /api/v1 with a bearer token, and deliveries to read back."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable

import pytest
from django.test import Client
from django.utils import timezone

from inuk.format.synthetic import personnummer
from inuk.format.writers import Person
from inuk.intake.models import Delivery
from inuk.organisations.models import Organisation
from tests.conftest import delivery_file, insats, receive_file

API = "/api/v1"


class Api:
    """The test client speaking to /api/v1 with a bearer token (or none)."""

    def __init__(self, client: Client, token: str | None) -> None:
        self.client = client
        self.token = token

    def _headers(self, headers: dict | None) -> dict:
        merged = dict(headers or {})
        if self.token is not None:
            merged.setdefault("Authorization", f"Bearer {self.token}")
        return merged

    def get(self, path: str, params: dict | None = None, headers: dict | None = None):
        return self.client.get(API + path, params or {}, headers=self._headers(headers))

    def post(
        self,
        path: str,
        data: bytes | dict = b"",
        content_type: str = "application/xml",
        query: str = "",
        headers: dict | None = None,
        **extra,
    ):
        url = API + path + (f"?{query}" if query else "")
        if isinstance(data, dict):  # multipart
            return self.client.post(url, data, headers=self._headers(headers), **extra)
        return self.client.post(
            url, data, content_type=content_type, headers=self._headers(headers), **extra
        )


@pytest.fixture
def api_as() -> Callable[[str | None], Api]:
    """``api_as(raw_token)``: a client sending that token; ``api_as(None)``: no token."""
    return lambda token: Api(Client(), token)


_serials = itertools.count(100)


def fresh_delivery(
    organisation: Organisation,
    *,
    bad: int = 0,
    received: dt.datetime | None = None,
    submitted_by: str = "inuk ingest",
) -> Delivery:
    """A delivery from ``organisation`` (its own kommunkod), received and processed, ``bad``
    of its transactions rejected. Each call sends other bytes, so none is a repeat."""
    serial = next(_serials)
    transactions = [insats("SYV", at=f"2024-01-05 10:00:{serial % 60:02d}")]
    transactions += [insats("NOPE", f"202402{day + 1:02d}") for day in range(bad)]
    data = delivery_file(
        [Person(personnummer(dt.date(1999, 1, 1), serial), transactions)],
        orgnr=organisation.orgnr,
        kommunkod=organisation.municipality.code,
    )
    made = receive_file(organisation, data, submitted_by=submitted_by)
    if received is not None:
        Delivery.objects.filter(pk=made.pk).update(received_at=received)
        made.refresh_from_db()
    return made


def stockholm(year: int, month: int, day: int, hour: int = 12) -> dt.datetime:
    return timezone.make_aware(dt.datetime(year, month, day, hour))
