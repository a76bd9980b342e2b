"""The one place that says who sees and does what (SPEC §9), tried for every member of the cast."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from inuk.accounts.models import Role, TokenScope
from inuk.accounts.scoping import (
    OverviewParts,
    delivery_scope,
    grantable_roles,
    managed_organisations,
    may_deliver,
    may_deliver_for,
    may_erase,
    may_follow_up_deliveries,
    may_list_deliveries,
    may_manage_user,
    may_see_agreement,
    may_see_every_agreement,
    may_withdraw,
    overview_parts,
    own_municipality_codes,
    sees_true_figures,
    statistics_access,
    visible_organisations,
)
from inuk.accounts.tokens import issue_token, revoke_token
from inuk.intake.models import Delivery
from inuk.organisations.models import DeliveryAuthorisation, Municipality, Organisation
from inuk.stats.disclosure import Audience, audience_of
from tests.conftest import VALLENTUNA_CODE, VASBY_CODE, Cast

ALL = "all"
NONE = "none"

# name: (deliveries seen, delivers as own organisation, users and tokens managed)
EXPECTED = {
    "vasby_reporter": ("vasby", True, NONE),
    "vasby_analyst": ("vasby", False, NONE),
    "vasby_admin": (NONE, False, "vasby"),
    "vallentuna_reporter": ("vallentuna", True, NONE),
    "vallentuna_analyst": ("vallentuna", False, NONE),
    "vallentuna_admin": (NONE, False, "vallentuna"),
    "af_admin": (ALL, False, ALL),
    "af_analyst": (NONE, False, NONE),
    "identity_officer": (ALL, False, NONE),
}


def _expected_pks(cast: Cast, expected: str) -> set[int]:
    if expected == ALL:
        return set(Organisation.objects.values_list("pk", flat=True))
    if expected == NONE:
        return set()
    return {getattr(cast, expected).pk}


@pytest.mark.parametrize("name", EXPECTED)
def test_each_member_sees_exactly_the_deliveries_of_their_scope(cast: Cast, name: str) -> None:
    user = cast.users()[name]
    seen = set(visible_organisations(user).values_list("pk", flat=True))
    assert seen == _expected_pks(cast, EXPECTED[name][0])


@pytest.mark.parametrize("name", EXPECTED)
def test_only_reporters_deliver_and_only_as_their_own_organisation(cast: Cast, name: str) -> None:
    user = cast.users()[name]
    for organisation in (cast.vasby, cast.vallentuna, cast.af):
        expected = EXPECTED[name][1] and organisation == user.organisation
        assert may_deliver_for(user, organisation) is expected


@pytest.mark.parametrize("name", EXPECTED)
def test_each_member_manages_exactly_the_users_and_tokens_of_their_scope(
    cast: Cast, name: str
) -> None:
    user = cast.users()[name]
    managed = set(managed_organisations(user).values_list("pk", flat=True))
    assert managed == _expected_pks(cast, EXPECTED[name][2])


def test_a_municipal_analyst_sees_statistics_in_detail_only_for_their_own_municipality(
    cast: Cast,
) -> None:
    access = statistics_access(cast.vasby_analyst)
    assert access is not None
    assert access.sees_detail_for(VASBY_CODE)
    assert not access.sees_detail_for(VALLENTUNA_CODE)
    assert not access.unprotected


def test_the_national_analyst_sees_every_municipality_without_disclosure_control(
    cast: Cast,
) -> None:
    access = statistics_access(cast.af_analyst)
    assert access is not None and access.unprotected
    assert access.sees_detail_for(VALLENTUNA_CODE)


@pytest.mark.parametrize("name", ["vasby_reporter", "vasby_admin", "af_admin", "identity_officer"])
def test_those_without_an_analyst_role_have_no_statistics(cast: Cast, name: str) -> None:
    assert statistics_access(cast.users()[name]) is None


def test_a_token_with_read_sees_statistics_protected_and_one_without_sees_none(
    cast: Cast,
) -> None:
    reader, _ = issue_token(cast.vasby, "Läsare", [TokenScope.READ])
    deliverer, _ = issue_token(cast.vasby, "Leverantör", [TokenScope.DELIVER])

    access = statistics_access(reader)
    assert access is not None and not access.unprotected
    assert access.own_codes == {VASBY_CODE}
    assert statistics_access(deliverer) is None
    revoke_token(reader, actor="test")
    reader.refresh_from_db()
    assert statistics_access(reader) is None


def test_an_af_token_with_read_still_sees_statistics_protected(cast: Cast) -> None:
    reader, _ = issue_token(cast.af, "AF:s läsare", [TokenScope.READ])

    access = statistics_access(reader)
    assert access is not None and not access.unprotected


@pytest.mark.parametrize(
    ("name", "allowed"),
    [
        ("af_admin", True),
        ("af_analyst", True),
        ("identity_officer", False),
        ("vasby_analyst", False),
        ("vasby_reporter", False),
        ("vallentuna_admin", False),
    ],
)
def test_the_delivery_follow_up_is_for_afs_administrators_and_analysts(
    cast: Cast, name: str, allowed: bool
) -> None:
    assert may_follow_up_deliveries(cast.users()[name]) is allowed


def test_the_delivery_follow_up_is_for_afs_read_tokens_only(cast: Cast) -> None:
    af_reader, _ = issue_token(cast.af, "AF:s läsare", [TokenScope.READ])
    vasby_reader, _ = issue_token(cast.vasby, "Läsare", [TokenScope.READ])

    assert may_follow_up_deliveries(af_reader)
    assert not may_follow_up_deliveries(vasby_reader)


def test_a_federation_follows_up_the_municipalities_that_authorised_it(db: None) -> None:
    federation = Organisation.objects.create(
        orgnr="2220001234", name="Norrtälje förbund", kind=Organisation.Kind.FEDERATION
    )
    today = dt.date(2026, 6, 1)
    DeliveryAuthorisation.objects.create(
        deliverer=federation,
        municipality=Municipality.objects.get(code=VASBY_CODE),
        valid_from=dt.date(2026, 1, 1),
    )
    DeliveryAuthorisation.objects.create(
        deliverer=federation,
        municipality=Municipality.objects.get(code=VALLENTUNA_CODE),
        valid_from=dt.date(2025, 1, 1),
        valid_until=dt.date(2025, 12, 31),
    )
    assert own_municipality_codes(federation, on=today) == {VASBY_CODE}


def test_nobody_anonymous_or_inactive_sees_anything(cast: Cast) -> None:
    cast.af_admin.is_active = False
    for principal in (AnonymousUser(), cast.af_admin):
        assert not visible_organisations(principal).exists()
        assert not managed_organisations(principal).exists()
        assert statistics_access(principal) is None


def test_a_municipal_administrator_grants_only_local_roles_in_their_own_organisation(
    cast: Cast,
) -> None:
    assert set(grantable_roles(cast.vasby_admin, cast.vasby)) == {
        Role.REPORTER,
        Role.ANALYST,
        Role.USER_ADMIN,
    }
    assert grantable_roles(cast.vasby_admin, cast.vallentuna) == []
    assert grantable_roles(cast.vasby_admin, cast.af) == []


def test_the_af_administrator_grants_af_roles_only_within_af(cast: Cast) -> None:
    assert Role.IDENTITY_OFFICER in grantable_roles(cast.af_admin, cast.af)
    assert Role.IDENTITY_OFFICER not in grantable_roles(cast.af_admin, cast.vasby)


def test_an_af_user_administrator_cannot_touch_an_identity_officer(cast: Cast) -> None:
    cast.af_analyst.set_roles([Role.NATIONAL_ANALYST, Role.USER_ADMIN])
    assert Role.IDENTITY_OFFICER not in grantable_roles(cast.af_analyst, cast.af)
    assert not may_manage_user(cast.af_analyst, cast.identity_officer)
    assert may_manage_user(cast.af_admin, cast.identity_officer)


def test_a_municipal_administrator_manages_only_their_own_municipalitys_users(
    cast: Cast,
) -> None:
    assert may_manage_user(cast.vasby_admin, cast.vasby_reporter)
    assert not may_manage_user(cast.vasby_admin, cast.vallentuna_reporter)
    assert not may_manage_user(cast.vallentuna_admin, cast.vasby_analyst)
    assert not may_manage_user(cast.vasby_admin, cast.af_admin)


def test_a_read_token_sees_only_its_own_organisations_receipts(cast: Cast) -> None:
    token, _raw = issue_token(cast.vasby, "läsare", [TokenScope.READ])
    assert set(visible_organisations(token)) == {cast.vasby}
    assert not may_deliver_for(token, cast.vasby)


def test_a_deliver_token_delivers_only_as_its_own_organisation(cast: Cast) -> None:
    token, _raw = issue_token(cast.vasby, "export", [TokenScope.DELIVER])
    assert may_deliver_for(token, cast.vasby)
    assert not may_deliver_for(token, cast.vallentuna)
    assert not visible_organisations(token).exists()


def test_a_revoked_token_may_do_nothing(cast: Cast) -> None:
    token, _raw = issue_token(cast.vasby, "export", [TokenScope.DELIVER, TokenScope.READ])
    revoke_token(token)
    assert not may_deliver_for(token, cast.vasby)
    assert not visible_organisations(token).filter(pk=cast.vasby.pk).exists()


# --- what the pages and the API ask besides ----------------------------------------------

#: name: (lists deliveries, withdraws, erases, true figures, every agreement)
DOES = {
    "vasby_reporter": (True, False, False, False, False),
    "vasby_analyst": (True, False, False, False, False),
    "vasby_admin": (False, False, False, False, False),
    "vallentuna_reporter": (True, False, False, False, False),
    "vallentuna_analyst": (True, False, False, False, False),
    "vallentuna_admin": (False, False, False, False, False),
    "af_admin": (True, True, False, False, True),
    "af_analyst": (False, False, False, True, True),
    "identity_officer": (True, False, True, False, True),
}


@pytest.mark.parametrize("name", DOES)
def test_each_member_lists_withdraws_erases_and_sees_as_the_table_says(
    cast: Cast, name: str
) -> None:
    user = cast.users()[name]
    done = (
        may_list_deliveries(user),
        may_withdraw(user),
        may_erase(user),
        sees_true_figures(user),
        may_see_every_agreement(user),
    )
    assert done == DOES[name]
    assert may_deliver(user) == may_deliver_for(user, user.organisation)


@pytest.mark.parametrize("name", DOES)
def test_the_figures_protected_for_a_member_are_the_scoping_s_answer(cast: Cast, name: str) -> None:
    user = cast.users()[name]
    access = statistics_access(user)
    unprotected = access is not None and access.unprotected
    assert (audience_of(user) is Audience.TRUE) == sees_true_figures(user) == unprotected


#: name: the start page's parts (deliveries, follow-up, country, regions)
PARTS = {
    "vasby_reporter": (True, False, False, False),
    "vasby_analyst": (False, False, False, False),
    "vasby_admin": (False, False, False, False),
    "af_admin": (False, True, True, False),
    "af_analyst": (False, False, True, True),
    "identity_officer": (False, False, False, False),
}


@pytest.mark.parametrize("name", PARTS)
def test_the_start_page_shows_each_member_the_parts_of_their_roles(cast: Cast, name: str) -> None:
    assert overview_parts(cast.users()[name]) == OverviewParts(*PARTS[name])


def test_a_municipality_s_users_see_their_own_agreement_only(cast: Cast) -> None:
    vasby = Municipality.objects.get(code=VASBY_CODE)
    vallentuna = Municipality.objects.get(code=VALLENTUNA_CODE)
    assert may_see_agreement(cast.vasby_reporter, vasby)
    assert not may_see_agreement(cast.vasby_reporter, vallentuna)
    assert may_see_agreement(cast.af_analyst, vallentuna)
    assert not may_see_agreement(AnonymousUser(), vasby)


def _delivery(organisation: Organisation, submitted_by: str) -> Delivery:
    number = Delivery.objects.count()
    return Delivery.objects.create(
        organisation=organisation,
        received_at=timezone.now(),
        filename="leverans.xml",
        checksum=f"{number:064d}",
        size=1,
        format="xml",
        submitted_by=submitted_by,
    )


def test_a_deliver_token_sees_the_receipts_of_what_it_sent_itself_and_no_others(
    cast: Cast,
) -> None:
    sender, _ = issue_token(cast.vasby, "export", [TokenScope.DELIVER])
    other, _ = issue_token(cast.vasby, "annan", [TokenScope.DELIVER])
    own = _delivery(cast.vasby, sender.audit_name)
    _delivery(cast.vasby, other.audit_name)
    _delivery(cast.vasby, "anna@upplandsvasby.example")

    assert list(Delivery.objects.filter(delivery_scope(sender))) == [own]
    assert may_list_deliveries(sender)
    revoke_token(sender)
    assert not Delivery.objects.filter(delivery_scope(sender)).exists()
    assert not may_list_deliveries(sender)


def test_a_user_sees_the_deliveries_of_the_organisations_they_see(cast: Cast) -> None:
    vasby = _delivery(cast.vasby, "anna@upplandsvasby.example")
    vallentuna = _delivery(cast.vallentuna, "bo@vallentuna.example")
    assert list(Delivery.objects.filter(delivery_scope(cast.vasby_analyst))) == [vasby]
    assert set(Delivery.objects.filter(delivery_scope(cast.af_admin))) == {vasby, vallentuna}
    assert not Delivery.objects.filter(delivery_scope(AnonymousUser())).exists()
