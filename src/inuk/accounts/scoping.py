"""Who may see and do what, for every view and API endpoint (SPEC §9).

All organisation scoping is decided here and nowhere else. A *principal* is
whoever makes a request: a logged-in ``User`` (or ``AnonymousUser``) on the
web, an ``ApiToken`` on the API (from ``inuk.accounts.tokens.authenticate_token``).

The request
    ``acting_user(request)`` — the user acting in a page's request, once
    ``require_role`` (or ``login_required``) has let it through. The API's
    caller is ``inuk.api.auth.principal(request)``.

Deliveries and receipts
    ``visible_organisations(principal)`` — a queryset of the organisations
    whose deliveries the principal may see.
    ``delivery_scope(principal)`` — the deliveries themselves, as a filter
    every page and endpoint applies (``inuk.intake.listing``)::

        Delivery.objects.filter(delivery_scope(principal))

    ``may_list_deliveries(principal)`` — may it open the list at all?
    ``may_deliver_for(principal, organisation)`` — may it send a delivery as
    that organisation? ``may_deliver(principal)`` — as its own? (Which
    kommunkod an organisation may deliver records for is the organisations
    app's rule, ``inuk.organisations.authorisation``, checked when the file is
    read.) ``may_withdraw(principal)`` — may it withdraw a delivery?
    ``may_erase(principal)`` — may it erase a person?

Statistics
    ``statistics_access(principal)`` — None, or which municipalities are the
    caller's own (``own_municipality_codes(organisation)``) and whether figures
    are shown without disclosure control. Whoever may use the statistics may
    ask for any geography: their own municipality, other municipalities one by
    one (each its own series, never summed into an aggregate of their
    choosing), counties, municipality groups and the country; every figure is
    protected (``inuk.stats.disclosure``) but for AF's national analysts.
    ``sees_true_figures(principal)`` — are its figures shown without
    disclosure control (``inuk.stats.disclosure.audience_of`` asks)?
    ``may_follow_up_deliveries(principal)`` — may it see every municipality's
    delivery follow-up (indicator 6)? AF's users and AF's ``read`` tokens.

The start page
    ``overview_parts(principal)`` — which of the start page's parts a user is
    shown besides their own municipality's figures: their latest deliveries,
    AF's follow-up, the country's figures, counties and groups side by side.

Agreements
    ``may_see_every_agreement(principal)`` — AF's users see every
    municipality's agreement; ``may_see_agreement(principal, municipality)``
    — the same for one: AF's, or the municipality's own users.

Users and tokens
    ``MANAGERS`` — the roles that open the user and token pages at all;
    ``managed_organisations(user)`` / ``may_manage_organisation(user, org)``
    — whose users and tokens the user administers; ``manageable_users(user)``;
    ``grantable_roles(user, organisation)``; ``may_manage_user(user, target)``.

Personnummer
    ``may_identify(principal)`` — may it turn a personnummer into a pseudonym
    or back, link two numbers or make a register extract? Only an identity
    officer whose session was verified with a second factor (SPEC §8).

Views
    ``@require_role(Role.X, Role.Y)`` — log-in required, then any of the roles
    (none named: any logged-in user), else 403; ``@require_role(allowed=may_x)``
    — log-in required, then whatever ``may_x(user)`` allows, else 403. A user whose role demands a
    second factor (``SECOND_FACTOR_ROLES``) and who has none yet is sent to
    enrol one first.

The table the functions implement (own = the principal's own organisation):

===================  ============  ===========  =============  ==============
role / token scope   deliveries    deliver as   statistics     users, tokens
===================  ============  ===========  =============  ==============
reporter             own           own          –              –
analyst              own           –            all,           –
                                                protected
user administrator   –             –            –              own org;
                                                               local roles
AF administrator     all;          –            – (the start   all orgs; all
                     withdraws                  page: the      roles
                                                country,
                                                protected)
identity officer     all           –            –              –
 (+ personnummer,
 erasure, second
 factor)
national analyst     –             –            all,           –
                                                unprotected
token ``deliver``    what it       own          –              –
                     sent
token ``read``       own           –            all,           –
                                                protected
===================  ============  ===========  =============  ==============

A user's roles add up. An inactive user, an expired or revoked token, and
Django's ``is_superuser`` grant nothing here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeAlias

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import user_has_device

from inuk.accounts.models import LOCAL_ROLES, ApiToken, Role, TokenScope, User
from inuk.organisations.models import DeliveryAuthorisation, Municipality, Organisation

Principal: TypeAlias = User | ApiToken | AnonymousUser
View: TypeAlias = Callable[..., HttpResponseBase]

#: Roles that see the deliveries of every organisation.
SEE_ALL_DELIVERIES = frozenset({Role.AF_ADMIN, Role.IDENTITY_OFFICER})
#: Roles that see their own organisation's deliveries.
SEE_OWN_DELIVERIES = frozenset({Role.REPORTER, Role.ANALYST})
#: Roles that open the user and token pages; ``managed_organisations`` says for whom.
MANAGERS = (Role.USER_ADMIN, Role.AF_ADMIN)


def acting_user(request: HttpRequest) -> User:
    """The user acting in a page's request, which ``require_role`` (or ``login_required``)
    let through; every page asks this, never ``request.user`` directly."""
    user = request.user
    assert isinstance(user, User)
    return user


def _active_user(principal: Principal) -> User | None:
    if isinstance(principal, User) and principal.is_active:
        return principal
    return None


def _verified(user: User) -> bool:
    """Whether this request's session was verified with a second factor (django-otp)."""
    return bool(getattr(user, "is_verified", lambda: False)())


