"""Slowing down password guessing.

After ``MAX_FAILURES`` failed log-ins for one e-mail address from one IP
address within ``WINDOW``, further attempts from there are refused, without
the password being checked, until the oldest of those failures has left the
window. A second, looser limit per IP address (``MAX_FAILURES_PER_ADDRESS``)
catches one machine trying a common password against many accounts.

Keying by the pair, not by the account alone, means that someone who knows a
colleague's e-mail address cannot lock them out from elsewhere. The failures
live in the database so that every web process sees them.

Every check of a password counts, not only the log-in page's: the password
asked for before the second factor is turned off, and the old password when
it is changed, share the same failures, so a session left open is no way
around the limit. The name typed is kept masked (``redact``): a personnummer
typed as a log-in name must not reach the database.

Password-reset mails are limited too, per address (``MAX_RESET_MAILS`` in
``RESET_WINDOW``), so the form cannot be used to flood someone's inbox.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone

from inuk.accounts.models import LoginFailure, PasswordResetMail, normalise_email
from inuk.logging import redact

MAX_FAILURES = 5
MAX_FAILURES_PER_ADDRESS = 30
WINDOW = dt.timedelta(minutes=15)

MAX_RESET_MAILS = 3
RESET_WINDOW = dt.timedelta(hours=1)


def _key(username: str) -> str:
    """The name as kept: normalised, and masked should it hold a personnummer."""
    return redact(normalise_email(username))[:254]


def _recent(now: dt.datetime) -> QuerySet[LoginFailure]:
    return LoginFailure.objects.filter(at__gt=now - WINDOW)


def locked_until(
    username: str, remote_addr: str, now: dt.datetime | None = None
) -> dt.datetime | None:
    """When attempts for ``username`` from ``remote_addr`` are allowed again; None if now."""
    now = now or timezone.now()
    recent = _recent(now)
    limits = (
        (recent.filter(username=_key(username), remote_addr=remote_addr), MAX_FAILURES),
        (recent.filter(remote_addr=remote_addr), MAX_FAILURES_PER_ADDRESS),
    )
    until = None
    for failures, limit in limits:
        times = list(failures.order_by("-at").values_list("at", flat=True)[:limit])
        if len(times) >= limit:
            # Free again when the oldest of the last `limit` failures leaves the window.
            candidate = times[-1] + WINDOW
            until = candidate if until is None else max(until, candidate)
    return until


def record_failure(username: str, remote_addr: str, now: dt.datetime | None = None) -> None:
    now = now or timezone.now()
    LoginFailure.objects.create(username=_key(username), remote_addr=remote_addr, at=now)
    # Keep the table small: nothing older than the window matters.
    LoginFailure.objects.filter(at__lte=now - WINDOW).delete()


def clear(username: str, remote_addr: str) -> None:
    """Forget the pair's failures after a successful log-in."""
    LoginFailure.objects.filter(username=_key(username), remote_addr=remote_addr).delete()


def may_send_reset_mail(email: str, now: dt.datetime | None = None) -> bool:
    """True, and counted, if another reset mail may go to ``email`` now."""
    now = now or timezone.now()
    PasswordResetMail.objects.filter(at__lte=now - RESET_WINDOW).delete()
    key = _key(email)
    if PasswordResetMail.objects.filter(email=key, at__gt=now - RESET_WINDOW).count() >= (
        MAX_RESET_MAILS
    ):
        return False
    PasswordResetMail.objects.create(email=key, at=now)
    return True
