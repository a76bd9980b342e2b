"""Forms of the account pages: logging in, the second factor, users and API tokens."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from typing import Any, cast

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, PasswordResetForm
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from inuk.accounts import throttle
from inuk.accounts.models import Role, TokenScope, User, normalise_email
from inuk.accounts.scoping import grantable_roles
from inuk.accounts.signals import record_failed_login
from inuk.accounts.tokens import DEFAULT_DAYS, MAX_DAYS
from inuk.client import client_address
from inuk.organisations.models import Organisation

THROTTLED = _(
    "Too many failed attempts. Logging in with this address from here is paused "
    "for %(minutes)d minutes. If you have forgotten your password, reset it."
)


def _throttled(until: dt.datetime) -> ValidationError:
    minutes = max(1, math.ceil((until - timezone.now()).total_seconds() / 60))
    return ValidationError(THROTTLED, code="throttled", params={"minutes": minutes})


def confirm_password(user: User, password: str, request: HttpRequest | None) -> None:
    """Check a logged-in user's password as the log-in page does: throttled, failures counted.

    Raises ``ValidationError`` (``throttled`` or ``wrong_password``). Without
    this, a session left open would let anyone guess the password here without
    limit, and then use it to turn the second factor off.
    """
    until = throttle.locked_until(user.email, client_address(request))
    if until is not None:
        record_failed_login(user.email, request, "throttled", count=False)
        raise _throttled(until)
    if not user.check_password(password):
        record_failed_login(user.email, request, "password_confirm")
        raise ValidationError(_("The password is not right."), code="wrong_password")


class LoginForm(AuthenticationForm):
    """Django's log-in form, refusing attempts while the throttle is on."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("The e-mail address or the password is not right."),
        "throttled": THROTTLED,
    }

    def __init__(self, request: Any = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = _("E-mail address")
        self.fields["username"].widget.attrs.update(
            {"autocomplete": "username", "inputmode": "email", "spellcheck": "false"}
        )

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        if username and self.cleaned_data.get("password"):
            until = throttle.locked_until(username, client_address(self.request))
            if until is not None:
                record_failed_login(username, self.request, "throttled", count=False)
                raise _throttled(until)
        return super().clean()


class CodeForm(forms.Form):
    """A six-digit code from the authenticator app."""

    code = forms.RegexField(
        label=_("Code from your authenticator app"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": _("Enter the six digits the app shows.")},
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
                "size": 8,
                "maxlength": 8,
            }
        ),
    )

    def clean_code(self) -> str:
        return self.cleaned_data["code"].strip()


class PasswordConfirmForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(
        self, user: User, *args: Any, request: HttpRequest | None = None, **kwargs: Any
    ) -> None:
        self.user = user
        self.request = request
        super().__init__(*args, **kwargs)

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        confirm_password(self.user, password, self.request)
        return password


class ChangeForm(PasswordChangeForm):
    """Django's password change form, its old password checked as ``confirm_password`` does."""

    def __init__(self, user: Any, *args: Any, request: HttpRequest | None = None, **kwargs: Any):
        self.request = request
        super().__init__(user, *args, **kwargs)

    def clean_old_password(self) -> str:
        old_password = self.cleaned_data["old_password"]
        confirm_password(self.user, old_password, self.request)
        return old_password


class ResetForm(PasswordResetForm):
    """Django's reset form, also for users who have not yet set a first password.

    At most ``throttle.MAX_RESET_MAILS`` mails an hour go to one address; past
    that the answer is the same as always, but no mail is sent, so the form
    cannot flood an inbox nor tell whether an address is registered.
    """

    def get_users(self, email: str) -> Iterator[User]:
        users = list(User.objects.filter(email=normalise_email(email), is_active=True))
        if users and not throttle.may_send_reset_mail(email):
            return iter(())
        return iter(users)


