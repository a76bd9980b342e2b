"""Look-ups one person at a time, both ways, each audited with who, why and the pseudonym."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from inuk.audit.log import Event
from inuk.audit.models import Entry
from inuk.identity import officer as work
from inuk.vault.pseudonymize import find
from tests.conftest import ANNA, BO, Cast
from tests.identity.conftest import PURPOSE, found_in

pytestmark = pytest.mark.django_db(databases=["default", "vault"])

URL = reverse("identity:lookup")


def test_a_personnummer_gives_the_pseudonym_and_the_look_up_is_audited(
    officer: Client, cast: Cast, deliver_person
) -> None:
    deliver_person(ANNA)
    response = officer.post(URL, {"subject": ANNA[:8] + "-" + ANNA[8:], **PURPOSE})
    pseudonym = find(ANNA)
    assert response.status_code == 200
    assert f'id="pseudonym">{pseudonym}<' in response.text
    entry = Entry.objects.get(event=Event.IDENTITY_LOOKUP)
    assert entry.actor == cast.identity_officer.email
    assert entry.target == pseudonym
    assert entry.organisation == cast.af.orgnr
    assert entry.details["case_number"] == PURPOSE["case_number"]
    assert entry.details["reason"] == PURPOSE["reason"]
    assert entry.details["direction"] == "personnummer_to_pseudonym"
    assert found_in(str(entry.details) + entry.target + entry.actor) == []


def test_a_pseudonym_gives_the_personnummer(officer: Client, deliver_person) -> None:
    deliver_person(ANNA)
    pseudonym = find(ANNA)
    response = officer.post(URL, {"subject": pseudonym.upper(), **PURPOSE})
    assert response.status_code == 200
    assert ANNA in response.text
    entry = Entry.objects.get(event=Event.IDENTITY_LOOKUP)
    assert (entry.target, entry.details["direction"]) == (pseudonym, "pseudonym_to_personnummer")


def test_an_unknown_personnummer_is_said_to_be_unknown_and_still_audited(
    officer: Client,
) -> None:
    officer.cookies["django_language"] = "en"
    response = officer.post(URL, {"subject": BO, **PURPOSE})
    assert "does not know this personnummer" in response.text
    entry = Entry.objects.get(event=Event.IDENTITY_LOOKUP)
    assert (entry.target, entry.details["found"]) == ("", False)


def test_a_wrong_personnummer_is_refused_with_the_rule_and_nothing_is_audited(
    officer: Client,
) -> None:
    broken = ANNA[:-1] + str((int(ANNA[-1]) + 1) % 10)
    response = officer.post(URL, {"subject": broken, **PURPOSE})
    assert response.status_code == 400
    assert "kontrollsiffra" in response.text
    assert not Entry.objects.filter(event=Event.IDENTITY_LOOKUP).exists()


@pytest.mark.parametrize("missing", ["case_number", "reason"])
def test_a_look_up_without_case_number_or_reason_is_refused(officer: Client, missing: str) -> None:
    response = officer.post(URL, {"subject": ANNA, **PURPOSE, missing: " "})
    assert response.status_code == 400
    assert not Entry.objects.filter(event=Event.IDENTITY_LOOKUP).exists()


def test_a_personnummer_written_in_the_reason_is_masked_in_the_audit_log(
    officer: Client,
) -> None:
    officer.post(URL, {"subject": ANNA, "case_number": "Af-1", "reason": f"gäller {BO}"})
    entry = Entry.objects.get(event=Event.IDENTITY_LOOKUP)
    assert found_in(entry.details["reason"]) == []
    assert entry.details["reason"].startswith(f"gäller {BO[:8]}-")


def test_a_burst_of_look_ups_is_throttled_and_flagged_in_the_audit_log(
    officer: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(work, "LIMIT", 3)
    for _ in range(3):
        assert officer.post(URL, {"subject": ANNA, **PURPOSE}).status_code == 200
    response = officer.post(URL, {"subject": ANNA, **PURPOSE})
    assert response.status_code == 429
    assert Entry.objects.filter(event=Event.IDENTITY_LOOKUP).count() == 3
    flagged = Entry.objects.get(event=Event.IDENTITY_THROTTLED)
    assert flagged.details["limit"] == 3
    api = officer.post(
        reverse("api-1:identity-pseudonym"),
        {"personnummer": ANNA, **PURPOSE},
        content_type="application/json",
    )
    assert api.status_code == 429
    assert int(api["Retry-After"]) > 0
    assert api.json()["error"]["code"] == "IDENTITY_THROTTLED"
    assert Entry.objects.filter(event=Event.IDENTITY_THROTTLED).count() == 2


def test_the_api_looks_up_both_ways(officer: Client, deliver_person) -> None:
    deliver_person(ANNA)
    forward = officer.post(
        reverse("api-1:identity-pseudonym"),
        {"personnummer": ANNA, **PURPOSE},
        content_type="application/json",
    )
    assert forward.status_code == 200
    pseudonym = forward.json()["pseudonym"]
    assert pseudonym == find(ANNA)
    back = officer.post(
        reverse("api-1:identity-personnummer"),
        {"pseudonym": pseudonym, **PURPOSE},
        content_type="application/json",
    )
    assert [n["personnummer"] for n in back.json()["personnummer"]] == [ANNA]
    assert Entry.objects.filter(event=Event.IDENTITY_LOOKUP, target=pseudonym).count() == 2


def test_the_api_refuses_a_wrong_personnummer_naming_the_rule(officer: Client) -> None:
    response = officer.post(
        reverse("api-1:identity-pseudonym"),
        {"personnummer": ANNA[:8], **PURPOSE},
        content_type="application/json",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "PERSONNUMMER_INVALID"
    assert error["details"][0]["code"] == "PNR_FORMAT"
    assert ANNA[:8] not in response.text
