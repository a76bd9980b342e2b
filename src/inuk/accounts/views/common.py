"""What the user and token pages share."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from inuk.format.identifiers import normalise_orgnr
from inuk.organisations.models import Organisation


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
