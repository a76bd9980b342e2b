"""Municipality groups: imported from kommunkod;grupp by the admin page and by ``inuk groups``."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from inuk.audit.log import Event
from inuk.audit.models import Entry
from inuk.organisations.groups import GroupFileError, import_groups
from inuk.organisations.models import MunicipalityGroup, Organisation
from inuk.stats.query import Geography

pytestmark = pytest.mark.django_db

FILE = (
    "kommunkod;grupp\n"
    "0114;Pendlingskommuner nära storstad\n"
    "115;Pendlingskommuner nära storstad\n"
    "0180;Storstäder\n"
    "1480;Storstäder\n"
)


def members(name: str) -> set[str]:
    group = MunicipalityGroup.objects.get(name=name)
    return set(group.municipalities.values_list("code", flat=True))


@pytest.fixture
def admin(client, django_user_model):
    user = django_user_model.objects.create_superuser(
        "admin@example.org", "a long enough password", organisation=Organisation.af()
    )
    client.force_login(user)
    return client


def test_it_creates_each_group_with_its_municipalities():
    result = import_groups(FILE, actor="test")

    assert sorted(result.created) == ["Pendlingskommuner nära storstad", "Storstäder"]
    assert members("Pendlingskommuner nära storstad") == {"0114", "0115"}
    assert members("Storstäder") == {"0180", "1480"}


def test_a_group_becomes_a_geography_of_statistics_by_its_short_name():
    import_groups(FILE, actor="test")
    slug = MunicipalityGroup.objects.get(name="Storstäder").slug

    geography = Geography.parse(f"g:{slug}")

    assert geography.municipalities == {"0180", "1480"}
    assert geography.name == "Storstäder"


def test_a_group_named_again_gets_exactly_the_new_lines_and_others_stay():
    import_groups(FILE, actor="test")

    result = import_groups("0180;Storstäder\n1280;Storstäder\n", actor="test")

    assert result.changed == ["Storstäder"]
    assert members("Storstäder") == {"0180", "1280"}
    assert members("Pendlingskommuner nära storstad") == {"0114", "0115"}


def test_an_unknown_code_changes_nothing_and_names_the_line_in_both_languages():
    import_groups(FILE, actor="test")

    with pytest.raises(GroupFileError) as raised:
        import_groups("0180;Storstäder\n9999;Storstäder\n0114;Ny grupp\nfel\n", actor="test")

    lines = [(e.line, e.en) for e in raised.value.errors]
    assert lines == [
        (2, "There is no municipality code '9999'."),
        (4, "The line must have two fields, kommunkod;grupp."),
    ]
    assert "Kommunkoden '9999' finns inte." in raised.value.message_sv
    assert members("Storstäder") == {"0180", "1480"}
    assert not MunicipalityGroup.objects.filter(name="Ny grupp").exists()


def test_the_import_is_audited_with_what_it_changed():
    import_groups(FILE, actor="cli:anna")

    entry = Entry.objects.get(event=Event.ADMIN_CHANGE)
    assert entry.actor == "cli:anna"
    assert entry.target == "organisations.municipalitygroup:import"
    assert entry.details["memberships"] == 4


def test_the_command_imports_a_file(tmp_path):
    path = tmp_path / "grupper.csv"
    path.write_text(FILE, encoding="utf-8")
    out = io.StringIO()

    call_command("groups", "import", str(path), stdout=out)
    call_command("groups", "list", stdout=out)

    assert "2 groups created" in out.getvalue()
    assert "Storstäder" in out.getvalue()
    assert members("Storstäder") == {"0180", "1480"}


def test_the_command_refuses_a_bad_file_and_says_nothing_changed(tmp_path):
    path = tmp_path / "grupper.csv"
    path.write_text("0180;Storstäder\n018;Storstäder\n", encoding="utf-8")

    with pytest.raises(CommandError, match="line 2: There is no municipality code '018'"):
        call_command("groups", "import", str(path))
    assert not MunicipalityGroup.objects.exists()


def test_the_admin_page_imports_a_file(admin):
    upload = SimpleUploadedFile("grupper.csv", FILE.encode("utf-8"), content_type="text/csv")

    response = admin.post(reverse("admin:organisations_municipalitygroup_import"), {"file": upload})

    assert response.status_code == 302
    assert members("Storstäder") == {"0180", "1480"}
    assert Entry.objects.get(event=Event.ADMIN_CHANGE).actor == "admin@example.org"


def test_the_admin_page_shows_every_bad_line_and_changes_nothing(admin):
    upload = SimpleUploadedFile("grupper.csv", b"0180;Storst\xc3\xa4der\n4444;X\n")

    response = admin.post(reverse("admin:organisations_municipalitygroup_import"), {"file": upload})

    assert response.status_code == 200
    assert "There is no municipality code &#x27;4444&#x27;." in response.content.decode()
    assert not MunicipalityGroup.objects.exists()


def test_the_group_pages_load(admin):
    import_groups(FILE, actor="test")
    group = MunicipalityGroup.objects.get(name="Storstäder")

    for url in (
        reverse("admin:organisations_municipalitygroup_changelist"),
        reverse("admin:organisations_municipalitygroup_import"),
        reverse("admin:organisations_municipalitygroup_change", args=[group.pk]),
    ):
        assert admin.get(url).status_code == 200, url
