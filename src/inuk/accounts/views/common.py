"""What the user and token pages share."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from inuk.accounts.models import Role, User
from inuk.format.identifiers import normalise_orgnr
from inuk.organisations.models import Organisation

#: Who may open the user and token pages at all; scoping narrows what they see.
MANAGERS = (Role.USER_ADMIN, Role.AF_ADMIN)


def acting_user(request: HttpRequest) -> User:
    """The logged-in user behind a request that ``require_role`` let through."""
    assert isinstance(request.user, User)
    return request.user


def chosen_organisation(
    request: HttpRequest, organisations: QuerySet[Organisation]
) -> Organisation | None:
    """The organisation named by ``?org=`` if it is among ``organisations``; 404 for any other."""
    text = request.GET.get("org", "").strip()
    if not text:
        return None
    try:
        orgnr = normalise_orgnr(text)
    except ValueError:
        raise Http404 from None
    return get_object_or_404(organisations, orgnr=orgnr)
