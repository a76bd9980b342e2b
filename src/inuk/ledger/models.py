"""The ledger: every accepted transaction, and the current state derived from them.

Nothing here identifies a person: a person is a pseudonym with the birth year,
sex and samordningsnummer flag statistics need, and a random record key for
the cell key method of disclosure control.

The current state keeps, for each identity of SPEC §5, the winning transaction
(latest Transaktionsdatum; ties to the later delivery, then to the later
position in the file). A Borttag that wins leaves a tombstone (``removed``) so
that an older Registrering arriving later cannot bring the record back.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Person(models.Model):
    class Sex(models.TextChoices):
        MAN = "M", _("man")
        WOMAN = "K", _("woman")

    pseudonym = models.CharField(max_length=32, unique=True)
    birth_year = models.PositiveSmallIntegerField()
    sex = models.CharField(max_length=1, choices=Sex.choices)
    coordination_number = models.BooleanField(default=False)
    record_key = models.PositiveIntegerField(help_text="random, for the cell key method")

    class Meta:
        verbose_name = _("person (pseudonymized)")
        verbose_name_plural = _("persons (pseudonymized)")

    def __str__(self) -> str:
        return self.pseudonym


class Kind(models.TextChoices):
    INTERVENTION = "I", _("intervention")
    RESULT = "R", _("result")


class Status(models.TextChoices):
    REGISTRATION = "R", "Registrering"
    CHANGE = "A", "Ändring"
    REMOVAL = "B", "Borttag"


class Transaction(models.Model):
    """One accepted transaction, as delivered. Never updated, never deleted but by retention."""

    delivery = models.ForeignKey(
        "intake.Delivery", on_delete=models.PROTECT, related_name="ledger_transactions"
    )
    position = models.PositiveIntegerField(help_text="index of the transaction in its file")
    kind = models.CharField(max_length=1, choices=Kind.choices)
    organisation = models.ForeignKey("organisations.Organisation", on_delete=models.PROTECT)
    kommunkod = models.CharField(max_length=4)
    person = models.ForeignKey(Person, on_delete=models.PROTECT)
    code = models.CharField(max_length=10)
    start = models.DateField()
    end = models.DateField(null=True)
    system = models.CharField(max_length=100)
    transaction_time = models.DateTimeField()
    status = models.CharField(max_length=1, choices=Status.choices)
    fingerprint = models.CharField(max_length=32, unique=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["kind", "organisation", "kommunkod", "person", "code", "start"],
                name="ledger_tx_identity",
            ),
            models.Index(fields=["delivery", "position"], name="ledger_tx_delivery"),
        ]


class StateRecord(models.Model):
    organisation = models.ForeignKey("organisations.Organisation", on_delete=models.PROTECT)
    kommunkod = models.CharField(max_length=4)
    person = models.ForeignKey(Person, on_delete=models.PROTECT)
    code = models.CharField(max_length=10)
    start = models.DateField()
    system = models.CharField(max_length=100)
    removed = models.BooleanField(default=False)
    # The winning transaction and its ordering key.
    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="+")
    transaction_time = models.DateTimeField()
    delivery_order = models.BigIntegerField()
    position = models.PositiveIntegerField()

    class Meta:
        abstract = True


class Intervention(StateRecord):
    end = models.DateField(null=True)

    class Meta:
        verbose_name = _("intervention")
        verbose_name_plural = _("interventions")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "kommunkod", "person", "code", "start"],
                name="intervention_identity",
            )
        ]


class Result(StateRecord):
    class Meta:
        verbose_name = _("result")
        verbose_name_plural = _("results")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "kommunkod", "person", "code", "start"],
                name="result_identity",
            )
        ]
