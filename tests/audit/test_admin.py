"""Admin pages for organisations, agreements, codes and the audit log; admin changes audited."""

from __future__ import annotations

import datetime as dt
import ipaddress

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from inuk.audit.log import Event, record
from inuk.audit.models import Entry
from inuk.codes.models import Code
from inuk.organisations.models import Agreement, ContactPerson, Municipality, Organisation
from tests.conftest import AF_ORGNR, STOCKHOLM_CODE, VASBY_CODE, VASBY_ORGNR

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(client, django_user_model):
    user = django_user_model.objects.create_superuser(
        "admin@example.org", "a long enough password", organisation=Organisation.af()
    )
    client.force_login(user)
    return client


def admin_changes() -> list[Entry]:
    return list(Entry.objects.filter(event=Event.ADMIN_CHANGE).order_by("id"))


def management_form(prefix: str, total: int, initial: int) -> dict[str, str]:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


@pytest.mark.slow  # every page of the admin: seconds
@pytest.mark.parametrize(
    "page",
    [
        "organisations_organisation_changelist",
        "organisations_organisation_add",
        "organisations_municipality_changelist",
        "organisations_municipality_add",
        "organisations_agreement_changelist",
        "organisations_agreement_add",
        "organisations_deliveryauthorisation_changelist",
        "organisations_deliveryauthorisation_add",
        "codes_code_changelist",
        "codes_code_add",
        "audit_entry_changelist",
    ],
)
def test_each_admin_page_loads_for_a_superuser(admin, page):
    record(Event.LOGIN, actor="someone")

    assert admin.get(reverse(f"admin:{page}")).status_code == 200


def test_change_pages_load_for_a_superuser(admin):
    agreement = Agreement.objects.create(
        municipality_id=STOCKHOLM_CODE,
        signed_by_af=dt.date(2024, 1, 10),
        signed_by_municipality=dt.date(2024, 1, 12),
    )
    entry = record(Event.LOGIN, actor="someone", details={"k": "v"})
    pages = [
        ("organisations_organisation_change", Organisation.af().pk),
        ("organisations_municipality_change", STOCKHOLM_CODE),
        ("organisations_agreement_change", agreement.pk),
        ("codes_code_change", Code.objects.first().pk),
        ("audit_entry_change", entry.pk),
    ]

    for page, pk in pages:
        assert admin.get(reverse(f"admin:{page}", args=[pk])).status_code == 200, page


def test_an_organisation_is_found_by_its_number_as_people_write_it(admin):
    response = admin.get(
        reverse("admin:organisations_organisation_changelist"), {"q": "202100-2114"}
    )

    assert [o.orgnr for o in response.context["cl"].result_list] == [AF_ORGNR]


def test_codes_are_listed_by_validity_today(admin):
    Code.objects.create(
        kind=Code.Kind.INTERVENTION,
        code="OLD",
        name_sv="Gammal insats",
        valid_from=dt.date(2015, 1, 1),
        valid_to=dt.date(2020, 1, 1),
    )
    url = reverse("admin:codes_code_changelist")

    retired = admin.get(url, {"validity": "retired"}).context["cl"].result_list
    valid = admin.get(url, {"validity": "valid", "kind__exact": "insats"}).context["cl"].result_list

    assert [c.code for c in retired] == ["OLD"]
    assert "OLD" not in {c.code for c in valid} and "SYV" in {c.code for c in valid}


def test_agreements_are_listed_by_whether_they_are_in_force(admin):
    signed = Agreement.objects.create(
        municipality_id=STOCKHOLM_CODE,
        signed_by_af=dt.date(2024, 1, 10),
        signed_by_municipality=dt.date(2024, 1, 12),
    )
    unsigned = Agreement.objects.create(
        municipality_id=VASBY_CODE, signed_by_af=dt.date(2024, 1, 10)
    )
    url = reverse("admin:organisations_agreement_changelist")

    assert list(admin.get(url, {"in_force": "yes"}).context["cl"].result_list) == [signed]
    assert list(admin.get(url, {"in_force": "no"}).context["cl"].result_list) == [unsigned]


