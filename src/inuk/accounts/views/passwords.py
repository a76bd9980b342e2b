"""Django's password pages with INUK's templates, and the audit entries they owe.

The reset link is also how a new user sets their first password (see
``inuk.accounts.users.password_link``), so the reset form accepts users who
have none yet.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.urls import reverse_lazy

from inuk.accounts.forms import ChangeForm, ResetForm
from inuk.accounts.models import User
from inuk.audit.log import Event, record
from inuk.client import client_address


def _audit_password_set(user: User, request_remote: str, how: str) -> None:
    record(
        Event.USER_CHANGED,
        actor=user.email,
        organisation=user.organisation.orgnr,
        target=f"user:{user.pk}",
        remote_addr=request_remote,
        details={"email": user.email, "changed": ["password"], "how": how},
    )


class PasswordResetView(auth_views.PasswordResetView):
    form_class = ResetForm
    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/mail/password_reset.txt"
    subject_template_name = "accounts/mail/password_reset_subject.txt"


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        _audit_password_set(form.user, client_address(self.request), "link")
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = ChangeForm
    template_name = "accounts/password_change_form.html"
    success_url = reverse_lazy("password_change_done")

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "request": self.request}

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        _audit_password_set(form.user, client_address(self.request), "changed")
        return response


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"
