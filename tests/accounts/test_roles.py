"""Users, their organisation and their roles (SPEC §1)."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError

from inuk.accounts.models import AF_ROLES, Role, User
from tests.conftest import PASSWORD, Cast


def test_every_member_of_the_cast_holds_the_role_named_in_the_docstring(cast: Cast) -> None:
    assert cast.vasby_reporter.roles == {Role.REPORTER}
    assert cast.vallentuna_admin.roles == {Role.USER_ADMIN}
    assert cast.af_analyst.roles == {Role.NATIONAL_ANALYST}
    assert cast.identity_officer.organisation == cast.af


@pytest.mark.parametrize("role", sorted(AF_ROLES))
def test_a_municipal_user_cannot_hold_an_af_role(cast: Cast, role: Role) -> None:
    with pytest.raises(ValidationError) as raised:
        cast.vasby_analyst.set_roles([Role.ANALYST, role])
    assert raised.value.code == "role_not_allowed"
    assert User.objects.get(pk=cast.vasby_analyst.pk).roles == {Role.ANALYST}


def test_an_af_user_can_hold_several_roles_at_once(cast: Cast) -> None:
    cast.af_admin.set_roles([Role.AF_ADMIN, Role.NATIONAL_ANALYST, Role.REPORTER])
    fresh = User.objects.get(pk=cast.af_admin.pk)
    assert fresh.roles == {Role.AF_ADMIN, Role.NATIONAL_ANALYST, Role.REPORTER}
    assert fresh.has_role(Role.NATIONAL_ANALYST)


def test_setting_roles_replaces_the_ones_held_before(cast: Cast) -> None:
    cast.vasby_reporter.set_roles([Role.ANALYST])
    assert cast.vasby_reporter.roles == {Role.ANALYST}
    assert not cast.vasby_reporter.has_role(Role.REPORTER)


def test_an_inactive_user_holds_no_role_in_effect(cast: Cast) -> None:
    cast.vasby_reporter.is_active = False
    assert not cast.vasby_reporter.has_role(Role.REPORTER)


def test_the_email_address_is_the_login_name_whatever_its_case(cast: Cast) -> None:
    user = authenticate(username="  Reporter@UpplandsVasby.EXAMPLE ", password=PASSWORD)
    assert user == cast.vasby_reporter


def test_two_users_cannot_share_an_email_address_differing_only_in_case(cast: Cast) -> None:
    with pytest.raises(ValidationError):
        User.objects.create_user(
            "REPORTER@upplandsvasby.example", organisation=cast.vasby, roles=[Role.REPORTER]
        )


def test_a_user_added_without_a_password_cannot_log_in_until_they_set_one(cast: Cast) -> None:
    user = User.objects.create_user("ny@upplandsvasby.example", organisation=cast.vasby)
    assert not user.has_usable_password()
    assert authenticate(username=user.email, password="") is None
