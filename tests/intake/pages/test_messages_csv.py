"""All of a receipt's errors and warnings as CSV (/leveranser/<id>/fel.csv), an audited export."""

from __future__ import annotations

import csv
import io

import pytest
from django.http import StreamingHttpResponse

from inuk.audit.log import Event
from inuk.audit.models import Entry
from inuk.intake.models import Delivery, Message
from inuk.intake.receipts import MESSAGE_FIELDS
from tests.conftest import ANNA, ANNA_MISTYPED
from tests.intake.pages.conftest import file_with_errors
from tests.intake.pages.test_receipt_page import with_messages

pytestmark = pytest.mark.django_db(databases=["default", "vault"])


def url(delivery: Delivery) -> str:
    return f"/leveranser/{delivery.public_id}/fel.csv"


def rows(response) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse)
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")  # so that spreadsheets read å, ä and ö
    return list(csv.reader(io.StringIO(body[1:]), delimiter=";"))


def test_it_has_every_message_not_only_the_first_thousand(cast, client_as, on_file, settings):
    delivery = with_messages(on_file(cast.vasby), errors=4321, warnings=3)
    response = client_as(cast.vasby_reporter).get(url(delivery))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="kvittens-{delivery.public_id}.csv"'
    )
    header, *body = rows(response)
    assert header == ["severity", *MESSAGE_FIELDS]
    assert len(body) == 4324
    assert [row[0] for row in body].count("warning") == 3
    # The same order as stored, each message once.
    lines = [int(row[3]) for row in body if row[0] == "error"]
    assert lines == list(range(1, 4322))


def test_it_shows_personnummer_masked(cast, client_as, deliver):
    delivery = deliver(cast.vasby, file_with_errors())
    response = client_as(cast.vasby_reporter).get(url(delivery))
    text = "\n".join(";".join(row) for row in rows(response))
    assert ANNA_MISTYPED[:8] + "-****" in text
    assert ANNA_MISTYPED not in text and ANNA_MISTYPED[2:] not in text and ANNA not in text
    assert "PNR_CHECKSUM" in text and "CODE_UNKNOWN" in text
    # Both languages, whatever the page's: the file is for systems as much as for people.
    assert "Personnumrets kontrollsiffra stämmer inte." in text
    assert "The personal identity number's check digit is wrong." in text


def test_a_download_is_audited_as_an_export(cast, client_as, on_file):
    delivery = with_messages(on_file(cast.vasby), errors=5)
    client = client_as(cast.vasby_analyst)
    client.get(url(delivery), REMOTE_ADDR="192.0.2.7")
    entry = Entry.objects.filter(event=Event.EXPORT).get()
    assert entry.actor == cast.vasby_analyst.email
    assert entry.organisation == cast.vasby.orgnr
    assert entry.target == str(delivery.public_id)
    assert entry.remote_addr == "192.0.2.7"
    assert entry.details["rows"] == 5


@pytest.mark.parametrize(
    "member", ["vallentuna_reporter", "vallentuna_analyst", "vasby_admin", "af_analyst"]
)
def test_others_get_404_and_nothing_is_exported(cast, client_as, on_file, member):
    delivery = with_messages(on_file(cast.vasby), errors=5)
    assert client_as(getattr(cast, member)).get(url(delivery)).status_code == 404
    assert not Entry.objects.filter(event=Event.EXPORT).exists()


def test_af_may_download_any_organisations_messages(cast, client_as, on_file):
    delivery = with_messages(on_file(cast.vallentuna), errors=2)
    response = client_as(cast.af_admin).get(url(delivery))
    assert len(rows(response)) == 3
    assert Message.objects.count() == 2
