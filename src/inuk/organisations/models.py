"""Organisations that deliver or follow up, and the agreements that let them.

A municipality (kommun) delivers for its own kommunkod while its agreement
(samverkansavtal) with AF is in force. AF delivers for any municipality.
A supplier (leverantör) or a municipal federation (kommunalförbund) delivers
for the municipalities that have registered it, while their agreements are in
force. Who may deliver for what on a given day is answered in one place,
``inuk.organisations.authorisation``.

Dates of validity are inclusive at both ends everywhere in this module ("from
1 February up to and including 30 April"), as people read them in an
agreement; ``None`` as the last day means "until further notice".
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inuk.format.identifiers import normalise_orgnr
from inuk.format.municipalities import AF_ORGNR

#: How long written notice runs (avtalet §5: "tre kalendermånader").
NOTICE_MONTHS = 3


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` calendar months later, or the month's last day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def notice_last_day(notice_given_on: dt.date) -> dt.date:
    """The last day an agreement is in force after written notice given on a day.

    Avtalet §5: it "upphör att gälla tre kalendermånader efter uppsägningen".
    The months are counted as Swedish law counts a period of months from a day
    (lag (1930:173) om beräkning av lagstadgad tid, 2 §): the period runs out
    on the day of the third month with the same number as the notice day, or
    on that month's last day if it has no such day. The agreement applies up to
    and including that day and no longer from the next.

    >>> notice_last_day(dt.date(2025, 1, 15))
    datetime.date(2025, 4, 15)
    >>> notice_last_day(dt.date(2025, 1, 31))  # no 31 April
    datetime.date(2025, 4, 30)
    >>> notice_last_day(dt.date(2023, 11, 30))  # 2024 is a leap year
    datetime.date(2024, 2, 29)
    """
    return add_months(notice_given_on, NOTICE_MONTHS)


class Party(models.TextChoices):
    """The two parties to an agreement."""

    AF = "af", _("Arbetsförmedlingen")
    MUNICIPALITY = "kommun", _("Municipality")


class Organisation(models.Model):
    class Kind(models.TextChoices):
        MUNICIPALITY = "kommun", _("Municipality")
        AGENCY = "af", _("Arbetsförmedlingen")
        SUPPLIER = "leverantor", _("Supplier")
        FEDERATION = "forbund", _("Municipal federation")

    #: Kinds that deliver on behalf of municipalities that registered them.
    DELIVERING_ON_BEHALF = (Kind.SUPPLIER, Kind.FEDERATION)

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

    @property
    def delivers_on_behalf(self) -> bool:
        return self.kind in self.DELIVERING_ON_BEHALF

    @classmethod
    def af(cls) -> Organisation:
        return cls.objects.get(orgnr=AF_ORGNR)

    def clean(self) -> None:
        try:
            self.orgnr = normalise_orgnr(self.orgnr)
        except ValueError as exc:
            raise ValidationError({"orgnr": _("Not a valid organisation number.")}) from exc
        # AF's own deliveries are authorised for every municipality, so only
        # AF's organisation number may carry that kind.
        if (self.kind == self.Kind.AGENCY) != (self.orgnr == AF_ORGNR):
            raise ValidationError(
                {"kind": _("Only Arbetsförmedlingen (202100-2114) is of that kind.")}
            )


def agreement_in_force(on: dt.date) -> Exists:
    """True for a municipality whose agreement is in force on ``on``.

    An expression, so that it can be filtered on or selected in any query of
    municipalities: ``Municipality.objects.values_list("code", agreement_in_force(day))``.
    """
    return Exists(Agreement.objects.in_force(on).filter(municipality=OuterRef("pk")))


class MunicipalityQuerySet(models.QuerySet["Municipality"]):
    def under_agreement(self, on: dt.date) -> MunicipalityQuerySet:
        """Municipalities whose agreement is in force on ``on``."""
        return self.filter(agreement_in_force(on))


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

    objects = MunicipalityQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def agreement_on(self, on: dt.date) -> Agreement | None:
        """The agreement in force on ``on``, if any (there is at most one)."""
        return self.agreements.in_force(on).first()

    def current_agreement(self, on: dt.date) -> Agreement | None:
        """The agreement that matters on ``on``: the one in force, else the latest one."""
        return self.agreement_on(on) or self.agreements.order_by("-id").first()


class MunicipalityGroup(models.Model):
    """A set of municipalities that AF compares with each other, such as SKR's kommungrupper.

    Not shipped: AF's administrators import or edit the groupings they use
    (``inuk.organisations.groups`` reads the ``kommunkod;grupp`` CSV). A
    municipality may belong to several groups of different groupings.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("short name"), max_length=60, unique=True)
    description = models.TextField(_("description"), blank=True)
    municipalities = models.ManyToManyField(
        Municipality, related_name="groups", verbose_name=_("municipalities")
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("municipality group")
        verbose_name_plural = _("municipality groups")

    def __str__(self) -> str:
        return self.name


class AgreementQuerySet(models.QuerySet["Agreement"]):
    def in_force(self, on: dt.date) -> AgreementQuerySet:
        """Agreements signed by both parties on or before ``on`` whose last day is not before it."""
        return self.filter(
            Q(last_day__isnull=True) | Q(last_day__gte=on),
            signed_by_af__lte=on,
            signed_by_municipality__lte=on,
        )

    def awaiting_signature(self) -> AgreementQuerySet:
        return self.filter(Q(signed_by_af__isnull=True) | Q(signed_by_municipality__isnull=True))


class AgreementState(enum.StrEnum):
    """Where an agreement stands on a given day, for lists and pages."""

    AWAITING_SIGNATURE = "awaiting_signature"
    NOT_YET_IN_FORCE = "not_yet_in_force"
    IN_FORCE = "in_force"
    NOTICE_GIVEN = "notice_given"
    ENDED = "ended"

    @property
    def label(self) -> str:
        return str(_STATE_LABELS[self])


_STATE_LABELS = {
    AgreementState.AWAITING_SIGNATURE: _("awaiting signature"),
    AgreementState.NOT_YET_IN_FORCE: _("signed, not yet in force"),
    AgreementState.IN_FORCE: _("in force"),
    AgreementState.NOTICE_GIVEN: _("in force, notice given"),
    AgreementState.ENDED: _("ended"),
}


class Agreement(models.Model):
    """A samverkansavtal between AF and one municipality (avtalet §5).

    It takes effect when both parties have signed: it is in force from the
    later signing date. It runs until further notice. Written notice by either
    party ends it after three calendar months (``notice_last_day``) unless the
    parties agree on another last day; a decision by a higher authority ends
    it at once, from the day of the decision. ``last_day`` is the last day it
    is in force, derived from those facts by ``save()`` so that queries need
    no date arithmetic.

    A municipality has at most one agreement in force on any day, and at most
    one awaiting signatures; a new agreement can follow one that has ended.
    """

    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="agreements",
        verbose_name=_("municipality"),
    )
    af_case_number = models.CharField(_("AF's case number (dnr)"), max_length=50, blank=True)
    municipality_case_number = models.CharField(
        _("municipality's case number (dnr)"), max_length=50, blank=True
    )
    signed_by_af = models.DateField(_("signed by AF"), null=True, blank=True)
    signed_by_municipality = models.DateField(
        _("signed by the municipality"), null=True, blank=True
    )
    notice_given_on = models.DateField(_("written notice given on"), null=True, blank=True)
    notice_given_by = models.CharField(
        _("notice given by"), max_length=10, choices=Party.choices, blank=True
    )
    agreed_last_day = models.DateField(
        _("last day agreed by the parties"),
        null=True,
        blank=True,
        help_text=_("Instead of three calendar months after the notice, if the parties agreed so."),
    )
    ended_by_decision_on = models.DateField(
        _("ended at once by a decision on"),
        null=True,
        blank=True,
        help_text=_("The day a decision by a higher authority ended the agreement."),
    )
    decision_reference = models.CharField(
        _("reference to the decision"), max_length=200, blank=True
    )
    last_day = models.DateField(_("last day in force"), null=True, blank=True, editable=False)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("registered"), auto_now_add=True)

    objects = AgreementQuerySet.as_manager()

    class Meta:
        ordering = ["municipality", "-id"]
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")
        constraints = [
            models.UniqueConstraint(
                fields=["municipality"],
                condition=Q(signed_by_af__isnull=True) | Q(signed_by_municipality__isnull=True),
                name="one_agreement_awaiting_signature_per_municipality",
                violation_error_message=_(
                    "The municipality already has an agreement awaiting signature."
                ),
            ),
            models.CheckConstraint(
                condition=Q(agreed_last_day__isnull=True) | Q(notice_given_on__isnull=False),
                name="agreed_last_day_needs_notice",
                violation_error_message=_("An agreed last day needs a written notice."),
            ),
            models.CheckConstraint(
                condition=Q(notice_given_by="") | Q(notice_given_on__isnull=False),
                name="notice_party_needs_notice",
                violation_error_message=_("Who gave notice needs the notice's date."),
            ),
            models.CheckConstraint(
                condition=Q(ended_by_decision_on__isnull=True) & Q(decision_reference="")
                | Q(ended_by_decision_on__isnull=False) & ~Q(decision_reference=""),
                name="decision_has_date_and_reference",
                violation_error_message=_("A decision needs both its date and a reference."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.municipality} ({self.af_case_number or '-'})"

    def save(self, *args, **kwargs) -> None:
        self.last_day = self.compute_last_day()
        if "update_fields" in kwargs and kwargs["update_fields"] is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "last_day"}
        super().save(*args, **kwargs)

    # --- derived facts ----------------------------------------------------------

    @property
    def in_force_from(self) -> dt.date | None:
        """The later signing date, once both parties have signed."""
        if self.signed_by_af is None or self.signed_by_municipality is None:
            return None
        return max(self.signed_by_af, self.signed_by_municipality)

    @property
    def notice_ends_on(self) -> dt.date | None:
        """The last day in force that the written notice leads to, if notice was given."""
        if self.notice_given_on is None:
            return None
        return self.agreed_last_day or notice_last_day(self.notice_given_on)

    def compute_last_day(self) -> dt.date | None:
        """The last day in force: the earlier of the notice's end and the day before a decision."""
        ends = []
        if self.notice_ends_on is not None:
            ends.append(self.notice_ends_on)
        if self.ended_by_decision_on is not None:
            ends.append(self.ended_by_decision_on - dt.timedelta(days=1))
        return min(ends) if ends else None

    def is_in_force(self, on: dt.date) -> bool:
        start, last = self.in_force_from, self.compute_last_day()
        return start is not None and start <= on and (last is None or on <= last)

    def state(self, on: dt.date) -> AgreementState:
        start, last = self.in_force_from, self.compute_last_day()
        if start is None:
            return AgreementState.AWAITING_SIGNATURE
        if last is not None and on > last:
            return AgreementState.ENDED
        if on < start:
            return AgreementState.NOT_YET_IN_FORCE
        if last is not None:
            return AgreementState.NOTICE_GIVEN
        return AgreementState.IN_FORCE

    def period(self) -> tuple[dt.date, dt.date] | None:
        """The days it is in force, both inclusive (``date.max`` if open), or None."""
        start, last = self.in_force_from, self.compute_last_day()
        if start is None or (last is not None and last < start):
            return None
        return start, last or dt.date.max

    # --- changes, each validated as a whole before it is saved --------------------

    def sign(self, party: str, on: dt.date) -> None:
        """Record a party's signature; a signature once given is not replaced here."""
        field = "signed_by_af" if Party(party) == Party.AF else "signed_by_municipality"
        if getattr(self, field) is not None:
            raise ValidationError(
                _("%(party)s already signed on %(date)s.")
                % {"party": Party(party).label, "date": getattr(self, field).isoformat()}
            )
        setattr(self, field, on)
        self.full_clean()
        self.save()

    def give_notice(
        self, on: dt.date, by: str = "", agreed_last_day: dt.date | None = None
    ) -> None:
        """Record written notice given on ``on``, and a last day if the parties agreed one.

        Giving the same notice again (same day) may add or change who gave it
        and the agreed last day; a notice on another day is refused, since the
        first notice already decides the end.
        """
        if self.notice_given_on is not None and self.notice_given_on != on:
            raise ValidationError(
                _("Notice was already given on %(date)s.")
                % {"date": self.notice_given_on.isoformat()}
            )
        if self.notice_given_on is None and not self.is_in_force(on):
            raise ValidationError(
                _("The agreement is not in force on %(date)s, so notice cannot be given.")
                % {"date": on.isoformat()}
            )
        self.notice_given_on = on
        self.notice_given_by = Party(by).value if by else self.notice_given_by
        self.agreed_last_day = agreed_last_day or self.agreed_last_day
        self.full_clean()
        self.save()

    def end_by_decision(self, on: dt.date, reference: str) -> None:
        """End the agreement at once from ``on`` because of a higher authority's decision."""
        if self.ended_by_decision_on is not None:
            raise ValidationError(
                _("The agreement was already ended by a decision on %(date)s.")
                % {"date": self.ended_by_decision_on.isoformat()}
            )
        if not self.is_in_force(on):
            raise ValidationError(
                _("The agreement is not in force on %(date)s, so it cannot be ended then.")
                % {"date": on.isoformat()}
            )
        self.ended_by_decision_on = on
        self.decision_reference = reference.strip()
        self.full_clean()
        self.save()

    # --- validation --------------------------------------------------------------

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        today = timezone.localdate()
        # Signatures, notices and decisions are things that have happened; a
        # date after today is a typing error (2205 for 2025), not a plan.
        for field in ("signed_by_af", "signed_by_municipality", "notice_given_on"):
            value = getattr(self, field)
            if value is not None and value > today:
                errors[field] = _("The date %(date)s is in the future.") % {
                    "date": value.isoformat()
                }
        if self.ended_by_decision_on is not None and self.ended_by_decision_on > today:
            errors["ended_by_decision_on"] = _("The date %(date)s is in the future.") % {
                "date": self.ended_by_decision_on.isoformat()
            }
        start = self.in_force_from
        if self.notice_given_on is not None:
            if start is None or self.notice_given_on < start:
                errors["notice_given_on"] = _(
                    "Notice can be given only while the agreement is in force."
                )
            elif self.agreed_last_day is not None and self.agreed_last_day < self.notice_given_on:
                errors["agreed_last_day"] = _("The agreed last day is before the notice.")
            elif (
                self.ended_by_decision_on is not None
                and self.ended_by_decision_on <= self.notice_given_on
            ):
                errors["notice_given_on"] = _(
                    "Notice was given after the agreement had been ended by a decision."
                )
        if self.ended_by_decision_on is not None:
            if start is None or self.ended_by_decision_on < start:
                errors["ended_by_decision_on"] = _(
                    "Only an agreement in force can be ended by a decision."
                )
            if not self.decision_reference.strip():
                errors["decision_reference"] = _("Give a reference to the decision.")
        if errors:
            raise ValidationError(errors)
        self._validate_one_in_force()

    def _validate_one_in_force(self) -> None:
        period = self.period()
        if period is None or self.municipality_id is None:
            return
        others = (
            Agreement.objects.filter(municipality_id=self.municipality_id)
            .exclude(pk=self.pk)
            .exclude(Q(signed_by_af__isnull=True) | Q(signed_by_municipality__isnull=True))
        )
        for other in others:
            other_period = other.period()
            if other_period and period[0] <= other_period[1] and other_period[0] <= period[1]:
                raise ValidationError(
                    _(
                        "%(municipality)s already has an agreement in force from %(start)s "
                        "(AF dnr %(dnr)s); a municipality has at most one agreement in force "
                        "at a time. End that one first."
                    )
                    % {
                        "municipality": self.municipality.name,
                        "start": other_period[0].isoformat(),
                        "dnr": other.af_case_number or "-",
                    }
                )


class ContactPerson(models.Model):
    """A contact person of one party to an agreement (avtalet §8)."""

    Party = Party

    agreement = models.ForeignKey(
        Agreement,
        on_delete=models.CASCADE,
        related_name="contacts",
        verbose_name=_("agreement"),
    )
    party = models.CharField(_("party"), max_length=10, choices=Party.choices)
    name = models.CharField(_("name"), max_length=200)
    role = models.CharField(
        _("role"),
        max_length=200,
        blank=True,
        help_text=_("For example: product owner, Informationssamverkan."),
    )
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)

    class Meta:
        ordering = ["agreement", "party", "name"]
        verbose_name = _("contact person")
        verbose_name_plural = _("contact persons")

    def __str__(self) -> str:
        return self.name


