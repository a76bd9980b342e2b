"""Organisations that deliver or follow up, and the agreements that let them.

A municipality (kommun) delivers for its own kommunkod while its agreement
(samverkansavtal) with AF is in force. AF delivers for any municipality.
A supplier (leverantör) or a municipal federation (kommunalförbund) delivers
for the municipalities that have registered it.
"""

from __future__ import annotations

import calendar
import datetime as dt

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

AF_ORGNR = "2021002114"


class Organisation(models.Model):
    class Kind(models.TextChoices):
        MUNICIPALITY = "kommun", _("Municipality")
        AGENCY = "af", _("Arbetsförmedlingen")
        SUPPLIER = "leverantor", _("Supplier")
        FEDERATION = "forbund", _("Municipal federation")

    orgnr = models.CharField(
        _("organisation number"),
        max_length=10,
        unique=True,
        help_text=_("Ten digits; the 16-prefixed twelve-digit form is stored without 16."),
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return f"{self.name} ({self.orgnr[:6]}-{self.orgnr[6:]})"

    @property
    def is_agency(self) -> bool:
        return self.kind == self.Kind.AGENCY

    @classmethod
    def af(cls) -> Organisation:
        return cls.objects.get(orgnr=AF_ORGNR)


class Municipality(models.Model):
    code = models.CharField(_("municipality code"), max_length=4, primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    county_code = models.CharField(_("county code"), max_length=2)
    county_name = models.CharField(_("county"), max_length=100)
    organisation = models.OneToOneField(
        Organisation,
        on_delete=models.PROTECT,
        related_name="municipality",
        verbose_name=_("organisation"),
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` calendar months later, or the month's last day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class AgreementQuerySet(models.QuerySet["Agreement"]):
    def in_force(self, on: dt.date) -> AgreementQuerySet:
        """Agreements signed by both parties on or before ``on`` and not yet ended."""
        return self.filter(
            signed_by_af__lte=on,
            signed_by_municipality__lte=on,
        ).exclude(Q(ends_on__isnull=False) & Q(ends_on__lte=on))


class Agreement(models.Model):
    """A samverkansavtal between AF and one municipality.

    It takes effect when both parties have signed. Written notice ends it three
    calendar months after the notice date unless the parties agree on another
    date; a decision by a higher authority ends it at once. ``ends_on`` is the
    first day it no longer applies, kept in step by ``save()``.
    """

    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="agreements"
    )
    af_case_number = models.CharField(_("AF's case number (dnr)"), max_length=50, blank=True)
    municipality_case_number = models.CharField(
        _("municipality's case number (dnr)"), max_length=50, blank=True
    )
    signed_by_af = models.DateField(_("signed by AF"), null=True, blank=True)
    signed_by_municipality = models.DateField(_("signed by the municipality"), null=True, blank=True)
    notice_given_on = models.DateField(_("written notice given on"), null=True, blank=True)
    agreed_end = models.DateField(_("end date agreed by the parties"), null=True, blank=True)
    ended_by_decision_on = models.DateField(
        _("ended at once by a higher authority's decision on"), null=True, blank=True
    )
    ends_on = models.DateField(_("no longer in force from"), null=True, blank=True, editable=False)
    notes = models.TextField(_("notes"), blank=True)

    objects = AgreementQuerySet.as_manager()

    class Meta:
        ordering = ["municipality", "-signed_by_af"]
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")

    def __str__(self) -> str:
        return f"{self.municipality} ({self.af_case_number or '-'})"

    @property
    def in_force_from(self) -> dt.date | None:
        if self.signed_by_af is None or self.signed_by_municipality is None:
            return None
        return max(self.signed_by_af, self.signed_by_municipality)

    def compute_end(self) -> dt.date | None:
        ends = []
        if self.ended_by_decision_on is not None:
            ends.append(self.ended_by_decision_on)
        if self.agreed_end is not None:
            ends.append(self.agreed_end)
        elif self.notice_given_on is not None:
            ends.append(add_months(self.notice_given_on, 3))
        return min(ends) if ends else None

    def is_in_force(self, on: dt.date) -> bool:
        start = self.in_force_from
        end = self.compute_end()
        return start is not None and start <= on and (end is None or on < end)

    def save(self, *args, **kwargs) -> None:
        self.ends_on = self.compute_end()
        super().save(*args, **kwargs)


class ContactPerson(models.Model):
    class Party(models.TextChoices):
        AF = "af", _("Arbetsförmedlingen")
        MUNICIPALITY = "kommun", _("Municipality")

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="contacts")
    party = models.CharField(_("party"), max_length=10, choices=Party.choices)
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("contact person")
        verbose_name_plural = _("contact persons")

    def __str__(self) -> str:
        return self.name


class DeliveryAuthorisation(models.Model):
    """A municipality registers a supplier or federation to deliver on its behalf."""

    deliverer = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="authorisations"
    )
    municipality = models.ForeignKey(
        Municipality, on_delete=models.CASCADE, related_name="deliverers"
    )
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid until (exclusive)"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery authorisation")
        verbose_name_plural = _("delivery authorisations")
        constraints = [
            models.UniqueConstraint(
                fields=["deliverer", "municipality", "valid_from"], name="one_authorisation_per_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.deliverer.name} → {self.municipality}"
