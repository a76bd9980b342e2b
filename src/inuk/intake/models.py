"""A delivery (leverans) and its receipt (kvittens).

The ``Delivery`` row is the receipt: it exists from the moment a file is
received, tracks the file through processing, and finally carries the counts
and the messages. The file itself holds personnummer and is therefore kept,
encrypted, in the identity vault (``inuk.vault.files``), never here.

The row also owns its lifecycle, as small methods that each make one
conditional UPDATE and say whether it matched: a worker claims a waiting
delivery (``Delivery.objects.claimable().claim()``), reports it alive
(``heartbeat()``), and ends it (``finish()``, ``refuse()``, ``fail()``) or gives
it back (``release()``). Every write after the claim is conditional on the
claim still holding, so a worker that stalled and lost the delivery to
another cannot overwrite the other's work: its write changes nothing, and it
drops what it did.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inuk.format.errors import RULES, Problem, Rule
from inuk.format.masking import random_id

#: How many times a worker takes a delivery up: after the last attempt it fails for good.
MAX_ATTEMPTS = 5

#: Why a delivery failed for good: not the file's fault, and what to do.
FAILURE_CODE = "PROCESSING_FAILED"
FAILURE = Rule(
    f"Leveransen kunde inte bearbetas efter {MAX_ATTEMPTS} försök på grund av ett fel i "
    "tjänsten, inte i filen. Inget av den har tillämpats. Skicka filen igen; upprepas felet, "
    "kontakta tjänstens förvaltning och ange kvittensens id.",
    f"The delivery could not be processed after {MAX_ATTEMPTS} attempts because of a fault in "
    "the service, not in the file. Nothing of it was applied. Send the file again; if the "
    "fault recurs, contact the service's administrators and give the receipt id.",
)


#: The counts of a delivery refused or failed: nothing of it counts, whatever was read.
NOTHING_COUNTED = dict.fromkeys(
    ("persons", "transactions", "accepted", "rejected", "already_known", "warnings"), 0
)


def stale_before() -> dt.datetime:
    """A heartbeat older than this is a worker's that stopped (``INUK_WORKER_STALE_SECONDS``)."""
    return timezone.now() - dt.timedelta(seconds=settings.INUK_WORKER_STALE_SECONDS)


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

    def claimable(self) -> DeliveryQuerySet:
        """Deliveries a worker may take up: waiting ones, and those whose worker stopped
        reporting (it crashed or stalled), as long as an attempt is left."""
        return self.filter(
            Q(status=Delivery.Status.RECEIVED)
            | Q(status=Delivery.Status.PROCESSING, heartbeat_at__lt=stale_before()),
            attempts__lt=MAX_ATTEMPTS,
        )

    def abandoned(self) -> DeliveryQuerySet:
        """Deliveries whose worker stopped reporting during their last attempt.

        They are neither claimable (no attempt is left) nor anyone's any more:
        unless they are failed (``Delivery.fail(abandoned=True)``) they wait forever.
        """
        return self.filter(
            status=Delivery.Status.PROCESSING,
            heartbeat_at__lt=stale_before(),
            attempts__gte=MAX_ATTEMPTS,
        )

    def claim(self, pk: int, worker: str) -> Delivery | None:
        """Take delivery ``pk`` for ``worker`` if it is one of these; None if it is not.

        One conditional UPDATE, so of two workers racing for a delivery one
        takes it and the other changes nothing. The claim's ``claimed_by`` is
        ``worker`` with a random part: several processes may share a worker
        name ("inline" web processes), and a claim taken over and taken again
        is another claim. The delivery is returned holding that token, which
        every later write of the lifecycle is conditional on; with its
        organisation, which the work on it names throughout.
        """
        token = f"{worker[:83]}/{secrets.token_hex(8)}"
        taken = self.filter(pk=pk).update(
            status=Delivery.Status.PROCESSING,
            claimed_by=token,
            heartbeat_at=timezone.now(),
            attempts=F("attempts") + 1,
            bytes_read=0,
        )
        if not taken:
            return None
        # Read by the token, not the id alone: should another worker have taken
        # the delivery over in between, this one must not come back holding its claim.
        return (
            Delivery.objects.select_related("organisation").filter(pk=pk, claimed_by=token).first()
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

    public_id = models.UUIDField(_("receipt id"), default=random_id, unique=True, editable=False)
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

    @property
    def last_attempt(self) -> bool:
        """Whether this attempt is the last: should it fail, the delivery fails for good."""
        return self.attempts >= MAX_ATTEMPTS

    # --- the lifecycle: each one conditional UPDATE, True if it matched ------------
    #
    # The row is changed, not this instance: a transaction around the change
    # may still roll it back, and an instance that said otherwise would lie.
    # ``refresh_from_db()`` reads the row.

    def _held(self) -> DeliveryQuerySet:
        """This delivery, as long as the claim this instance was taken with still holds it."""
        return Delivery.objects.filter(
            pk=self.pk, status=self.Status.PROCESSING, claimed_by=self.claimed_by
        )

    def heartbeat(self, bytes_read: int | None = None) -> bool:
        """Report the claim alive, and how much of the file is read; False if it is lost."""
        values: dict[str, Any] = {"heartbeat_at": timezone.now()}
        if bytes_read is not None:
            values["bytes_read"] = bytes_read
        return bool(self._held().update(**values))

    def note_format(self, format: str) -> bool:
        """Record the format the reader found the file in (it may not have been named)."""
        return bool(self._held().update(format=format))

    def release(self, *, counted: bool = True) -> bool:
        """Give the delivery back, waiting, for a worker to try again; False if the claim is lost.

        ``counted=False``: the attempt was no failure (the file changed under
        it) and does not use up one of the delivery's ``MAX_ATTEMPTS``.
        """
        values: dict[str, Any] = {} if counted else {"attempts": F("attempts") - 1}
        return bool(
            self._held().update(
                status=self.Status.RECEIVED, heartbeat_at=None, claimed_by="", **values
            )
        )

    def finish(
        self,
        status: str,
        *,
        persons: int,
        transactions: int,
        accepted: int,
        rejected: int,
        already_known: int,
        warnings: int,
    ) -> bool:
        """End the delivery ``status`` (applied, rejected, checked) with its counts, the whole
        file read; False if the claim is lost."""
        return bool(
            self._held().update(
                status=status,
                finished_at=timezone.now(),
                bytes_read=F("size"),
                persons=persons,
                transactions=transactions,
                accepted=accepted,
                rejected=rejected,
                already_known=already_known,
                warnings=warnings,
            )
        )

    def refuse(self, code: str) -> bool:
        """End the delivery refused for the rule ``code``, nothing of it counted; False if the
        claim is lost."""
        rule = RULES[code]
        return bool(
            self._held().update(
                status=self.Status.REFUSED,
                refusal_code=code,
                refusal_sv=rule.sv,
                refusal_en=rule.en,
                finished_at=timezone.now(),
                **NOTHING_COUNTED,
            )
        )

    def fail(self, *, abandoned: bool = False) -> bool:
        """End the delivery failed for good (``FAILURE``), nothing of it counted; False if the
        claim is lost.

        ``abandoned``: the delivery is not this worker's but one of
        ``Delivery.objects.abandoned()``, and is failed only as it was read:
        if its worker has reported since, or another taken it, it is left.
        """
        held = self._held()
        if abandoned:
            held = held.filter(heartbeat_at=self.heartbeat_at)
        return bool(
            held.update(
                status=self.Status.FAILED,
                refusal_code=FAILURE_CODE,
                refusal_sv=FAILURE.sv,
                refusal_en=FAILURE.en,
                finished_at=timezone.now(),
                heartbeat_at=None,
                **NOTHING_COUNTED,
            )
        )

    def count_erasure(self) -> None:
        """One more person erased from the kept file (``inuk.intake.erasure_files``).

        Whatever the delivery's state: an erasure reaches every kept file.
        """
        Delivery.objects.filter(pk=self.pk).update(erased_persons=F("erased_persons") + 1)


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
    def from_problem(cls, delivery_id: int, problem: Problem) -> Message:
        """The receipt's message for ``problem``: its rule in both languages and its place in
        the file, each value cut to fit (``fit``)."""
        values = problem.as_dict()
        values["severity"] = problem.severity
        return cls(delivery_id=delivery_id, **fit(cls, values))
