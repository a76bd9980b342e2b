"""Only an identity officer with a verified second factor may use any identity function.

Every page and every API endpoint is tried by every other member of the cast,
by an API token, by no one, and by the identity officer without a second
factor or with a session the second factor did not verify: none gets an
answer, and none is audited as a look-up.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from inuk.audit.log import Event
from inuk.audit.models import Entry
from tests.conftest import ANNA, ANNA_NEW, Cast, log_in
from tests.identity.conftest import PURPOSE

pytestmark = pytest.mark.django_db(databases=["default", "vault"])

PAGES = {
    "identity:lookup": {"subject": ANNA, **PURPOSE},
    "identity:link": {"old": ANNA, "new": ANNA_NEW, **PURPOSE},
    "identity:extract": {"personnummer": ANNA, "format": "json", **PURPOSE},
}
ENDPOINTS = {
    "api-1:identity-pseudonym": {"personnummer": ANNA, **PURPOSE},
    "api-1:identity-personnummer": {"pseudonym": "0" * 32, **PURPOSE},
    "api-1:identity-link": {"old": ANNA, "new": ANNA_NEW, **PURPOSE},
    "api-1:identity-extract": {"personnummer": ANNA, **PURPOSE},
}
OTHERS = [
    "vasby_reporter",
    "vasby_analyst",
    "vasby_admin",
    "vallentuna_reporter",
    "vallentuna_analyst",
    "vallentuna_admin",
    "af_admin",
    "af_analyst",
]
AUDITED = [Event.IDENTITY_LOOKUP, Event.IDENTITY_LINKED, Event.IDENTITY_EXTRACT]


def nothing_audited() -> bool:
    return not Entry.objects.filter(event__in=AUDITED).exists()


def post_api(client: Client, name: str, **headers) -> object:
    return client.post(
        reverse(name), ENDPOINTS[name], content_type="application/json", headers=headers
    )


@pytest.mark.parametrize("member", OTHERS)
def test_every_other_role_is_refused_every_page_and_endpoint(
    member: str, client: Client, cast: Cast
) -> None:
    log_in(client, cast.users()[member])
    for name, data in PAGES.items():
        assert client.get(reverse(name)).status_code == 403, name
        assert client.post(reverse(name), data).status_code == 403, name
    for name in ENDPOINTS:
        response = post_api(client, name)
        assert response.status_code == 403, name
        assert response.json()["error"]["code"] == "IDENTITY_OFFICER_ONLY"
    assert nothing_audited()


def test_an_api_token_is_refused_every_endpoint(cast: Cast) -> None:
    raw = cast.token(cast.af, name="AF:s system")
    for name in ENDPOINTS:
        response = post_api(Client(), name, Authorization=f"Bearer {raw}")
        assert response.status_code == 403, name
    assert nothing_audited()


def test_no_one_logged_in_is_sent_to_log_in(client: Client, cast: Cast) -> None:
    for name, data in PAGES.items():
        response = client.post(reverse(name), data)
        assert response["Location"].startswith(reverse("login")), name
    for name in ENDPOINTS:
        assert post_api(client, name).status_code == 401, name
    assert nothing_audited()


def test_an_identity_officer_without_a_second_factor_is_sent_to_enrol(
    client: Client, cast: Cast
) -> None:
    client.force_login(cast.identity_officer)
    for name, data in PAGES.items():
        for response in (client.get(reverse(name)), client.post(reverse(name), data)):
            assert response.status_code == 302, name
            assert response["Location"] == reverse("accounts:second_factor_enrol")
    for name in ENDPOINTS:
        assert post_api(client, name).status_code == 401, name
    assert nothing_audited()


def test_an_identity_officer_whose_session_the_second_factor_did_not_verify_is_refused(
    client: Client, cast: Cast
) -> None:
    TOTPDevice.objects.create(user=cast.identity_officer, name="INUK", confirmed=True)
    client.force_login(cast.identity_officer)  # e.g. through Django's admin, with no code
    response = client.post(reverse("identity:lookup"), PAGES["identity:lookup"])
    assert response["Location"].startswith(reverse("login"))
    client.force_login(cast.identity_officer)
    for name in ENDPOINTS:
        assert post_api(client, name).status_code == 401, name
    assert nothing_audited()


def test_the_identity_officer_with_a_second_factor_gets_every_page_and_endpoint(
    officer: Client,
) -> None:
    for name in PAGES:
        assert officer.get(reverse(name)).status_code == 200, name
    for name in ("api-1:identity-pseudonym", "api-1:identity-personnummer"):
        assert post_api(officer, name).status_code == 200, name
    assert Entry.objects.filter(event=Event.IDENTITY_LOOKUP).count() == 2


def test_only_the_identity_officer_sees_the_menu_entries(client: Client, cast: Cast) -> None:
    lookup = reverse("identity:lookup")
    log_in(client, cast.af_admin)
    assert f'href="{lookup}"' not in client.get(reverse("intake:deliveries")).text
    log_in(client, cast.identity_officer)
    assert f'href="{lookup}"' in client.get(reverse("intake:deliveries")).text