def may_identify(principal: Principal) -> bool:
    """May ``principal`` see personnummer: look them up, link them, extract a person's data?

    Only an identity officer, and only in a session verified with a second
    factor; never an API token.
    """
    user = _active_user(principal)
    return bool(user and user.has_role(Role.IDENTITY_OFFICER) and _verified(user))


def visible_organisations(principal: Principal) -> QuerySet[Organisation]:
    """Organisations whose deliveries and receipts ``principal`` may see."""
    organisations = Organisation.objects.all()
    if isinstance(principal, ApiToken):
        if principal.is_active() and principal.has_scope(TokenScope.READ):
            return organisations.filter(pk=principal.organisation_id)
        return organisations.none()
    user = _active_user(principal)
    if user is None:
        return organisations.none()
    if user.has_role(*SEE_ALL_DELIVERIES):
        return organisations
    if user.has_role(*SEE_OWN_DELIVERIES):
        return organisations.filter(pk=user.organisation_id)
    return organisations.none()


def delivery_scope(principal: Principal) -> Q:
    """The deliveries whose receipts ``principal`` may see, as a filter on ``Delivery``.

    Those of ``visible_organisations``; and besides, a token with the
    ``deliver`` permission sees what it sent itself, so that the sending system
    can follow its receipts.
    """
    scope = Q(organisation__in=visible_organisations(principal))
    if isinstance(principal, ApiToken) and may_deliver(principal):
        scope |= Q(
            organisation=principal.organisation_id,
            submitted_by__startswith=principal.audit_prefix,
        )
    return scope


def may_list_deliveries(principal: Principal) -> bool:
    """May ``principal`` open the list of deliveries at all (``delivery_scope`` says which)?"""
    if visible_organisations(principal).exists():
        return True
    return isinstance(principal, ApiToken) and may_deliver(principal)


def may_deliver_for(principal: Principal, organisation: Organisation) -> bool:
    """May ``principal`` send a delivery as ``organisation``?"""
    if isinstance(principal, ApiToken):
        return (
            principal.is_active()
            and principal.has_scope(TokenScope.DELIVER)
            and principal.organisation_id == organisation.pk
        )
    user = _active_user(principal)
    return bool(user and user.has_role(Role.REPORTER) and user.organisation_id == organisation.pk)


def may_deliver(principal: Principal) -> bool:
    """May ``principal`` send a delivery as its own organisation?"""
    if isinstance(principal, AnonymousUser):
        return False
    return may_deliver_for(principal, principal.organisation)


def may_withdraw(principal: Principal) -> bool:
    """May ``principal`` withdraw a delivery (SPEC §11)? AF's administrators, as users only.

    No API token may: a withdrawal is a decision someone answers for, and a
    token is a machine's.
    """
    user = _active_user(principal)
    return bool(user and user.has_role(Role.AF_ADMIN))