def test_behind_the_trusted_proxy_a_change_is_audited_with_the_clients_address(admin, settings):
    settings.INUK_TRUSTED_PROXY = [ipaddress.ip_network("10.0.0.5")]
    af = Organisation.af()
    admin.post(
        reverse("admin:organisations_organisation_change", args=[af.pk]),
        {"orgnr": AF_ORGNR, "name": "Arbetsförmedlingen, huvudkontoret", "kind": "af"},
        REMOTE_ADDR="10.0.0.5",
        HTTP_X_FORWARDED_FOR="192.0.2.7",
    )
    (entry,) = admin_changes()
    assert entry.remote_addr == "192.0.2.7"


def test_a_change_in_the_admin_is_audited_with_who_which_object_and_which_fields(admin):
    af = Organisation.af()

    response = admin.post(
        reverse("admin:organisations_organisation_change", args=[af.pk]),
        {"orgnr": AF_ORGNR, "name": "Arbetsförmedlingen, huvudkontoret", "kind": "af"},
        REMOTE_ADDR="192.0.2.7",
    )

    assert response.status_code == 302
    (entry,) = admin_changes()
    assert entry.actor == "admin@example.org"
    assert entry.organisation == AF_ORGNR
    assert entry.target == f"organisations.organisation:{af.pk}"
    assert entry.remote_addr == "192.0.2.7"
    assert entry.details == {
        "action": "changed",
        "fields": ["name"],
        "object": "Arbetsförmedlingen, huvudkontoret (202100-2114)",
    }


def test_a_change_the_admin_refuses_leaves_no_entry(admin):
    af = Organisation.af()

    response = admin.post(
        reverse("admin:organisations_organisation_change", args=[af.pk]),
        {"orgnr": "123", "name": "x", "kind": "af"},
    )

    assert response.status_code == 200
    assert admin_changes() == []


def test_an_agreement_and_its_contact_persons_are_audited_as_they_are_added_changed_and_removed(
    admin,
):
    stockholm_orgnr = Municipality.objects.get(code=STOCKHOLM_CODE).organisation.orgnr
    add = admin.post(
        reverse("admin:organisations_agreement_add"),
        {
            "municipality": STOCKHOLM_CODE,
            "af_case_number": "Af-2025/0001",
            **management_form("contacts", 1, 0),
            "contacts-0-party": "kommun",
            "contacts-0-name": "Karin Kontakt",
        },
    )
    assert add.status_code == 302, add.context and add.context["errors"]
    agreement = Agreement.objects.get()
    contact = ContactPerson.objects.get()

    change = admin.post(
        reverse("admin:organisations_agreement_change", args=[agreement.pk]),
        {
            "municipality": STOCKHOLM_CODE,
            "af_case_number": "Af-2025/0001",
            **management_form("contacts", 1, 1),
            "contacts-0-id": str(contact.pk),
            "contacts-0-agreement": str(agreement.pk),
            "contacts-0-party": "kommun",
            "contacts-0-name": "Karin Kontakt",
            "contacts-0-email": "karin@example.org",
            "contacts-0-DELETE": "",
        },
    )
    assert change.status_code == 302
    remove = admin.post(
        reverse("admin:organisations_agreement_change", args=[agreement.pk]),
        {
            "municipality": STOCKHOLM_CODE,
            "af_case_number": "Af-2025/0001",
            **management_form("contacts", 1, 1),
            "contacts-0-id": str(contact.pk),
            "contacts-0-agreement": str(agreement.pk),
            "contacts-0-party": "kommun",
            "contacts-0-name": "Karin Kontakt",
            "contacts-0-DELETE": "on",
        },
    )
    assert remove.status_code == 302

    entries = admin_changes()
    assert [(e.target, e.details["action"]) for e in entries] == [
        (f"organisations.agreement:{agreement.pk}", "added"),
        (f"organisations.contactperson:{contact.pk}", "added"),
        (f"organisations.contactperson:{contact.pk}", "changed"),
        (f"organisations.contactperson:{contact.pk}", "deleted"),
    ]
    assert {e.organisation for e in entries} == {stockholm_orgnr}
    assert "af_case_number" in entries[0].details["fields"]
    assert entries[2].details == {
        "action": "changed",
        "fields": ["email"],
        "parent": f"organisations.agreement:{agreement.pk}",
    }
    assert not ContactPerson.objects.exists()


