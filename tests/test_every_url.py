"""Every page and endpoint, tried as every member of the cast and as the other municipality.

The table below classifies each URL of the service; a URL that is not in it
fails the first test, so nothing new goes unchecked. The other tests give
Upplands Väsby a delivery, a user and a token, and then ask every URL, as
every user of Vallentuna and with Vallentuna's token, for anything of them:
another municipality's receipt id, user or token must never show, nor may
another municipality's delivery be accepted.
"""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from openpyxl import load_workbook

from inuk.accounts.tokens import issue_token
from inuk.format.writers import Person
from inuk.ledger.models import Withdrawal
from inuk.stats import engine
from inuk.stats.disclosure import Audience, protect
from inuk.stats.query import Query
from tests.conftest import (
    ANNA,
    BO,
    VALLENTUNA_CODE,
    VALLENTUNA_ORGNR,
    VASBY_CODE,
    delivery_file,
    insats,
    log_in,
    receive_file,
)

pytestmark = pytest.mark.django_db(databases=["default", "vault"])

#: How each named URL is reached: without arguments; with a receipt id; with a
#: user's or a token's id; with a kommunkod; or open to everyone by design.
NO_ARGUMENTS = {
    "accounts:profile",
    "accounts:users",
    "accounts:user_add",
    "accounts:tokens",
    "accounts:token_add",
    "accounts:second_factor_enrol",
    "accounts:second_factor_remove",
    "organisations:agreements",
    "intake:deliveries",
    "intake:upload",
    "api-1:deliveries",
    "api-1:deliveries-create",
    "api-1:organisations",
    "api-1:codes",
    "api-1:stats-indicators",
    "api-1:stats-follow-up",
    "password_change",
    "password_change_done",
    "web:home",
    "web:start",
    "stats:explorer",
}
RECEIPT = {
    "intake:receipt",
    "intake:status",
    "intake:messages_csv",
    "api-1:delivery",
    "api-1:delivery-errors",
}
#: What AF's administrator alone may do to a receipt: the own municipality is refused too.
RECEIPT_ACTION = {"intake:withdraw", "api-1:delivery-withdrawal"}
#: The identity officer's alone, with no argument: everyone else is refused.
IDENTITY_OFFICER = {"erasure", "api-1:identity-erasures"}
#: API endpoints that answer only POST: another municipality's token tries that.
API_POST_ONLY = {"api-1:delivery-withdrawal"}
USER = {"accounts:user_edit", "accounts:user_send_link", "accounts:user_remove"}
TOKEN = {"accounts:token_revoke"}
MUNICIPALITY = {"organisations:agreement"}
#: Statistics asked of an indicator: reachable with any geography, the figures always protected.
STATISTICS = {"api-1:stats"}
OPEN = {
    "set_language",
    "login",
    "login_code",
    "logout",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "web:format",
    "stats:methods",
    "healthz",
    "api-1:openapi-json",
    "api-1:openapi-view",
    "api-1:api-root",
}
#: The identity officer's: a personnummer only ever in a POST body, so none has arguments.
IDENTITY = {
    "identity:lookup",
    "identity:link",
    "identity:extract",
    "api-1:identity-pseudonym",
    "api-1:identity-personnummer",
    "api-1:identity-link",
    "api-1:identity-extract",
}
CLASSIFIED = (
    NO_ARGUMENTS
    | RECEIPT
    | RECEIPT_ACTION
    | IDENTITY_OFFICER
    | IDENTITY
    | USER
    | TOKEN
    | MUNICIPALITY
    | STATISTICS
    | OPEN
)


def url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = pattern.namespace or ""
                walk(
                    pattern.url_patterns, f"{namespace}:{inner}".strip(":") if inner else namespace
                )
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)

    walk(get_resolver().url_patterns, "")
    return {name for name in names if not name.startswith("admin:")}


def test_every_url_of_the_service_is_in_the_access_table():
    assert url_names() - CLASSIFIED == set()
    assert CLASSIFIED - url_names() == set()


@pytest.fixture
def world(cast, agreements):
    """The cast, both municipalities under agreement, and Väsby's own things to protect."""
    data = delivery_file([Person(ANNA, [insats("SYV"), insats("NOPE")])])
    delivery = receive_file(cast.vasby, data, submitted_by="vasby", channel="api")
    token, raw = issue_token(cast.vasby, "Väsbys export", ["deliver", "read"])
    other_raw = cast.token(cast.vallentuna, name="Vallentunas export")
    return {
        "cast": cast,
        "delivery": delivery,
        "token": token,
        "token_raw": raw,
        "other_token_raw": other_raw,
        "secrets": [str(delivery.public_id), cast.vasby_reporter.email, "Väsbys export"],
    }