def may_erase(principal: Principal) -> bool:
    """May ``principal`` erase a person from the vault and the statistics (SPEC §11)?

    The identity officer, as a user only; the pages and the API let them in
    only in a session verified with a second factor.
    """
    user = _active_user(principal)
    return bool(user and user.has_role(Role.IDENTITY_OFFICER))


@dataclass(frozen=True, slots=True)
class StatisticsAccess:
    """What a user may see in the statistics tool.

    ``own_codes``: the kommunkod the user follows up as their own, shown in
    detail. Everything else is shown only as aggregates through disclosure
    control, unless ``unprotected`` (AF's and national analysts), who see
    every municipality as is.
    """

    own_codes: frozenset[str]
    unprotected: bool

    def sees_detail_for(self, kommunkod: str) -> bool:
        return self.unprotected or kommunkod in self.own_codes


def own_municipality_codes(organisation: Organisation, on: dt.date | None = None) -> frozenset[str]:
    """The kommunkod an organisation follows up as its own.

    A municipality: its own code. A federation: the municipalities that have
    authorised it to deliver for them. AF and suppliers: none.
    """
    if organisation.kind == Organisation.Kind.MUNICIPALITY:
        codes = Municipality.objects.filter(organisation=organisation)
        return frozenset(codes.values_list("code", flat=True))
    if organisation.kind == Organisation.Kind.FEDERATION:
        day = on or timezone.localdate()
        authorised = DeliveryAuthorisation.objects.filter(deliverer=organisation).valid_on(day)
        return frozenset(authorised.values_list("municipality__code", flat=True))
    return frozenset()


def sees_true_figures(principal: Principal) -> bool:
    """Are ``principal``'s figures shown as they are, without disclosure control?

    Only for an active user holding the national analyst role in AF. Anyone
    else (anonymous visitors, an organisation's API token, users of
    municipalities and suppliers, AF's users without the role) gets protected
    figures: the safe answer is the default one.
    """
    user = _active_user(principal)
    return bool(user and user.has_role(Role.NATIONAL_ANALYST) and user.organisation.is_agency)


def statistics_access(principal: Principal) -> StatisticsAccess | None:
    """None if the principal may not use the statistics tool (or API) at all.

    A token with the ``read`` permission reads its organisation's statistics as
    its analysts do, protected. Unprotected figures are for AF's national
    analysts only (``sees_true_figures``).
    """
    if isinstance(principal, ApiToken):
        if principal.is_active() and principal.has_scope(TokenScope.READ):
            return StatisticsAccess(
                own_codes=own_municipality_codes(principal.organisation), unprotected=False
            )
        return None
    user = _active_user(principal)
    if user is None:
        return None
    if sees_true_figures(user):
        return StatisticsAccess(own_codes=frozenset(), unprotected=True)
    if user.has_role(Role.ANALYST):
        return StatisticsAccess(
            own_codes=own_municipality_codes(user.organisation), unprotected=False
        )
    return None


#: AF's roles that follow up every municipality's deliveries.
FOLLOW_UP_DELIVERIES = frozenset({Role.AF_ADMIN, Role.NATIONAL_ANALYST, Role.ANALYST})


def may_follow_up_deliveries(principal: Principal) -> bool:
    """May ``principal`` see the delivery follow-up of every municipality (indicator 6)?

    AF's administrators and analysts, and AF's own tokens with ``read``: the
    follow-up is AF's view of the whole country's reporting.
    """
    if isinstance(principal, ApiToken):
        return (
            principal.is_active()
            and principal.has_scope(TokenScope.READ)
            and principal.organisation.is_agency
        )
    user = _active_user(principal)
    return bool(user and user.organisation.is_agency and user.has_role(*FOLLOW_UP_DELIVERIES))


@dataclass(frozen=True, slots=True)
class OverviewParts:
    """Which parts of the start page a user is shown, besides the figures of their own
    municipality (``statistics_access``'s ``own_codes``).

    ``deliveries``: their latest deliveries and the month due, for those who
    deliver. ``follow_up``: every municipality's delivery follow-up, for AF's
    administrators. ``country``: the country's figures at a glance, for AF's
    administrators and national analysts. ``regions``: counties and
    municipality groups side by side, for national analysts. Every figure is
    protected but for those who ``sees_true_figures``.
    """

    deliveries: bool
    follow_up: bool
    country: bool
    regions: bool


