"""Adding, changing and removing users, audited the same way from a page or the command line.

Who may do it is the caller's question (``inuk.accounts.scoping``); these
functions do the change, write the audit entry, and hand out the link with
which a new user sets their own password: nobody else ever knows it.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import ProtectedError
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from inuk.accounts.models import User
from inuk.audit.log import Event, record
from inuk.organisations.models import Organisation


def _audit(event: Event, user: User, actor: str, remote_addr: str, **details: object) -> None:
    record(
        event,
        actor=actor,
        organisation=user.organisation.orgnr,
        target=f"user:{user.pk}",
        remote_addr=remote_addr,
        details={"email": user.email, **details},
    )


def _role_values(user: User) -> list[str]:
    return sorted(str(role) for role in user.roles)


def add_user(
    organisation: Organisation,
    email: str,
    roles: Iterable[str],
    *,
    first_name: str = "",
    last_name: str = "",
    actor: str = "",
    remote_addr: str = "",
) -> User:
    """A new user without a password; give them ``password_link()`` to set one."""
    with transaction.atomic():
        user = User.objects.create_user(
            email,
            organisation=organisation,
            roles=roles,
            first_name=first_name,
            last_name=last_name,
        )
        _audit(Event.USER_CREATED, user, actor, remote_addr, roles=_role_values(user))
    return user


def change_user(
    user: User,
    *,
    roles: Iterable[str] | None = None,
    is_active: bool | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    actor: str = "",
    remote_addr: str = "",
) -> list[str]:
    """Apply the given changes; returns the names of what changed (nothing changed: [])."""
    before = {
        "roles": _role_values(user),
        "active": user.is_active,
        "first_name": user.first_name,
        "last_name": user.last_name,
    }
    with transaction.atomic():
        if first_name is not None:
            user.first_name = first_name
        if last_name is not None:
            user.last_name = last_name
        if is_active is not None:
            user.is_active = is_active
        user.save()
        if roles is not None:
            user.set_roles(roles)
        after = {
            "roles": _role_values(user),
            "active": user.is_active,
            "first_name": user.first_name,
            "last_name": user.last_name,
        }
        changed = [name for name in before if before[name] != after[name]]
        if changed:
            _audit(
                Event.USER_CHANGED,
                user,
                actor,
                remote_addr,
                changed=changed,
                roles=after["roles"],
                active=user.is_active,
            )
    return changed


def remove_user(user: User, *, actor: str = "", remote_addr: str = "") -> bool:
    """Delete the user; True if deleted.

    If other records still point to them (False), the account is closed
    instead: deactivated, its password and roles taken away.
    """
    pk, organisation = user.pk, user.organisation
    try:
        with transaction.atomic():
            user.delete()
            user.pk, user.organisation = pk, organisation
            _audit(Event.USER_REMOVED, user, actor, remote_addr, deleted=True)
        return True
    except ProtectedError:
        with transaction.atomic():
            user.is_active = False
            user.set_unusable_password()
            user.save()
            user.set_roles([])
            _audit(Event.USER_REMOVED, user, actor, remote_addr, deleted=False)
        return False


def password_link(user: User, base_url: str) -> str:
    """A one-time link for ``user`` to set their password.

    It is Django's password-reset link: it stops working once the password
    is set or after ``PASSWORD_RESET_TIMEOUT``.
    """
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return base_url.rstrip("/") + path


def send_invitation(user: User, base_url: str, invited_by: User | None = None) -> None:
    """Mail ``user`` a welcome with their password link, in the current language."""
    context = {
        "user": user,
        "link": password_link(user, base_url),
        "organisation": user.organisation,
        "invited_by": invited_by,
        "base_url": base_url.rstrip("/"),
    }
    subject = render_to_string("accounts/mail/invitation_subject.txt", context).strip()
    body = render_to_string("accounts/mail/invitation.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
