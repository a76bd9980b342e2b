"""The audit log: append-only, each entry's HMAC covering the one before it."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Entry(models.Model):
    at = models.DateTimeField(_("when (UTC)"))
    event = models.CharField(_("event"), max_length=50, db_index=True)
    actor = models.CharField(_("who"), max_length=200, blank=True)
    organisation = models.CharField(_("organisation number"), max_length=10, blank=True)
    target = models.CharField(_("what"), max_length=200, blank=True)
    remote_addr = models.CharField(_("from where"), max_length=64, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    previous = models.CharField(max_length=64)
    digest = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.event} {self.target}"
