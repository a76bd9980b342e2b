"""The agreement page (/avtal/): each organisation sees where its agreement stands.

A municipality's users see their own agreement, its contact persons and the
suppliers it has registered; a supplier's or federation's users see the
municipalities they may deliver for; AF's users see every municipality.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from inuk.accounts.scoping import (
    acting_user,
    may_see_agreement,
    may_see_every_agreement,
    require_role,
)
from inuk.organisations.authorisation import deliverable_codes
from inuk.organisations.models import (
    Agreement,
    AgreementState,
    DeliveryAuthorisation,
    Municipality,
    Organisation,
    Party,
)

#: The overview's filter: a state of the current agreement, or none at all.
NO_AGREEMENT = "none"

#: How each state is marked (the classes of web/inuk.css).
STATE_CLASSES = {
    AgreementState.AWAITING_SIGNATURE: "processing",
    AgreementState.NOT_YET_IN_FORCE: "processing",
    AgreementState.IN_FORCE: "ok",
    AgreementState.NOTICE_GIVEN: "received",
    AgreementState.ENDED: "bad",
}


def _current(history: list[Agreement], today: dt.date) -> Agreement | None:
    """The agreement in force today, else the latest one (``history`` is newest first)."""
    return next((a for a in history if a.is_in_force(today)), history[0] if history else None)


@require_role()
def agreements(request: HttpRequest) -> HttpResponse:
    """The page behind the menu entry: what it shows depends on the user's organisation."""
    user = acting_user(request)
    organisation = user.organisation
    today = timezone.localdate()
    if may_see_every_agreement(user):
        return _overview(request, today)
    if organisation.kind == Organisation.Kind.MUNICIPALITY:
        municipality = Municipality.objects.filter(organisation=organisation).first()
        if municipality is None:
            raise Http404
        return _detail(request, municipality, today)
    if organisation.delivers_on_behalf:
        return _supplier(request, organisation, today)
    raise PermissionDenied


@require_role()
def agreement_detail(request: HttpRequest, kommunkod: str) -> HttpResponse:
    """One municipality's agreement: for AF, or for the municipality's own users."""
    municipality = Municipality.objects.filter(code=kommunkod).first()
    # Another municipality's page is answered as if it did not exist, so that
    # nobody learns from the answer which agreements there are.
    if municipality is None or not may_see_agreement(acting_user(request), municipality):
        raise Http404
    return _detail(request, municipality, timezone.localdate())


def _detail(request: HttpRequest, municipality: Municipality, today: dt.date) -> HttpResponse:
    history = list(municipality.agreements.order_by("-id"))
    current = _current(history, today)
    state = current.state(today) if current else None
    contacts = list(current.contacts.order_by("party", "name")) if current else []
    deliverers = (
        municipality.deliverers.select_related("deliverer")
        .order_by("deliverer__name", "valid_from")
        .all()
    )
    context = {
        "nav": "agreements",
        "municipality": municipality,
        "agreement": current,
        "state": state,
        "state_class": STATE_CLASSES.get(state, "") if state else "",
        "earlier": [a for a in history if a is not current],
        "af_contacts": [c for c in contacts if c.party == Party.AF],
        "municipality_contacts": [c for c in contacts if c.party == Party.MUNICIPALITY],
        "authorisations": [(a, a.is_valid_on(today)) for a in deliverers],
        "today": today,
    }
    return render(request, "organisations/agreement_detail.html", context)


def _overview(request: HttpRequest, today: dt.date) -> HttpResponse:
    municipalities = Municipality.objects.prefetch_related(
        Prefetch("agreements", queryset=Agreement.objects.order_by("-id"))
    ).order_by("code")
    rows = []
    for municipality in municipalities:
        current = _current(list(municipality.agreements.all()), today)
        state = current.state(today) if current else None
        rows.append((municipality, current, state, STATE_CLASSES[state] if state else ""))
    counts = {state: sum(1 for row in rows if row[2] == state) for state in AgreementState}
    without = sum(1 for row in rows if row[2] is None)
    chosen = request.GET.get("state", "")
    if chosen == NO_AGREEMENT:
        rows = [row for row in rows if row[2] is None]
    elif chosen in {state.value for state in AgreementState}:
        rows = [row for row in rows if row[2] == chosen]
    else:
        chosen = ""
    context = {
        "nav": "agreements",
        "rows": rows,
        "counts": [(state, counts[state]) for state in AgreementState],
        "without": without,
        "chosen": chosen,
        "no_agreement": NO_AGREEMENT,
        "today": today,
    }
    return render(request, "organisations/agreement_list.html", context)


def _supplier(request: HttpRequest, organisation: Organisation, today: dt.date) -> HttpResponse:
    authorisations = (
        DeliveryAuthorisation.objects.filter(deliverer=organisation)
        .select_related("municipality")
        .order_by("municipality__code", "valid_from")
    )
    may_deliver = set(deliverable_codes(organisation, today))
    in_force = set(
        Municipality.objects.under_agreement(today)
        .filter(deliverers__deliverer=organisation)
        .values_list("code", flat=True)
    )
    context = {
        "nav": "agreements",
        "organisation": organisation,
        "rows": [
            (
                a,
                a.is_valid_on(today),
                a.municipality_id in in_force,
                a.municipality_id in may_deliver,
            )
            for a in authorisations
        ],
        "may_deliver": sorted(may_deliver),
        "today": today,
    }
    return render(request, "organisations/supplier_detail.html", context)
