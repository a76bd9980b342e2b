"""Managing API tokens, within the organisations the user administers.

A new token is shown in the response to the form that made it and nowhere
else: it is not put in the session or a redirect, and the page is marked
not to be cached.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from inuk.accounts.forms import TokenForm
from inuk.accounts.models import ApiToken, ApiTokenQuerySet
from inuk.accounts.scoping import MANAGERS, acting_user, managed_organisations, require_role
from inuk.accounts.tokens import issue_token, revoke_token
from inuk.accounts.views.common import chosen_organisation
from inuk.client import client_address


def _managed_tokens(request: HttpRequest) -> ApiTokenQuerySet:
    return ApiToken.objects.for_organisations(
        managed_organisations(acting_user(request))
    ).select_related("organisation")


@require_role(*MANAGERS)
def token_list(request: HttpRequest) -> HttpResponse:
    organisations = managed_organisations(acting_user(request))
    tokens = _managed_tokens(request)
    chosen = chosen_organisation(request, organisations)
    if chosen is not None:
        tokens = tokens.filter(organisation=chosen)
    context = {
        "nav": "tokens",
        "tokens": tokens.order_by("organisation__name", "revoked_at", "-created_at"),
        "chosen": chosen,
        "now": timezone.now(),
        "many_organisations": organisations.count() > 1,
    }
    return render(request, "accounts/token_list.html", context)


@require_role(*MANAGERS)
@never_cache
@require_http_methods(["GET", "POST"])
def token_add(request: HttpRequest) -> HttpResponse:
    actor = acting_user(request)
    form = TokenForm(actor, managed_organisations(actor), request.POST or None)
    if request.method == "POST" and form.is_valid():
        token, raw = issue_token(
            form.organisation,
            form.cleaned_data["name"],
            form.cleaned_data["scopes"],
            days=form.cleaned_data["days"],
            actor=actor.email,
            remote_addr=client_address(request),
        )
        return render(
            request, "accounts/token_created.html", {"nav": "tokens", "token": token, "raw": raw}
        )
    return render(request, "accounts/token_form.html", {"nav": "tokens", "form": form})


@require_role(*MANAGERS)
@require_http_methods(["GET", "POST"])
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(_managed_tokens(request), pk=pk)
    if request.method == "POST":
        if revoke_token(
            token,
            actor=acting_user(request).email,
            remote_addr=client_address(request),
        ):
            messages.success(request, _("The token “%(name)s” was revoked.") % {"name": token.name})
        return redirect("accounts:tokens")
    return render(request, "accounts/token_revoke.html", {"nav": "tokens", "token": token})
