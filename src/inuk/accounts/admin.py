"""The second factor's devices in the admin: audited, and their secrets never shown.

django-otp registers its own admin for TOTP devices; it is replaced here by
one that writes an ``admin.change`` entry for every device added, changed or
removed, like every other admin page (``inuk.audit.admin.AuditedAdmin``).
``OTP_ADMIN_HIDE_SENSITIVE_DATA`` (settings) keeps the secret key and its QR
code off the pages of an existing device: an administrator can remove a
user's authenticator, never copy it.
"""

from __future__ import annotations

from django.contrib import admin
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from inuk.audit.admin import AuditedAdmin


class AuditedTOTPDeviceAdmin(AuditedAdmin, TOTPDeviceAdmin):
    def audit_organisation(self, obj: TOTPDevice) -> str:
        return obj.user.organisation.orgnr


if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)
admin.site.register(TOTPDevice, AuditedTOTPDeviceAdmin)
