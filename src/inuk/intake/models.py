"""A delivery (leverans) and its receipt (kvittens).

The ``Delivery`` row is the receipt: it exists from the moment a file is
received, tracks the file through processing, and finally carries the counts
and the messages. The file itself holds personnummer and is therefore kept,
encrypted, in the identity vault (``inuk.vault.files``), never here.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


def fit(model: type[models.Model], values: dict[str, Any]) -> dict[str, Any]:
    """``values`` for ``model``'s columns, each string cut to its field's ``max_length``.

    What a receipt says comes partly from the file (an unknown element's name,
    a path, a value): a long one must shorten the receipt, not make the
    database refuse it (PostgreSQL does, SQLite does not) and the delivery fail
    on every retry. So every write of a receipt's rows goes through here.
    """
    fitted = dict(values)
    for name, value in values.items():
        limit = getattr(model._meta.get_field(name), "max_length", None)
        if isinstance(value, str) and limit is not None and len(value) > limit:
            fitted[name] = value[:limit]
    return fitted


class DeliveryQuerySet(models.QuerySet["Delivery"]):
    def create(self, **values: Any) -> Delivery:  # type: ignore[override]
        return super().create(**fit(self.model, values))

    def update(self, **values: Any) -> int:
        return super().update(**fit(self.model, values))

    def deliveries(self) -> DeliveryQuerySet:
        """Deliveries proper, without dry runs: a dry run is a check of a file, never a
        delivery of it, so it neither counts as delivered nor is anyone's last delivery."""
        return self.filter(dry_run=False)

    def for_organisation(self, organisation) -> DeliveryQuerySet:
        return self.filter(organisation=organisation)

    def holding(self, organisation, checksum: str) -> DeliveryQuerySet:
        """The delivery, applied or on its way, that already has these bytes of ``organisation``.

        A dry run holds nothing: it stores nothing, so the same bytes sent for
        real afterwards (or tried again) are received anew.
        """
        return self.filter(
            organisation=organisation,
            checksum=checksum,
            status__in=Delivery.HOLDING,
            dry_run=False,
        )

    def claimable(self, stale_before) -> DeliveryQuerySet:
        """Waiting deliveries, and those whose worker stopped reporting (crashed)."""
        return self.filter(
            Q(status=Delivery.Status.RECEIVED)
            | Q(status=Delivery.Status.PROCESSING, heartbeat_at__lt=stale_before)
        )


class Delivery(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "received", _("Received, waiting")
        PROCESSING = "processing", _("Processing")
        APPLIED = "applied", _("Applied")
        REJECTED = "rejected", _("Rejected")
        REFUSED = "refused", _("Refused")
        FAILED = "failed", _("Failed")
        #: A dry run's end: checked and reported, nothing stored.
        CHECKED = "checked", _("Checked (dry run)")

    FINAL = (Status.APPLIED, Status.REJECTED, Status.REFUSED, Status.FAILED, Status.CHECKED)
    #: The deliveries whose bytes are taken: the same file again returns their
    #: receipt. A file rejected, refused or failed may be sent again, and is
    #: then received anew (SPEC §4).
    HOLDING = (Status.RECEIVED, Status.PROCESSING, Status.APPLIED)

    public_id = models.UUIDField(_("receipt id"), default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="deliveries"
    )
    received_at = models.DateTimeField(_("received"), db_index=True)
    submitted_by = models.CharField(_("submitted by"), max_length=200, blank=True)
    channel = models.CharField(_("channel"), max_length=20, blank=True)
    filename = models.CharField(_("file name"), max_length=255, blank=True)
    checksum = models.CharField(_("SHA-256"), max_length=64)
    size = models.BigIntegerField(_("size in bytes"))
    format = models.CharField(_("format"), max_length=10, blank=True)
    strict = models.BooleanField(_("all or nothing"), default=False)
    #: Validated as a delivery would be, authorisation included, and nothing
    #: stored: a large dry run waits here for a worker, like a delivery, and
    #: ends ``checked`` (or refused, or failed) with its report as the receipt.
    dry_run = models.BooleanField(_("dry run"), default=False)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.RECEIVED
    )
    #: Why a delivery was refused or failed, for the reporter.
    refusal_code = models.CharField(_("reason code"), max_length=40, blank=True)
    refusal_sv = models.TextField(_("reason (Swedish)"), blank=True)
    refusal_en = models.TextField(_("reason (English)"), blank=True)

    claimed_by = models.CharField(max_length=100, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    bytes_read = models.BigIntegerField(default=0)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    persons = models.PositiveIntegerField(_("persons"), default=0)
    transactions = models.PositiveIntegerField(_("transactions"), default=0)
    accepted = models.PositiveIntegerField(_("accepted"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    already_known = models.PositiveIntegerField(_("already known"), default=0)
    warnings = models.PositiveIntegerField(_("warnings"), default=0)
    #: Persons erased (GDPR art. 17) from the kept file since it was received:
    #: the file was rewritten without them (``inuk.intake.erasure_files``).
    erased_persons = models.PositiveIntegerField(_("persons erased from the file"), default=0)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            # The same bytes from the same organisation are one delivery while
            # it is applied or on its way; after a refusal, a rejection or a
            # failure, sending them again is a new try. A dry run takes no bytes.
            models.UniqueConstraint(
                fields=["organisation", "checksum"],
                condition=Q(status__in=["received", "processing", "applied"], dry_run=False),
                name="delivery_once_per_checksum",
            )
        ]

    def __str__(self) -> str:
        return str(self.public_id)

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL

    @property
    def progress(self) -> float | None:
        """Share of the file read, 0..1, while processing."""
        if self.status == self.Status.PROCESSING and self.size:
            return min(1.0, self.bytes_read / self.size)
        return None


class Message(models.Model):
    """An error (a rejected transaction) or a warning on a receipt."""

    class Severity(models.TextChoices):
        ERROR = "error", _("Error")
        WARNING = "warning", _("Warning")

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="messages")
    severity = models.CharField(max_length=7, choices=Severity.choices)
    code = models.CharField(max_length=40)
    field = models.CharField(max_length=40, blank=True)
    line = models.PositiveIntegerField(null=True, blank=True)
    path = models.CharField(max_length=300, blank=True)
    value = models.CharField(max_length=120, blank=True, help_text="masked where a personnummer")
    message_sv = models.TextField()
    message_en = models.TextField()

    class Meta:
        ordering = ["delivery", "id"]
        indexes = [models.Index(fields=["delivery", "severity"])]

    def __str__(self) -> str:
        return f"{self.severity} {self.code} {self.path}"

    @classmethod
    def from_row(cls, delivery_id: int, row: dict[str, Any]) -> Message:
        """A message of a delivery from a problem's row (``Problem.as_dict`` and severity)."""
        names = ("severity", "code", "field", "line", "path", "value", "message_sv", "message_en")
        return cls(delivery_id=delivery_id, **fit(cls, {name: row[name] for name in names}))
