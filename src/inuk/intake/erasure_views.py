"""The identity officer's erasure page, /identitet/radera/ (SPEC §11, art. 17).

Kept apart from the delivery pages: only the identity officer may use it. The
personnummer travels in the POST body only, is never put back into the page
(a refused form comes back with the number field empty) and never reaches a
URL, a log or the audit log.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from inuk.accounts.scoping import acting_user, may_erase, require_role
from inuk.client import client_address
from inuk.intake.erasure import ErasureRefused, erase_person
from inuk.intake.forms import ErasureForm


@sensitive_post_parameters("personnummer")
@require_role(allowed=may_erase)
@require_http_methods(["GET", "POST"])
@never_cache
def erase_page(request: HttpRequest) -> HttpResponse:
    """Erase a person, stating AF's case number and the reason."""
    user = acting_user(request)
    form = ErasureForm(request.POST) if request.method == "POST" else ErasureForm()
    if request.method == "POST" and form.is_valid():
        try:
            done = erase_person(
                form.cleaned_data["personnummer"],
                reason=form.cleaned_data["reason"],
                case_number=form.cleaned_data["case_number"],
                actor=user.email,
                remote_addr=client_address(request),
            )
        except ErasureRefused as refused:
            swedish = (get_language() or "sv").startswith("sv")
            form.add_error(None, refused.message_sv if swedish else refused.message_en)
        else:
            messages.success(
                request,
                _(
                    "The person was erased: %(numbers)s personal identity number(s) from the "
                    "vault, %(transactions)s transaction(s) from the statistics and the person "
                    "from %(files)s kept delivery file(s)."
                )
                % {
                    "numbers": done.personnummer,
                    "transactions": done.transactions,
                    "files": done.files,
                },
            )
            return redirect("erasure")
    status = 400 if request.method == "POST" else 200
    return render(request, "intake/erase.html", {"form": form}, status=status)