def test_a_deletion_in_the_admin_is_audited_with_the_object_it_removed(admin):
    supplier = Organisation.objects.create(
        orgnr="5560360793", name="Leverantören AB", kind=Organisation.Kind.SUPPLIER
    )

    response = admin.post(
        reverse("admin:organisations_organisation_delete", args=[supplier.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    (entry,) = admin_changes()
    assert entry.target == f"organisations.organisation:{supplier.pk}"
    assert entry.organisation == "5560360793"
    assert entry.details["action"] == "deleted"


def test_a_deletion_of_several_at_once_is_audited_for_each(admin):
    suppliers = [
        Organisation.objects.create(orgnr=orgnr, name=name, kind=Organisation.Kind.SUPPLIER)
        for orgnr, name in [("5560360793", "Ett AB"), ("5565475489", "Två AB")]
    ]

    response = admin.post(
        reverse("admin:organisations_organisation_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [str(s.pk) for s in suppliers],
            "post": "yes",
        },
    )

    assert response.status_code == 302
    assert sorted(e.target for e in admin_changes()) == sorted(
        f"organisations.organisation:{s.pk}" for s in suppliers
    )
    assert not Organisation.objects.filter(kind=Organisation.Kind.SUPPLIER).exists()


def test_a_municipality_cannot_be_deleted_in_the_admin(admin):
    url = reverse("admin:organisations_municipality_delete", args=[STOCKHOLM_CODE])

    assert admin.get(url).status_code == 403


def test_nobody_can_add_change_or_delete_an_audit_entry_in_the_admin(admin):
    entry = record(Event.LOGIN, actor="anna")
    change_url = reverse("admin:audit_entry_change", args=[entry.pk])

    assert admin.get(reverse("admin:audit_entry_add")).status_code == 403
    assert admin.post(change_url, {"actor": "mallory"}).status_code == 403
    assert admin.get(reverse("admin:audit_entry_delete", args=[entry.pk])).status_code == 403
    page = admin.get(change_url).content.decode()
    assert entry.digest in page and 'name="_save"' not in page
    assert Entry.objects.get(pk=entry.pk).actor == "anna"


def test_audit_entries_are_found_by_who_or_by_number(admin):
    anna = record(Event.LOGIN, actor="anna@example.org")
    record(Event.LOGIN, actor="bertil@example.org")
    url = reverse("admin:audit_entry_changelist")

    by_actor = admin.get(url, {"q": "anna@"}).context["cl"].result_list
    by_number = admin.get(url, {"q": str(anna.pk)}).context["cl"].result_list

    assert [e.pk for e in by_actor] == [anna.pk]
    assert anna.pk in [e.pk for e in by_number]


# --- the second factor's devices -------------------------------------------------------


@pytest.fixture
def device(django_user_model):
    user = django_user_model.objects.create_user(
        "anna@upplandsvasby.example", organisation=Organisation.objects.get(orgnr=VASBY_ORGNR)
    )
    return TOTPDevice.objects.create(user=user, name="INUK", confirmed=True)


def test_the_admin_never_shows_a_devices_secret_key(admin, device):
    page = admin.get(reverse("admin:otp_totp_totpdevice_change", args=[device.pk]))
    assert page.status_code == 200
    assert device.key not in page.text
    assert 'name="key"' not in page.text
    listing = admin.get(reverse("admin:otp_totp_totpdevice_changelist"))
    assert "qrcode" not in listing.text.lower()
    for view in ("admin:otp_totp_totpdevice_config", "admin:otp_totp_totpdevice_qrcode"):
        assert admin.get(reverse(view, args=[device.pk])).status_code == 403


def test_removing_a_device_in_the_admin_is_audited(admin, device):
    admin.post(reverse("admin:otp_totp_totpdevice_delete", args=[device.pk]), {"post": "yes"})
    assert not TOTPDevice.objects.exists()
    [entry] = admin_changes()
    assert entry.target == f"otp_totp.totpdevice:{device.pk}"
    assert entry.organisation == VASBY_ORGNR
    assert entry.details["action"] == "deleted"
    assert device.key not in str(entry.details)


def test_changing_a_device_in_the_admin_is_audited_by_field_name(admin, device):
    admin.post(
        reverse("admin:otp_totp_totpdevice_change", args=[device.pk]),
        {
            "user": device.user.pk,
            "name": "INUK",
            "step": 30,
            "t0": 0,
            "digits": 6,
            "tolerance": 1,
            "drift": 0,
            "throttling_failure_count": 0,
        },
    )
    device.refresh_from_db()
    assert not device.confirmed
    [entry] = admin_changes()
    assert entry.details["action"] == "changed"
    assert entry.details["fields"] == ["confirmed"]