def vallentuna_users(cast) -> dict:
    return {name: user for name, user in cast.users().items() if name.startswith("vallentuna")}


def url_for(name: str, world) -> str:
    cast = world["cast"]
    if name in RECEIPT | RECEIPT_ACTION:
        key = "id" if name.startswith("api-1:") else "public_id"
        return reverse(name, kwargs={key: world["delivery"].public_id})
    if name in USER:
        return reverse(name, kwargs={"pk": cast.vasby_reporter.pk})
    if name in TOKEN:
        return reverse(name, kwargs={"pk": world["token"].pk})
    if name in MUNICIPALITY:
        return reverse(name, kwargs={"kommunkod": VASBY_CODE})
    if name in STATISTICS:
        return (
            reverse(name, kwargs={"indicator": "participants"})
            + f"?period=2026-01&geography={VASBY_CODE}"
        )
    return reverse(name)


def leaked(response, world) -> list[str]:
    if response.streaming:
        body = b"".join(response.streaming_content).decode("utf-8", "replace")
    else:
        body = response.content.decode("utf-8", "replace")
    return [secret for secret in world["secrets"] if secret in body]


@pytest.mark.slow  # every URL as every user of the other municipality: seconds
@pytest.mark.parametrize("name", sorted(NO_ARGUMENTS - {"api-1:deliveries-create"}))
def test_no_page_shows_another_municipalitys_things(name, world, client: Client):
    for user in vallentuna_users(world["cast"]).values():
        client.force_login(user)
        response = client.get(url_for(name, world))
        assert leaked(response, world) == [], (name, user.email)
    response = Client().get(
        url_for(name, world), HTTP_AUTHORIZATION=f"Bearer {world['other_token_raw']}"
    )
    assert leaked(response, world) == [], name


@pytest.mark.slow  # every URL as every user of the other municipality: seconds
@pytest.mark.parametrize("name", sorted(RECEIPT | RECEIPT_ACTION | USER | TOKEN | MUNICIPALITY))
def test_another_municipalitys_records_are_not_found(name, world, client: Client):
    url = url_for(name, world)
    for user in vallentuna_users(world["cast"]).values():
        client.force_login(user)
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code in (403, 404, 405), (name, method, user.email)
            assert leaked(response, world) == []
    if name.startswith("api-1:"):
        method = "post" if name in API_POST_ONLY else "get"
        response = getattr(Client(), method)(
            url, HTTP_AUTHORIZATION=f"Bearer {world['other_token_raw']}"
        )
        assert response.status_code == 404
    # Nothing was changed by the tries: Väsby's user and token are still there and active.
    world["cast"].vasby_reporter.refresh_from_db()
    assert world["cast"].vasby_reporter.is_active
    world["token"].refresh_from_db()
    assert world["token"].is_active()


@pytest.mark.parametrize("name", sorted(RECEIPT))
def test_the_own_municipality_does_see_its_receipt(name, world, client: Client):
    client.force_login(world["cast"].vasby_reporter)
    response = client.get(url_for(name, world))
    assert response.status_code == 200


@pytest.mark.parametrize("name", sorted(RECEIPT_ACTION))
def test_the_own_municipality_may_not_act_on_its_receipt(name, world, client: Client):
    url = url_for(name, world)
    for user_name, user in world["cast"].users().items():
        if user_name == "af_admin":
            continue
        log_in(client, user)
        response = client.post(url, {"reason": "Prov"})
        assert response.status_code in (403, 404), (name, user_name)
    if name.startswith("api-1:"):
        response = Client().post(url, HTTP_AUTHORIZATION=f"Bearer {world['token_raw']}")
        assert response.status_code == 403, name
    assert not Withdrawal.objects.exists()


@pytest.mark.parametrize("name", sorted(IDENTITY_OFFICER))
def test_only_the_identity_officer_may_erase(name, world, client: Client):
    url = reverse(name)
    for user_name, user in world["cast"].users().items():
        if user_name == "identity_officer":
            continue
        log_in(client, user)
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code in (403, 405), (name, method, user_name)
    if name.startswith("api-1:"):
        response = Client().post(url, HTTP_AUTHORIZATION=f"Bearer {world['token_raw']}")
        assert response.status_code == 403


def test_a_token_cannot_deliver_for_another_municipality(world):
    data = delivery_file([Person(BO, [insats("KAR")])])
    response = Client().post(
        "/api/v1/deliveries",
        data=data,
        content_type="application/xml",
        HTTP_AUTHORIZATION=f"Bearer {world['other_token_raw']}",
    )
    body = response.json()
    assert response.status_code in (201, 403)
    if response.status_code == 201:
        assert body["status"] == "refused"
        assert body["organisation"] == VALLENTUNA_ORGNR
        assert body["refusal"]["code"] == "ORG_NOT_SENDER"


