"""Who is calling the API: an API token, or a logged-in user of the web pages.

Machines send ``Authorization: Bearer inuk_<id>_<secret>``; a bad token is
refused outright (401), even if a session cookie came along, so that a
misconfigured client learns of it at once. The web pages' own JavaScript
uses the session cookie instead, with Django's CSRF token on POST.

Either way the principal (``request.auth``) is an ``ApiToken`` or a ``User``,
which ``inuk.accounts.scoping`` then asks what it may see and do; and every
authenticated request counts towards the caller's rate limit.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django_otp import user_has_device
from ninja.security import APIKeyCookie, HttpBearer

from inuk.accounts.models import ApiToken, User
from inuk.accounts.scoping import may_identify
from inuk.accounts.tokens import authenticate_token
from inuk.api import ratelimit
from inuk.api.errors import ApiError
from inuk.client import client_address

Principal = ApiToken | User


class TokenAuth(HttpBearer):
    """An API token in the ``Authorization`` header."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken:
        found = authenticate_token(token, remote_addr=client_address(request))
        if found is None:
            raise ApiError(
                "TOKEN_INVALID", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
            )
        ratelimit.hit(f"token:{found.public_id}")
        return found


class SessionUserAuth(APIKeyCookie):
    """The web pages' session, as for the pages themselves.

    As ``inuk.accounts.scoping.require_role`` does for pages, a user who has
    a second factor, or whose role demands one, but whose session was not
    verified with it is not let in.
    """

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        # Without a session cookie there is nothing to protect from CSRF: the
        # request is simply unauthenticated (401), not forged (403).
        if not request.COOKIES.get(self.param_name):
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        if key is None:
            return None
        user = getattr(request, "user", None)
        if not isinstance(user, User) or not user.is_active:
            return None
        verified = getattr(user, "is_verified", lambda: False)()
        if not verified and (user_has_device(user) or user.requires_second_factor):
            return None
        ratelimit.hit(f"user:{user.pk}")
        return user


def principal(request: HttpRequest) -> Principal:
    """The authenticated caller; every operation of the API requires one."""
    caller: Any = request.auth  # type: ignore[attr-defined]
    assert isinstance(caller, ApiToken | User)
    return caller


def caller_name(caller: Principal) -> str:
    """How the caller is named on receipts and in the audit log: a token by its
    ``audit_name``, a user by e-mail address as the pages name them."""
    return caller.audit_name if isinstance(caller, ApiToken) else caller.email


class IdentityOfficerAuth(SessionUserAuth):
    """The identity officer's endpoints: only a session that ``may_identify`` accepts.

    Decided before the request's body is read, so that no one else learns
    even whether their request was well formed.
    """

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = super().authenticate(request, key)
        if user is not None and not may_identify(user):
            raise ApiError("IDENTITY_OFFICER_ONLY")
        return user


class NoTokenAuth(TokenAuth):
    """An API token, valid or not, never opens the identity officer's endpoints."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken:
        super().authenticate(request, token)  # a bad token still answers 401
        raise ApiError("IDENTITY_OFFICER_ONLY")
