"""The disk full while a delivery is spooled: refused in Swedish and English, nothing kept,
and the next delivery is received as usual."""

from __future__ import annotations

import errno
import tempfile

import pytest

from inuk.audit.log import Event
from inuk.audit.models import Entry
from inuk.intake import receive as receiving
from inuk.intake.models import Delivery
from inuk.vault.models import FileChunk
from tests.api.test_create_delivery import vasby_file
from tests.conftest import Cast

pytestmark = pytest.mark.django_db(databases=["default", "vault"])

REAL_TEMPORARY_FILE = tempfile.TemporaryFile


@pytest.fixture
def vasby_api(cast: Cast, agreements, api_as):
    return api_as(cast.token(cast.vasby, "deliver"))


class FullDisk:
    """A spool file on a disk that fills after ``room`` bytes, as a write answers then."""

    def __init__(self, room: int) -> None:
        self.file = REAL_TEMPORARY_FILE()
        self.room = room

    def write(self, data: bytes) -> int:
        if self.file.tell() + len(data) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        return self.file.write(data)

    def __getattr__(self, name):
        return getattr(self.file, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.file.close()


def test_a_delivery_spooled_onto_a_full_disk_is_refused_and_nothing_is_kept(vasby_api, monkeypatch):
    data = vasby_file()
    with monkeypatch.context() as patch:
        patch.setattr(receiving.tempfile, "TemporaryFile", lambda **kw: FullDisk(len(data) // 2))
        answer = vasby_api.post("/deliveries", data)

    assert answer.status_code == 507
    error = answer.json()["error"]
    assert error["code"] == "STORAGE_FULL"
    assert "utrymme" in error["message_sv"] and "Inget av den har sparats" in error["message_sv"]
    assert "no room" in error["message_en"] and "Nothing of it was stored" in error["message_en"]
    assert Delivery.objects.count() == 0
    assert FileChunk.objects.count() == 0
    assert not Entry.objects.filter(event=Event.DELIVERY_RECEIVED).exists()

    # The disk has room again: the service goes on, the same file is received.
    again = vasby_api.post("/deliveries", data)
    assert again.status_code in (201, 202)
    assert Delivery.objects.get().status == "applied"


def test_another_failure_of_the_spool_is_not_called_a_full_disk(vasby_api, monkeypatch):
    def broken(**kwargs):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(receiving.tempfile, "TemporaryFile", broken)
    answer = vasby_api.post("/deliveries", vasby_file())
    assert answer.status_code == 500
    assert answer.json()["error"]["code"] == "INTERNAL_ERROR"
    assert Delivery.objects.count() == 0