def test_the_check_for_leaks_would_see_one(world, client: Client):
    """The other tests look for these strings; here the owner finds them where they belong."""
    client.force_login(world["cast"].vasby_reporter)
    assert str(world["delivery"].public_id) in leaked(
        client.get(reverse("intake:deliveries")), world
    )
    client.force_login(world["cast"].vasby_admin)
    assert world["cast"].vasby_reporter.email in leaked(
        client.get(reverse("accounts:users")), world
    )
    assert "Väsbys export" in leaked(client.get(reverse("accounts:tokens")), world)


@pytest.mark.slow  # every identity URL as every member of the cast: seconds
@pytest.mark.parametrize("name", sorted(IDENTITY))
def test_identity_functions_answer_no_one_but_the_identity_officer(name, world, client: Client):
    url = reverse(name)
    cast = world["cast"]
    for member, user in cast.users().items():
        if member == "identity_officer":
            continue
        log_in(client, user)
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code in (403, 405), (name, method, member)
    response = Client().post(url, HTTP_AUTHORIZATION=f"Bearer {world['token_raw']}")
    if name.startswith("api-1:"):
        assert response.status_code == 403
    else:  # the pages know no tokens: log in first
        assert response["Location"].startswith(reverse("login"))
    log_in(client, cast.identity_officer)
    if name.startswith("api-1:"):
        response = client.post(url, {}, content_type="application/json")
        assert response.status_code == 400  # let in, and told what is missing
    else:
        assert client.get(url).status_code == 200


#: Who sees statistics, and how: everyone else is refused.
STATISTICS_AUDIENCE = {
    "vasby_analyst": Audience.PROTECTED,
    "vallentuna_analyst": Audience.PROTECTED,
    "af_analyst": Audience.TRUE,
}


def _shown(response, fmt: str) -> list[list[str]]:
    """The value and status of each row of an answer, as text, whatever its format."""
    if fmt == "json":
        rows = response.json()["rows"]
        return [["" if r["value"] is None else str(r["value"]), r["status"]] for r in rows]
    if fmt == "csv":
        text = response.content.decode("utf-8-sig")
        return [[r["value"], r["status"]] for r in csv.DictReader(io.StringIO(text), delimiter=";")]
    lines = list(load_workbook(io.BytesIO(response.content))["Data"].iter_rows(values_only=True))
    header = list(lines[0])
    at, status = header.index("value"), header.index("status")
    return [["" if line[at] is None else str(line[at]), line[status] or ""] for line in lines[1:]]


@pytest.mark.slow  # every role, geography and format: seconds
@pytest.mark.parametrize("fmt", ["json", "csv", "xlsx"])
@pytest.mark.parametrize("geography", [VASBY_CODE, VALLENTUNA_CODE, "01", "SE"])
def test_every_role_sees_statistics_only_as_its_audience_may(world, fmt, geography):
    """Every member of the cast and both tokens, against every kind of geography and format."""
    query = Query.parse(
        indicator="participants", period="2026", geographies=[geography], by=["sex"]
    )
    table = engine.compute_straight(query)
    answers = {
        audience: [
            ["" if row.value.mark else str(row.value.value), str(row.value.mark)]
            for row in protect(table, audience).rows
        ]
        for audience in Audience
    }
    if geography in (VASBY_CODE, "01", "SE"):  # Väsby's one participant: true 1, never shown so
        assert answers[Audience.TRUE][-1] == ["1", ""]
        assert answers[Audience.PROTECTED][-1] != ["1", ""]
    url = f"/api/v1/stats/participants?period=2026&geography={geography}&by=sex&format={fmt}"
    callers = {name: _logged_in(user) for name, user in world["cast"].users().items()}
    callers["vasby_token"] = Client(HTTP_AUTHORIZATION=f"Bearer {world['token_raw']}")
    callers["vallentuna_token"] = Client(HTTP_AUTHORIZATION=f"Bearer {world['other_token_raw']}")
    for name, client in callers.items():
        response = client.get(url)
        audience = STATISTICS_AUDIENCE.get(name, Audience.PROTECTED if "token" in name else None)
        if audience is None:
            assert response.status_code == 403, name
            continue
        assert response.status_code == 200, name
        assert _shown(response, fmt) == answers[audience], name


def _logged_in(user) -> Client:
    return log_in(Client(), user)
