"""The identity officer's pages under /identitet/: look-up, changed number, register extract.

Every page is for an identity officer whose session was verified with a
second factor: ``require_role`` lets in only whom ``may_identify`` allows, and
sends one without a second factor to enrol. A personnummer is only ever sent in a
POST body, never in a URL, and the answers are never cached. The work itself
is ``inuk.identity.officer``'s, which the API calls too.
"""

from __future__ import annotations

import json

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods

from inuk.accounts.scoping import acting_user, may_identify, require_role
from inuk.client import client_address
from inuk.identity import officer as work
from inuk.identity.extract import as_pdf, sections
from inuk.identity.forms import ExtractForm, LinkForm, LookupForm
from inuk.vault.pseudonymize import LinkConflict


def _officer(request: HttpRequest) -> work.Officer:
    user = acting_user(request)
    if not may_identify(user):
        raise PermissionDenied
    return work.Officer(user, client_address(request))


def _purpose(form: LookupForm | LinkForm | ExtractForm) -> work.Purpose:
    return work.Purpose(form.cleaned_data["case_number"], form.cleaned_data["reason"])


def _throttled(form, refused: work.Throttled) -> None:
    minutes = max(1, -(-refused.retry_after // 60))
    form.add_error(
        None,
        _(
            "You have made many look-ups in a short time. Wait %(minutes)s minutes and try "
            "again. The pause is noted in the audit log."
        )
        % {"minutes": minutes},
    )


def identity_page(view):
    """The decorators every page here shares."""
    view = require_http_methods(["GET", "POST"])(view)
    view = sensitive_post_parameters()(view)
    view = never_cache(view)
    return require_role(allowed=may_identify)(view)


@identity_page
@sensitive_variables()
def lookup(request: HttpRequest) -> HttpResponse:
    """Personnummer to pseudonym, or pseudonym to personnummer: one person at a time."""
    officer = _officer(request)
    form = LookupForm(request.POST or None)
    answer = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            kind, value = form.cleaned_data["subject"]
            try:
                if kind == "personnummer":
                    answer = {
                        "kind": kind,
                        "pseudonym": work.pseudonym_of(officer, _purpose(form), value),
                    }
                else:
                    numbers = work.personnummer_of(officer, _purpose(form), value)
                    answer = {"kind": kind, "pseudonym": value, "numbers": numbers.numbers}
            except work.Throttled as refused:
                _throttled(form, refused)
                status = 429
        else:
            status = 400
    context = {"nav": "identity", "form": form, "answer": answer}
    return render(request, "identity/lookup.html", context, status=status)


@identity_page
@sensitive_variables()
def link(request: HttpRequest) -> HttpResponse:
    """Link a changed personnummer to the old one, so both are one person."""
    officer = _officer(request)
    form = LinkForm(request.POST or None)
    outcome = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                outcome = work.link_numbers(officer, _purpose(form), data["old"], data["new"])
                status = 200
            except work.Throttled as refused:
                _throttled(form, refused)
                status = 429
            except LinkConflict:
                form.add_error(
                    None,
                    _("The numbers changed while they were being linked. Nothing was changed."),
                )
                status = 409
    context = {"nav": "identity_link", "form": form, "outcome": outcome}
    return render(request, "identity/link.html", context, status=status)


@identity_page
@sensitive_variables()
def extract(request: HttpRequest) -> HttpResponse:
    """The register extract of one personnummer, as a page, a PDF or JSON."""
    officer = _officer(request)
    form = ExtractForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        chosen = request.POST.get("format", "html")
        form_ = chosen if chosen in ExtractForm.FORMATS else "html"
        if form.is_valid():
            try:
                data = work.register_extract(
                    officer, _purpose(form), form.cleaned_data["personnummer"], form_
                )
            except work.Throttled as refused:
                _throttled(form, refused)
                status = 429
            else:
                return _extract_response(request, data, form_)
    context = {"nav": "identity_extract", "form": form}
    return render(request, "identity/extract_form.html", context, status=status)


def _extract_response(request: HttpRequest, data: dict, form: str) -> HttpResponse:
    # The file's name tells nothing about the person.
    name = f"registerutdrag-{data['made_at'][:10]}"
    if form == "pdf":
        response = HttpResponse(as_pdf(data), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
        return response
    if form == "json":
        body = json.dumps(data, ensure_ascii=False, indent=2)
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.json"'
        return response
    context = {"nav": "identity_extract", "extract": data, "sections": sections(data)}
    return render(request, "identity/extract.html", context)
