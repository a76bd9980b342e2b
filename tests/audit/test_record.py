"""Writing the audit log: what an entry keeps, and what it refuses to keep or change."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo

import pytest
from django.db import transaction

from inuk.audit.log import Event, record, verify
from inuk.audit.models import GENESIS, AppendOnlyError, Entry

pytestmark = pytest.mark.django_db

STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")


def test_the_first_entry_chains_to_the_genesis_value_and_the_next_to_it():
    first = record(Event.LOGIN, actor="anna")
    second = record(Event.LOGOUT, actor="anna")

    assert (first.id, first.previous) == (1, GENESIS)
    assert (second.id, second.previous) == (2, first.digest)
    assert len(second.digest) == 64


def test_it_keeps_the_time_in_utc_whatever_zone_it_was_given_in():
    summer_evening = dt.datetime(2025, 6, 30, 23, 30, tzinfo=STOCKHOLM)

    entry = record(Event.EXPORT, at=summer_evening)
    entry.refresh_from_db()

    assert entry.at == dt.datetime(2025, 6, 30, 21, 30, tzinfo=dt.UTC)
    assert verify().ok


def test_it_refuses_a_time_without_a_zone():
    with pytest.raises(ValueError, match="time zone"):
        record(Event.EXPORT, at=dt.datetime(2025, 6, 30, 23, 30))

    assert not Entry.objects.exists()


def test_it_refuses_an_event_that_is_not_one_of_the_named_ones():
    with pytest.raises(ValueError):
        record("delivery.recieved")


def test_an_event_name_given_as_text_is_accepted_when_it_is_a_named_one():
    assert record("identity.lookup").event == Event.IDENTITY_LOOKUP


def test_it_masks_a_personnummer_in_target_actor_and_details():
    entry = record(
        Event.IDENTITY_LOOKUP,
        actor="199001011234",
        target="person 19900101-1234",
        details={
            "reason": "request from 900101-1234",
            "nested": {"list": ["x 199001011234 y", 5]},
            "200001019876": "key too",
        },
    )
    entry.refresh_from_db()

    stored = f"{entry.actor} {entry.target} {entry.details}"
    assert "1234" not in stored and "9876" not in stored
    assert entry.target == "person 19900101-****"
    assert entry.details["nested"]["list"] == ["x 19900101-**** y", 5]
    assert verify().ok


def test_receipt_ids_and_checksums_are_kept_whole_though_they_hold_ten_digits_in_a_row():
    receipt = uuid.UUID("3f6c1a2b-9c4d-4e5f-8a7b-123456789012")
    checksum = "ab" + "1234567890" * 6 + "cd"

    entry = record(
        Event.DELIVERY_RECEIVED,
        target=str(receipt),
        details={"checksum": checksum, "receipt": receipt, "note": "from 199001011234"},
    )

    assert entry.target == str(receipt)
    assert entry.details == {
        "checksum": checksum,
        "receipt": str(receipt),
        "note": "from 19900101-****",
    }


def test_a_samordningsnummer_is_masked_too():
    entry = record(Event.IDENTITY_LOOKUP, target="19900161-1234", details={"short": "9001611234"})

    assert entry.target == "19900161-****"
    assert entry.details == {"short": "900161-****"}


def test_organisation_numbers_are_kept_whole_where_a_personnummer_would_be_masked():
    entry = record(
        Event.AGREEMENT_CHANGED,
        target="Leverantören AB (556036-0793)",
        details={"deliverer": "5560360793", "twelve": "165560360793", "person": "9001011234"},
    )

    assert entry.target == "Leverantören AB (556036-0793)"
    assert entry.details == {
        "deliverer": "5560360793",
        "twelve": "165560360793",
        "person": "900101-****",
    }


def test_an_organisation_must_be_an_organisation_number_not_a_personnummer():
    with pytest.raises(ValueError) as refused:
        record(Event.LOGIN, organisation="9001011234")

    assert "9001011234" not in str(refused.value)
    assert record(Event.LOGIN, organisation="2120000142").organisation == "2120000142"


def test_details_are_stored_as_plain_json_that_reads_back_the_same():
    entry = record(
        Event.EXPORT,
        details={
            "rows": 12,
            "share": 0.1,
            "huge": 1e100,
            "period": (dt.date(2025, 1, 1), dt.date(2025, 3, 31)),
            "ok": True,
            "none": None,
        },
    )
    entry.refresh_from_db()

    assert entry.details == {
        "rows": 12,
        "share": "0.1",
        "huge": "1e+100",
        "period": ["2025-01-01", "2025-03-31"],
        "ok": True,
        "none": None,
    }
    assert verify().ok


def test_details_that_are_not_data_are_refused():
    with pytest.raises(TypeError):
        record(Event.EXPORT, details={"file": object()})


def test_text_that_no_database_stores_is_made_storable():
    entry = record(Event.LOGIN_FAILED, actor="a\x00b", target="\ud800x", details={"k": "\x00"})
    entry.refresh_from_db()

    assert "\x00" not in entry.actor + entry.details["k"]
    assert verify().ok


def test_long_text_is_cut_to_the_column_and_still_verifies():
    entry = record(Event.LOGIN_FAILED, actor="x" * 500, target="y" * 500)
    entry.refresh_from_db()

    assert (len(entry.actor), len(entry.target)) == (200, 200)
    assert verify().ok


def test_an_entry_rolls_back_with_the_transaction_it_joined_and_leaves_no_hole():
    record(Event.LOGIN)
    with pytest.raises(RuntimeError), transaction.atomic():
        record(Event.DELIVERY_APPLIED)
        raise RuntimeError("the delivery failed")

    after = record(Event.LOGOUT)

    assert list(Entry.objects.values_list("id", "event")) == [
        (1, Event.LOGIN),
        (2, Event.LOGOUT),
    ]
    assert after.id == 2
    assert verify().ok


def test_an_entry_cannot_be_changed_through_the_orm():
    entry = record(Event.LOGIN, actor="anna")
    entry.actor = "bertil"

    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        Entry.objects.filter(pk=entry.pk).update(actor="bertil")
    with pytest.raises(AppendOnlyError):
        Entry.objects.update(actor="bertil")
    with pytest.raises(AppendOnlyError):
        Entry.objects.bulk_update([entry], ["actor"])

    assert Entry.objects.get().actor == "anna"


def test_an_entry_cannot_be_deleted_through_the_orm():
    entry = record(Event.LOGIN)

    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        Entry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(AppendOnlyError):
        Entry.objects.all().delete()

    assert Entry.objects.count() == 1


def test_entries_cannot_be_bulk_created_around_the_chain():
    with pytest.raises(AppendOnlyError):
        Entry.objects.bulk_create([Entry(id=1, at=dt.datetime.now(dt.UTC), event="login")])
