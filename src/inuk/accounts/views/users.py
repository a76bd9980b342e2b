"""Managing users: a municipality's user administrators for their own organisation, AF's for all.

A user outside the organisations the actor manages does not exist for them
(404); one inside whose roles the actor could not have granted is seen but
not touched (403).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from inuk.accounts.forms import UserForm
from inuk.accounts.models import Role, RoleGrant, User
from inuk.accounts.scoping import (
    MANAGERS,
    acting_user,
    grantable_roles,
    manageable_users,
    managed_organisations,
    may_manage_user,
    require_role,
)
from inuk.accounts.users import add_user, change_user, remove_user, send_invitation
from inuk.accounts.views.common import chosen_organisation
from inuk.audit.log import Event, record
from inuk.client import client_address


def _managed_user(request: HttpRequest, pk: int) -> User:
    manager = acting_user(request)
    user = get_object_or_404(manageable_users(manager).select_related("organisation"), pk=pk)
    if not may_manage_user(manager, user):
        raise PermissionDenied
    return user


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/")


@require_role(*MANAGERS)
def user_list(request: HttpRequest) -> HttpResponse:
    manager = acting_user(request)
    organisations = managed_organisations(manager)
    users = (
        manageable_users(manager)
        .select_related("organisation")
        .prefetch_related(Prefetch("role_grants", queryset=RoleGrant.objects.order_by("role")))
    )
    chosen = chosen_organisation(request, organisations)
    if chosen is not None:
        users = users.filter(organisation=chosen)
    with_device = set(
        TOTPDevice.objects.filter(user__in=users, confirmed=True).values_list("user_id", flat=True)
    )
    # may_manage_user() per row, with the grantable roles asked once per organisation.
    grantable: dict[int, set[Role]] = {}
    rows = []
    for user in users.order_by("organisation__name", "email"):
        if user.organisation_id not in grantable:
            grantable[user.organisation_id] = set(grantable_roles(manager, user.organisation))
        allowed = grantable[user.organisation_id]
        rows.append(
            {
                "user": user,
                "roles": [Role(grant.role).label for grant in user.role_grants.all()],
                "second_factor": user.pk in with_device,
                "manageable": may_manage_user(manager, user, allowed),
            }
        )
    context = {
        "nav": "users",
        "rows": rows,
        "chosen": chosen,
        "many_organisations": organisations.count() > 1,
    }
    return render(request, "accounts/user_list.html", context)


@require_role(*MANAGERS)
@require_http_methods(["GET", "POST"])
def user_add(request: HttpRequest) -> HttpResponse:
    actor = acting_user(request)
    form = UserForm(actor, managed_organisations(actor), request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = add_user(
            form.organisation,
            form.cleaned_data["email"],
            form.cleaned_data["roles"],
            first_name=form.cleaned_data["first_name"],
            last_name=form.cleaned_data["last_name"],
            actor=actor.email,
            remote_addr=client_address(request),
        )
        send_invitation(user, _base_url(request), invited_by=actor)
        messages.success(
            request,
            _("%(email)s was added and has been sent a link to set a password.")
            % {"email": user.email},
        )
        return redirect("accounts:users")
    return render(request, "accounts/user_form.html", {"nav": "users", "form": form})


@require_role(*MANAGERS)
@require_http_methods(["GET", "POST"])
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = acting_user(request)
    user = _managed_user(request, pk)
    form = UserForm(actor, managed_organisations(actor), request.POST or None, instance=user)
    if request.method == "POST" and form.is_valid():
        kept = set(form.cleaned_data["roles"])
        if user == actor and not form.cleaned_data["is_active"]:
            form.add_error("is_active", _("You cannot stop yourself from logging in."))
        elif user == actor and any(role in actor.roles and role not in kept for role in MANAGERS):
            form.add_error("roles", _("You cannot take away your own administrator role."))
        else:
            changed = change_user(
                user,
                roles=form.cleaned_data["roles"],
                is_active=form.cleaned_data["is_active"],
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
                actor=actor.email,
                remote_addr=client_address(request),
            )
            if form.cleaned_data["remove_second_factor"]:
                removed, _count = TOTPDevice.objects.filter(user=user).delete()
                if removed:
                    changed.append("second_factor")
                    record(
                        Event.USER_CHANGED,
                        actor=actor.email,
                        organisation=user.organisation.orgnr,
                        target=f"user:{user.pk}",
                        remote_addr=client_address(request),
                        details={
                            "email": user.email,
                            "changed": ["second_factor"],
                            "second_factor": "removed",
                        },
                    )
            if changed:
                messages.success(
                    request, _("The changes to %(email)s were saved.") % {"email": user.email}
                )
            return redirect("accounts:users")
    context = {"nav": "users", "form": form, "subject": user}
    return render(request, "accounts/user_form.html", context)


@require_role(*MANAGERS)
@require_POST
def user_send_link(request: HttpRequest, pk: int) -> HttpResponse:
    user = _managed_user(request, pk)
    send_invitation(user, _base_url(request), invited_by=acting_user(request))
    messages.success(
        request, _("A link to set a password was sent to %(email)s.") % {"email": user.email}
    )
    return redirect("accounts:user_edit", pk=user.pk)


@require_role(*MANAGERS)
@require_http_methods(["GET", "POST"])
def user_remove(request: HttpRequest, pk: int) -> HttpResponse:
    manager = acting_user(request)
    user = _managed_user(request, pk)
    if user == manager:
        raise PermissionDenied
    if request.method == "POST":
        deleted = remove_user(
            user,
            actor=manager.email,
            remote_addr=client_address(request),
        )
        if deleted:
            messages.success(request, _("%(email)s was removed.") % {"email": user.email})
        else:
            messages.success(
                request,
                _(
                    "%(email)s can no longer log in. "
                    "The account is kept because records refer to it."
                )
                % {"email": user.email},
            )
        return redirect("accounts:users")
    return render(request, "accounts/user_remove.html", {"nav": "users", "subject": user})
