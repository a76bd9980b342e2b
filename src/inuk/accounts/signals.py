"""Logins, failed logins and logouts go to the audit log, whichever page they came through.

Connected in ``AccountsConfig.ready()``. The failed-login receiver also feeds
the throttle, so a failure through Django's admin counts too.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.http import HttpRequest

from inuk.accounts import throttle
from inuk.accounts.models import User, normalise_email
from inuk.audit.log import Event, record
from inuk.client import client_address


def on_login(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    remote_addr = client_address(request)
    throttle.clear(user.email, remote_addr)
    record(
        Event.LOGIN,
        actor=user.email,
        organisation=user.organisation.orgnr,
        target=f"user:{user.pk}",
        remote_addr=remote_addr,
        details={"second_factor": getattr(user, "otp_device", None) is not None},
    )


def on_logout(sender: Any, request: HttpRequest | None, user: User | None, **kwargs: Any) -> None:
    if user is None:
        return
    record(
        Event.LOGOUT,
        actor=user.email,
        organisation=user.organisation.orgnr,
        target=f"user:{user.pk}",
        remote_addr=client_address(request),
    )


def record_failed_login(
    attempted: str, request: HttpRequest | None, reason: str, *, count: bool = True
) -> None:
    """Audit a refused log-in, and count it for the throttle unless it was the throttle's refusal.

    The attempted name is kept only if it is a user's address: whatever else
    was typed into the field (a password, a personnummer) stays out of the log.
    """
    remote_addr = client_address(request)
    if count:
        throttle.record_failure(attempted, remote_addr)
    user = (
        User.objects.select_related("organisation").filter(email=normalise_email(attempted)).first()
    )
    record(
        Event.LOGIN_FAILED,
        actor=user.email if user else "",
        organisation=user.organisation.orgnr if user else "",
        target=f"user:{user.pk}" if user else "",
        remote_addr=remote_addr,
        details={"reason": reason, "known_user": user is not None},
    )


def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    attempted = credentials.get("username") or credentials.get("email") or ""
    record_failed_login(str(attempted), request, "password")


def connect() -> None:
    user_logged_in.connect(on_login, dispatch_uid="inuk.accounts.login")
    user_logged_out.connect(on_logout, dispatch_uid="inuk.accounts.logout")
    user_login_failed.connect(on_login_failed, dispatch_uid="inuk.accounts.login_failed")
