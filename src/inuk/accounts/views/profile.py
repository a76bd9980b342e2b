"""The user's own page, and enrolling or removing their second factor (TOTP)."""

from __future__ import annotations

import base64
from io import BytesIO

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from inuk.accounts.forms import CodeForm, PasswordConfirmForm
from inuk.accounts.models import Role, User
from inuk.accounts.scoping import acting_user, require_role
from inuk.accounts.views.login import confirmed_device
from inuk.audit.log import Event, record
from inuk.client import client_address

DEVICE_NAME = "INUK"


def _audit_second_factor(request: HttpRequest, user: User, change: str) -> None:
    record(
        Event.USER_CHANGED,
        actor=acting_user(request).email,
        organisation=user.organisation.orgnr,
        target=f"user:{user.pk}",
        remote_addr=client_address(request),
        details={"email": user.email, "changed": ["second_factor"], "second_factor": change},
    )


@require_role()
def profile(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    roles = [role.label for role in Role if role in user.roles]
    return render(
        request,
        "accounts/profile.html",
        {"nav": "profile", "roles": roles, "device": confirmed_device(user)},
    )


def qr_svg(text: str) -> str:
    """``text`` as a QR code in inline SVG, scaling with the page."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    buffer = BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode("utf-8")
    return svg[svg.index("<svg") :]


@require_role(enrolling=True)
@never_cache
@require_http_methods(["GET", "POST"])
def second_factor_enrol(request: HttpRequest) -> HttpResponse:
    """Show a new secret as a QR code; it counts only once the app's first code is right."""
    user = acting_user(request)
    if confirmed_device(user) is not None:
        return redirect("accounts:profile")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=user, confirmed=False).delete()
            otp_login(request, device)
            _audit_second_factor(request, user, "enrolled")
            messages.success(
                request, _("Two-step verification is on. From now on, log in with a code too.")
            )
            return redirect("accounts:profile")
        form.add_error(
            "code", _("The code is not right. Check the time on your phone and try again.")
        )
    secret = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    context = {
        "nav": "profile",
        "form": form,
        "qr": mark_safe(qr_svg(device.config_url)),  # noqa: S308 - made here from our own data
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
    }
    return render(request, "accounts/second_factor_enrol.html", context)


@require_role()
@never_cache
@require_http_methods(["GET", "POST"])
def second_factor_remove(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    if confirmed_device(user) is None:
        return redirect("accounts:profile")
    if user.requires_second_factor:
        messages.error(request, _("Your role requires two-step verification: it cannot be off."))
        return redirect("accounts:profile")
    form = PasswordConfirmForm(user, request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        TOTPDevice.objects.filter(user=user).delete()
        _audit_second_factor(request, user, "removed")
        messages.success(request, _("Two-step verification is off."))
        return redirect("accounts:profile")
    return render(request, "accounts/second_factor_remove.html", {"nav": "profile", "form": form})