class DeliveryAuthorisationQuerySet(models.QuerySet["DeliveryAuthorisation"]):
    def valid_on(self, on: dt.date) -> DeliveryAuthorisationQuerySet:
        return self.filter(Q(valid_until__isnull=True) | Q(valid_until__gte=on), valid_from__lte=on)


class DeliveryAuthorisation(models.Model):
    """A municipality has registered a supplier or federation to deliver on its behalf (avtalet §6).

    Valid from ``valid_from`` up to and including ``valid_until`` (open if
    empty). The deliverer may deliver only while the municipality's own
    agreement is in force as well.
    """

    deliverer = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="authorisations",
        limit_choices_to={"kind__in": Organisation.DELIVERING_ON_BEHALF},
        verbose_name=_("supplier or federation"),
    )
    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="deliverers",
        verbose_name=_("municipality"),
    )
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until and including"), null=True, blank=True)

    objects = DeliveryAuthorisationQuerySet.as_manager()

    class Meta:
        ordering = ["municipality", "deliverer__name", "valid_from"]
        verbose_name = _("delivery authorisation")
        verbose_name_plural = _("delivery authorisations")
        constraints = [
            models.UniqueConstraint(
                fields=["deliverer", "municipality", "valid_from"],
                name="one_authorisation_per_start",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("valid_from")),
                name="authorisation_ends_after_start",
                violation_error_message=_("The last day is before the first."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.deliverer.name} → {self.municipality}"

    def is_valid_on(self, on: dt.date) -> bool:
        return self.valid_from <= on and (self.valid_until is None or on <= self.valid_until)

    def revoke(self, on: dt.date) -> None:
        """The deliverer may no longer deliver for the municipality from ``on``."""
        if not self.is_valid_on(on):
            raise ValidationError(
                _("The authorisation is not valid on %(date)s.") % {"date": on.isoformat()}
            )
        self.valid_until = on - dt.timedelta(days=1)
        self.full_clean()
        self.save()

    def clean(self) -> None:
        if self.deliverer_id is not None and not self.deliverer.delivers_on_behalf:
            raise ValidationError(
                {"deliverer": _("Only a supplier or a municipal federation can be registered.")}
            )
        if self.valid_until is not None and self.valid_until < self.valid_from:
            raise ValidationError({"valid_until": _("The last day is before the first.")})
        if self.deliverer_id is None or self.municipality_id is None:
            return
        overlapping = (
            DeliveryAuthorisation.objects.filter(
                deliverer_id=self.deliverer_id, municipality_id=self.municipality_id
            )
            .exclude(pk=self.pk)
            .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=self.valid_from))
        )
        if self.valid_until is not None:
            overlapping = overlapping.filter(valid_from__lte=self.valid_until)
        if overlapping.exists():
            raise ValidationError(
                _("%(deliverer)s is already registered for %(municipality)s in that period.")
                % {"deliverer": self.deliverer.name, "municipality": self.municipality.name}
            )
