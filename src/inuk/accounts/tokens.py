"""API tokens for machine transfer: issuing, checking and revoking them.

A token reads ``inuk_<id>_<secret>``: ``inuk_`` so that secret scanners and
people recognise it, an 8-character public id (40 bits, base32) that finds
its row, and a 32-character secret (160 bits from ``secrets``). Only the
SHA-256 of the whole token is stored; with that much entropy a plain hash
cannot be reversed, and unlike a keyed hash it survives a change of
Django's SECRET_KEY. The token is shown once, when issued.

The API calls ``authenticate_token()`` for every request and then asks
``inuk.accounts.scoping`` what the token may do.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from inuk.accounts.models import PREFIX, ApiToken, TokenScope
from inuk.audit.log import Event, record
from inuk.organisations.models import Organisation

DEFAULT_DAYS = 365
MAX_DAYS = 730
#: ``last_used_at`` is written at most this often, so a busy client does not
#: turn every API call into a write and an audit entry.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)

_PUBLIC_ID_BYTES = 5
_SECRET_BYTES = 20
_FORMAT = re.compile(r"inuk_([a-z2-7]{8})_([a-z2-7]{32})")
# Compared against when the id is unknown, so that a miss costs the same as a hit.
_NO_TOKEN = hashlib.sha256(b"no such token").hexdigest()


def _random_base32(nbytes: int) -> str:
    return base64.b32encode(secrets.token_bytes(nbytes)).decode("ascii").rstrip("=").lower()


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def issue_token(
    organisation: Organisation,
    name: str,
    scopes: Iterable[str],
    *,
    days: int = DEFAULT_DAYS,
    actor: str = "",
    remote_addr: str = "",
) -> tuple[ApiToken, str]:
    """Create a token and return it with its only plain copy, to be shown once.

    >>> token, raw = issue_token(vasby, "Procapita export", ["deliver"], days=90)
    >>> raw
    'inuk_k3x7q2ab_…'
    """
    chosen = sorted({TokenScope(scope) for scope in scopes})
    if not chosen:
        raise ValidationError(_("Choose at least one permission."), code="no_scope")
    if not 1 <= days <= MAX_DAYS:
        raise ValidationError(
            _("A token is valid for 1 to %(max)d days."), code="bad_days", params={"max": MAX_DAYS}
        )
    name = name.strip()
    if not name:
        raise ValidationError(_("Give the token a name."), code="no_name")
    now = timezone.now()
    for _attempt in range(5):
        public_id = _random_base32(_PUBLIC_ID_BYTES)
        raw = f"{PREFIX}{public_id}_{_random_base32(_SECRET_BYTES)}"
        try:
            with transaction.atomic():
                token = ApiToken.objects.create(
                    organisation=organisation,
                    name=name[:100],
                    public_id=public_id,
                    secret_hash=hash_token(raw),
                    scopes=[str(scope) for scope in chosen],
                    created_at=now,
                    created_by=actor,
                    expires_at=now + dt.timedelta(days=days),
                )
        except IntegrityError:  # the one-in-a-trillion clash of public ids
            continue
        break
    else:  # pragma: no cover - would take a broken random source
        raise RuntimeError("could not find a free token id")
    record(
        Event.TOKEN_CREATED,
        actor=actor,
        organisation=organisation.orgnr,
        target=token.audit_name,
        remote_addr=remote_addr,
        details={"scopes": token.scopes, "expires": token.expires_at.isoformat()},
    )
    return token, raw


def find_token(raw: str, *, now: dt.datetime | None = None) -> ApiToken | None:
    """The active token ``raw`` is, or None, without recording anything.

    For checks made before a request reaches the API (the web server's gate
    on large bodies); the API itself calls ``authenticate_token()``.
    """
    match = _FORMAT.fullmatch(raw.strip()) if raw else None
    if match is None:
        return None
    token = ApiToken.objects.select_related("organisation").filter(public_id=match[1]).first()
    matches = hmac.compare_digest(token.secret_hash if token else _NO_TOKEN, hash_token(match[0]))
    if token is None or not matches or not token.is_active(now or timezone.now()):
        return None
    return token


def authenticate_token(raw: str, *, remote_addr: str = "") -> ApiToken | None:
    """The active token ``raw`` is, or None; records its use.

    The secret is compared in constant time; a revoked or expired token is
    refused. ``last_used_at`` (and an audit entry ``token.used``) is written
    at most once a minute per token. The returned token has its
    ``organisation`` loaded.
    """
    now = timezone.now()
    token = find_token(raw, now=now)
    if token is None:
        return None
    stale = now - LAST_USED_RESOLUTION
    if token.last_used_at is not None and token.last_used_at > stale:
        return token
    # Conditional, so that of two requests racing past the check above only one writes.
    unrecorded = Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale)
    if ApiToken.objects.filter(unrecorded, pk=token.pk).update(
        last_used_at=now, last_used_from=remote_addr[:64]
    ):
        token.last_used_at, token.last_used_from = now, remote_addr[:64]
        record(
            Event.TOKEN_USED,
            actor=token.audit_name,
            organisation=token.organisation.orgnr,
            target=token.audit_name,
            remote_addr=remote_addr,
        )
    return token


def revoke_token(token: ApiToken, *, actor: str = "", remote_addr: str = "") -> bool:
    """Revoke ``token`` for good; False if it already was."""
    now = timezone.now()
    if not ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=now, revoked_by=actor[:200]
    ):
        return False
    token.revoked_at, token.revoked_by = now, actor[:200]
    record(
        Event.TOKEN_REVOKED,
        actor=actor,
        organisation=token.organisation.orgnr,
        target=token.audit_name,
        remote_addr=remote_addr,
    )
    return True
