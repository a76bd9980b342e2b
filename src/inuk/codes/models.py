"""AF's intervention and result codes, each valid for a period."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from inuk.format import codelist
from inuk.format.codelist import CodeList


class Code(models.Model):
    class Kind(models.TextChoices):
        INTERVENTION = codelist.INTERVENTION, _("Intervention (Insatskod)")
        RESULT = codelist.RESULT, _("Result (Resultatkod)")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    code = models.CharField(_("code"), max_length=10)
    name_sv = models.CharField(_("name (Swedish)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(
        _("retired on"),
        null=True,
        blank=True,
        help_text=_("Records that started before this date may still use the code."),
    )

    class Meta:
        ordering = ["kind", "code", "valid_from"]
        verbose_name = _("code")
        verbose_name_plural = _("codes")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "code", "valid_from"], name="code_unique_start"
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=models.F("valid_from")),
                name="code_valid_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name_sv}"

    @classmethod
    def code_list(cls) -> CodeList:
        """The current list, as the validator reads it."""
        return CodeList(cls.objects.values_list("kind", "code", "valid_from", "valid_to"))

    def is_valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)
