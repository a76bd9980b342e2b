"""``GET /api/v1/organisations`` and ``/codes``: the registers suppliers sync, for any caller."""

from __future__ import annotations

import datetime as dt

import pytest

from inuk.codes.models import Code
from inuk.organisations.models import Agreement, Municipality
from tests.conftest import AF_ORGNR, VALLENTUNA_CODE, VASBY_CODE, VASBY_ORGNR, Cast

pytestmark = pytest.mark.django_db(databases=["default", "vault"])


@pytest.fixture
def deliver_only(cast: Cast, api_as):
    return api_as(cast.token(cast.vasby, "deliver"))


def test_the_register_lists_every_municipality_and_af(deliver_only):
    response = deliver_only.get("/organisations")
    assert response.status_code == 200
    rows = response.json()
    municipalities = [row for row in rows if row["kind"] == "kommun"]
    assert len(municipalities) == 290
    [af] = [row for row in rows if row["kind"] == "af"]
    assert af["orgnr"] == AF_ORGNR
    assert af["agreement_in_force"] is None
    vasby = next(row for row in rows if row["kommunkod"] == VASBY_CODE)
    assert vasby == {
        "orgnr": VASBY_ORGNR,
        "name": vasby["name"],
        "kind": "kommun",
        "kommunkod": VASBY_CODE,
        "kommun": "Upplands Väsby",
        "county_code": "01",
        "county": vasby["county"],
        "agreement_in_force": False,
    }
    assert "Stockholm" in vasby["county"]


def test_the_register_says_whose_agreement_is_in_force_today(deliver_only):
    Agreement.objects.create(
        municipality=Municipality.objects.get(code=VASBY_CODE),
        signed_by_af=dt.date(2020, 1, 1),
        signed_by_municipality=dt.date(2020, 1, 2),
    )
    Agreement.objects.create(
        municipality=Municipality.objects.get(code=VALLENTUNA_CODE),
        signed_by_af=dt.date(2020, 1, 1),
        signed_by_municipality=dt.date(2020, 1, 2),
        notice_given_on=dt.date(2020, 6, 1),
    )
    rows = {row["kommunkod"]: row for row in deliver_only.get("/organisations").json()}
    assert rows[VASBY_CODE]["agreement_in_force"] is True
    assert rows[VALLENTUNA_CODE]["agreement_in_force"] is False  # ended after notice


def test_the_register_holds_no_personal_data(deliver_only, cast):
    text = deliver_only.get("/organisations").content.decode()
    assert "@" not in text  # no e-mail addresses of users or contact persons
    assert cast.vasby_reporter.first_name not in text


def test_the_code_lists_come_with_their_validity(deliver_only):
    Code.objects.create(
        kind="insats",
        code="GAM",
        name_sv="Gammal insats",
        valid_from=dt.date(2015, 1, 1),
        valid_to=dt.date(2020, 1, 1),
    )
    codes = deliver_only.get("/codes").json()
    assert {"SYV", "KAR", "ARB", "STU", "GAM"} <= {code["code"] for code in codes}
    old = next(code for code in codes if code["code"] == "GAM")
    assert (old["valid_from"], old["valid_to"]) == ("2015-01-01", "2020-01-01")
    syv = next(code for code in codes if code["code"] == "SYV")
    assert syv["kind"] == "insats" and syv["name_sv"]


def test_the_code_lists_filter_by_kind(deliver_only):
    results = deliver_only.get("/codes", {"kind": "resultat"}).json()
    assert results and {code["kind"] for code in results} == {"resultat"}
    assert deliver_only.get("/codes", {"kind": "other"}).status_code == 400


def test_the_registers_need_a_caller(api_as, db):
    for path in ("/organisations", "/codes"):
        assert api_as(None).get(path).status_code == 401
