"""Logging in: password first, then the code from the authenticator app if the user has one.

Between the two steps the session holds only who passed the password step
and when; the user is logged in (and the session key renewed) only after the
code is right. The password step expires after ``PENDING_SECONDS``.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME, login
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import verify_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from inuk.accounts.forms import CodeForm, LoginForm
from inuk.accounts.models import User
from inuk.accounts.signals import record_failed_login

PENDING = "inuk_login_pending"
PENDING_SECONDS = 300


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()


def _safe_next(request: HttpRequest, candidate: str) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True
    extra_context = {"nav": "login"}

    def form_valid(self, form: LoginForm) -> HttpResponse:  # type: ignore[override]
        user = form.get_user()
        if confirmed_device(user) is None:
            response = super().form_valid(form)
            if user.requires_second_factor:
                # Enrolment is forced at the first log-in of a role that demands it.
                messages.info(
                    self.request,
                    _("Your role requires two-step verification. Turn it on to go on."),
                )
                return redirect("accounts:second_factor_enrol")
            return response
        self.request.session[PENDING] = {
            "user": user.pk,
            "backend": user.backend,
            "at": time.time(),
        }
        target = reverse("login_code")
        next_url = self.get_redirect_url()
        if next_url:
            target += "?" + urlencode({REDIRECT_FIELD_NAME: next_url})
        return HttpResponseRedirect(target)


def _pending_user(request: HttpRequest) -> tuple[User, str] | None:
    pending = request.session.get(PENDING)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None
    user = User.objects.filter(pk=int(pending.get("user", 0)), is_active=True).first()
    return (user, pending["backend"]) if user else None


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
def login_code(request: HttpRequest) -> HttpResponse:
    """The second step: the six digits from the user's authenticator app."""
    pending = _pending_user(request)
    if pending is None:
        request.session.pop(PENDING, None)
        messages.info(request, _("Log in again: the first step has expired."))
        return redirect("login")
    user, backend = pending
    device = confirmed_device(user)
    if device is None:  # removed meanwhile by an administrator
        request.session.pop(PENDING, None)
        return redirect("login")
    next_url = _safe_next(
        request, request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME, "")
    )
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        allowed, _details = device.verify_is_allowed()
        verified = allowed and verify_token(user, device.persistent_id, form.cleaned_data["code"])
        if verified:
            del request.session[PENDING]
            user.otp_device = verified  # type: ignore[attr-defined]  # django_otp picks it up
            login(request, user, backend=backend)
            return HttpResponseRedirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))
        record_failed_login(user.email, request, "second_factor", count=False)
        form.add_error(
            "code",
            _("The code is not right.")
            if allowed
            else _("Too many wrong codes. Wait a minute and try again."),
        )
    context: dict[str, Any] = {"form": form, "next": next_url, "nav": "login"}
    return render(request, "accounts/login_code.html", context)