def _organisation_field(choices: QuerySet[Organisation]) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        label=_("Organisation"),
        queryset=choices.order_by("kind", "name"),
        empty_label=None,
    )


class _ManagedForm(forms.Form):
    """A form whose organisation the actor chooses only if they manage more than one."""

    def __init__(
        self,
        actor: User,
        organisations: QuerySet[Organisation],
        *args: Any,
        fixed: Organisation | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.fixed = fixed or (organisations.first() if organisations.count() == 1 else None)
        if self.fixed is None:
            self.fields = {"organisation": _organisation_field(organisations), **self.fields}
            if actor.organisation in organisations:
                self.fields["organisation"].initial = actor.organisation

    @property
    def organisation(self) -> Organisation:
        return self.fixed or self.cleaned_data["organisation"]


class UserForm(_ManagedForm):
    email = forms.EmailField(
        label=_("E-mail address"),
        help_text=_("The user logs in with it and gets a link to set their password."),
    )
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    roles = forms.MultipleChoiceField(
        label=_("Roles"), widget=forms.CheckboxSelectMultiple, required=True
    )
    is_active = forms.BooleanField(
        label=_("May log in"),
        required=False,
        initial=True,
        help_text=_("Untick to stop the user logging in without removing the account."),
    )
    remove_second_factor = forms.BooleanField(
        label=_("Remove the user's second factor"),
        required=False,
        help_text=_("For a user who has lost their authenticator app; they can enrol again."),
    )

    def __init__(
        self,
        actor: User,
        organisations: QuerySet[Organisation],
        *args: Any,
        instance: User | None = None,
        **kwargs: Any,
    ) -> None:
        self.instance = instance
        fixed = instance.organisation if instance else None
        super().__init__(actor, organisations, *args, fixed=fixed, **kwargs)
        offered: list[Role] = []
        for organisation in [self.fixed] if self.fixed else organisations:
            offered += [
                role for role in grantable_roles(actor, organisation) if role not in offered
            ]
            if len(offered) == len(Role):
                break
        roles_field = cast(forms.MultipleChoiceField, self.fields["roles"])
        roles_field.choices = [(role.value, role.label) for role in Role if role in offered]
        if instance is None:
            del self.fields["is_active"], self.fields["remove_second_factor"]
        else:
            del self.fields["email"]
            self.fields["roles"].initial = [role.value for role in instance.roles]
            self.fields["first_name"].initial = instance.first_name
            self.fields["last_name"].initial = instance.last_name
            self.fields["is_active"].initial = instance.is_active

    def clean_email(self) -> str:
        email = normalise_email(self.cleaned_data["email"])
        if User.objects.filter(email=email).exists():
            raise ValidationError(_("There is already a user with this address."), code="taken")
        return email

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if "roles" in cleaned and ("organisation" in cleaned or self.fixed):
            allowed = {role.value for role in grantable_roles(self.actor, self.organisation)}
            refused = [role for role in cleaned["roles"] if role not in allowed]
            if refused:
                self.add_error(
                    "roles",
                    ngettext(
                        "This role cannot be given to a user of %(organisation)s: %(roles)s.",
                        "These roles cannot be given to users of %(organisation)s: %(roles)s.",
                        len(refused),
                    )
                    % {
                        "organisation": self.organisation.name,
                        "roles": ", ".join(str(Role(role).label) for role in refused),
                    },
                )
        return cleaned


class TokenForm(_ManagedForm):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("What the token is for, e.g. the system that delivers with it."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Permissions"),
        choices=TokenScope.choices,
        initial=[TokenScope.DELIVER],
        widget=forms.CheckboxSelectMultiple,
    )
    days = forms.IntegerField(
        label=_("Valid for (days)"),
        min_value=1,
        max_value=MAX_DAYS,
        initial=DEFAULT_DAYS,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["days"].help_text = gettext(
            "At most %(max)d days. Make a new token before this one expires."
        ) % {"max": MAX_DAYS}