def overview_parts(principal: Principal) -> OverviewParts:
    user = _active_user(principal)
    if user is None:
        return OverviewParts(deliveries=False, follow_up=False, country=False, regions=False)
    return OverviewParts(
        deliveries=may_deliver(user),
        follow_up=user.has_role(Role.AF_ADMIN),
        country=user.has_role(Role.AF_ADMIN, Role.NATIONAL_ANALYST),
        regions=user.has_role(Role.NATIONAL_ANALYST),
    )


def may_see_every_agreement(principal: Principal) -> bool:
    """Does ``principal`` see every municipality's agreement? AF's users do."""
    user = _active_user(principal)
    return bool(user and user.organisation.is_agency)


def may_see_agreement(principal: Principal, municipality: Municipality) -> bool:
    """May ``principal`` see ``municipality``'s agreement? AF's users, and its own users."""
    user = _active_user(principal)
    if user is None:
        return False
    return may_see_every_agreement(user) or municipality.organisation_id == user.organisation_id


def managed_organisations(principal: Principal) -> QuerySet[Organisation]:
    """Organisations whose users and API tokens ``principal`` may create, change and remove."""
    organisations = Organisation.objects.all()
    user = _active_user(principal)
    if user is None:
        return organisations.none()
    if user.has_role(Role.AF_ADMIN):
        return organisations
    if user.has_role(Role.USER_ADMIN):
        return organisations.filter(pk=user.organisation_id)
    return organisations.none()


def may_manage_organisation(principal: Principal, organisation: Organisation) -> bool:
    return managed_organisations(principal).filter(pk=organisation.pk).exists()


def grantable_roles(principal: Principal, organisation: Organisation) -> list[Role]:
    """Roles ``principal`` may give users of ``organisation``.

    AF administrators give any role the organisation allows. A user
    administrator gives only the local roles, so an AF user administrator
    cannot make anyone an identity officer or administrator.
    """
    user = _active_user(principal)
    if user is None or not may_manage_organisation(user, organisation):
        return []
    allowed = Role.allowed_for(organisation)
    if user.has_role(Role.AF_ADMIN):
        return allowed
    return [role for role in allowed if role in LOCAL_ROLES]


def may_manage_user(
    principal: Principal, target: User, grantable: Collection[Role] | None = None
) -> bool:
    """May ``principal`` change or remove ``target``?

    Only within a managed organisation, and only a user all of whose roles
    ``principal`` could have granted: an administrator's account is managed by
    those above them. A superuser, who holds every power whatever their roles,
    is managed only by another superuser. ``grantable``, if given, is
    ``grantable_roles(principal, target.organisation)`` already asked.
    """
    if target.is_superuser and not getattr(principal, "is_superuser", False):
        return False
    if grantable is None:
        grantable = grantable_roles(principal, target.organisation)
    return bool(grantable) and target.roles <= set(grantable)


def manageable_users(principal: Principal) -> QuerySet[User]:
    """Users of the organisations ``principal`` manages; check each with ``may_manage_user``."""
    return User.objects.filter(organisation__in=managed_organisations(principal))


def require_role(
    *roles: Role, allowed: Callable[[User], bool] | None = None, enrolling: bool = False
) -> Callable[[View], View]:
    """View decorator: log-in required, then any of ``roles`` (none named: any user),
    and whatever ``allowed(user)`` lets through (one of the functions above).

    A user who has enrolled a second factor but whose session was not
    verified with it (e.g. logged in through Django's admin) is sent back to
    log in. A user whose role demands a second factor and who has none is sent
    to enrol one, from every page but those marked ``enrolling=True`` (the
    enrolment page itself).
    """

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            user = request.user
            if not user.is_authenticated or not user.is_active:
                return redirect_to_login(request.get_full_path())
            assert isinstance(user, User)
            if not _verified(user):
                if user_has_device(user):
                    logout(request)
                    return redirect_to_login(request.get_full_path())
                if user.requires_second_factor and not enrolling:
                    messages.info(
                        request,
                        _("Your role requires two-step verification. Turn it on to go on."),
                    )
                    return redirect("accounts:second_factor_enrol")
            if roles and not user.has_role(*roles):
                raise PermissionDenied
            if allowed is not None and not allowed(user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
