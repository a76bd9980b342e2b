"""The ledger: every accepted transaction, and the current state derived from them.

Nothing here identifies a person: a person is a random pseudonym with the birth
year, sex and samordningsnummer flag statistics need, and a random record key
for the cell key method of disclosure control.

The current state keeps, for each identity of SPEC §5, the values of the
winning transaction: the latest Transaktionsdatum, ties to the later delivery
(deliveries are numbered in the order they were received), then to the later
position in the file. A Borttag that wins leaves a tombstone (``removed``) so
that an older Registrering arriving later cannot bring the record back. The
state is a function of the set of counting transactions alone, which is what
makes the order of deliveries irrelevant; ``inuk.ledger.bulk`` maintains it and
can rebuild it.

Indexes are few on purpose: every one of them is maintained for each of the
millions of rows a delivery appends. The ledger has its primary key (person,
fingerprint, withdrawn) and an index of deliveries; each state table only its
primary key, the identity. For the same reason the foreign keys of
the ledger and the state are not enforced by the database (``db_constraint=
False``): PostgreSQL would run a trigger per key and row, several times the
cost of the insert itself. ``inuk.ledger.bulk`` is the only writer and resolves
every key by a join or checks it before writing; ``on_delete=PROTECT`` still
guards deletions made through the ORM.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from inuk.format import records, validation

#: Record keys are drawn uniformly from ``[0, RECORD_KEY_RANGE)``; a cell's key
#: is the sum of its persons' record keys modulo this range.
RECORD_KEY_RANGE = 2**32


def new_record_key() -> int:
    """A record key from the operating system's CSPRNG, uniform over [0, RECORD_KEY_RANGE)."""
    return secrets.randbelow(RECORD_KEY_RANGE)


class Person(models.Model):
    """A pseudonymized person: only what statistics need, nothing that identifies."""

    class Sex(models.TextChoices):
        MAN = "M", _("man")
        WOMAN = "K", _("woman")

    pseudonym = models.CharField(max_length=32)
    birth_year = models.PositiveSmallIntegerField(_("birth year"))
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    coordination_number = models.BooleanField(_("samordningsnummer"), default=False)
    # Never changes once drawn, so that a cell shows the same value every time.
    record_key = models.PositiveBigIntegerField(
        _("record key"),
        default=new_record_key,
        help_text=_("Random, uniform over [0, 2³²), for the cell key method."),
    )

    class Meta:
        verbose_name = _("person (pseudonymized)")
        verbose_name_plural = _("persons (pseudonymized)")
        constraints = [
            # A constraint rather than unique=True: on PostgreSQL, Django adds a
            # second (pattern-matching) index to unique text fields, which
            # nothing here needs and every new person would pay for.
            models.UniqueConstraint(fields=["pseudonym"], name="ledger_person_pseudonym"),
        ]

    def __str__(self) -> str:
        return self.pseudonym


class Kind(models.TextChoices):
    """A transaction's kind, as the format's records name it."""

    INTERVENTION = records.INTERVENTION, _("intervention")
    RESULT = records.RESULT, _("result")


class Status(models.TextChoices):
    """A transaction's Status, as validation reads the file's word for it."""

    REGISTRATION = validation.REGISTRERING, "Registrering"
    CHANGE = validation.ANDRING, "Ändring"
    REMOVAL = validation.BORTTAG, "Borttag"


class Withdrawal(models.Model):
    """A delivery that AF has withdrawn: its transactions stay in the ledger but stop counting.

    ``inuk.ledger.withdrawal.withdraw()`` records it and marks the transactions.
    """

    delivery = models.OneToOneField(
        "intake.Delivery",
        on_delete=models.PROTECT,
        primary_key=True,
        related_name="withdrawal",
    )
    withdrawn_at = models.DateTimeField(_("withdrawn"))
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("withdrawn delivery")
        verbose_name_plural = _("withdrawn deliveries")

    def __str__(self) -> str:
        return str(self.delivery_id)


class TransactionQuerySet(models.QuerySet["Transaction"]):
    def counting(self) -> TransactionQuerySet:
        """Transactions that count towards the current state: not of a withdrawn delivery."""
        return self.filter(withdrawn=0)


class Transaction(models.Model):
    """One accepted transaction, as delivered. Never changed but for being withdrawn.

    ``fingerprint`` is the ledger's key for "already known": a digest of the
    identity, Transaktionsdatum, status and values (``inuk.ledger.fingerprint``).
    The primary key (person, fingerprint, withdrawn) keeps each counting
    transaction once, however often it is delivered. It leads with the person,
    so that it also finds a person's transactions and so that a delivery's
    rows, written in its order, go into it side by side: one index, filled in
    order, is what keeps appending a million rows cheap. (A composite primary
    key: no admin pages and no foreign keys to it; a transaction is named by
    its delivery and position.)

    ``withdrawn`` is 0 while the transaction counts and becomes its delivery's
    id when that delivery is withdrawn: the transaction stays, stops counting
    and frees its key, so that the same transaction delivered again counts.
    """

    pk = models.CompositePrimaryKey("person", "fingerprint", "withdrawn")
    delivery = models.ForeignKey(
        "intake.Delivery",
        on_delete=models.PROTECT,
        db_constraint=False,
        related_name="ledger_transactions",
        # Indexed: a delivery's transactions, to update the state and to
        # withdraw them. All its entries share one key, which PostgreSQL's
        # index deduplication stores almost for free.
    )
    position = models.PositiveIntegerField(help_text="index of the transaction in its file")
    kind = models.CharField(max_length=1, choices=Kind.choices)
    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        db_constraint=False,
        db_index=False,  # nothing looks the ledger up by organisation alone
        related_name="+",
    )
    kommunkod = models.CharField(max_length=4)
    person = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        db_constraint=False,
        db_index=False,  # the primary key leads with the person
        related_name="transactions",
    )
    code = models.CharField(max_length=10)
    start = models.DateField()
    end = models.DateField(null=True)
    system = models.CharField(max_length=100)
    transaction_time = models.DateTimeField()
    status = models.CharField(max_length=1, choices=Status.choices)
    fingerprint = models.BinaryField(max_length=16)
    withdrawn = models.PositiveBigIntegerField(
        default=0, help_text="0 while it counts; its delivery's id once that is withdrawn"
    )

    objects = TransactionQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=Kind.values)
                & Q(status__in=Status.values)
                & (Q(kind=Kind.INTERVENTION) | Q(end__isnull=True)),
                name="ledger_tx_kind_status",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.delivery_id}:{self.position}"


class Repeat(models.Model):
    """A transaction that a delivery brought again, when the ledger held it already.

    The ledger keeps each transaction once, with the delivery that brought it
    first; a later delivery carrying it too is only counted as already known.
    This row remembers that it did, so that withdrawing the first delivery
    does not take the transaction from the state while another still carries
    it: the earliest of those then owns it (``withdrawal.withdraw``), as if the
    withdrawn delivery had never arrived. Written only for deliveries that
    repeat something, so a delivery of new transactions costs nothing more.
    """

    pk = models.CompositePrimaryKey("person", "fingerprint", "delivery")
    person = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        db_constraint=False,
        db_index=False,  # the primary key leads with the person
        related_name="+",
    )
    fingerprint = models.BinaryField(max_length=16)
    delivery = models.ForeignKey(
        "intake.Delivery",
        on_delete=models.PROTECT,
        db_constraint=False,
        related_name="+",  # indexed: a withdrawn delivery's repeats are dropped
    )
    position = models.PositiveIntegerField(help_text="index of the transaction in its file")

    def __str__(self) -> str:
        return f"{self.delivery_id}:{self.position}"


class StateQuerySet(models.QuerySet):
    def current(self):
        """The records as they stand now, without the tombstones of removed ones."""
        return self.filter(removed=False)


class InterventionQuerySet(StateQuerySet):
    def ongoing_in(self, first: dt.date, last: dt.date) -> InterventionQuerySet:
        """Current interventions ongoing on at least one day of [first, last]."""
        return self.current().filter(Q(end__isnull=True) | Q(end__gte=first), start__lte=last)


class StateRecord(models.Model):
    """The current values of one identity, and the ordering key of the transaction that set them.

    The identity is the primary key: (person, organisation, kommunkod, code,
    start), the person first so that it also finds a person's records.
    """

    pk = models.CompositePrimaryKey("person", "organisation", "kommunkod", "code", "start")
    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    kommunkod = models.CharField(max_length=4)
    person = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        db_constraint=False,
        db_index=False,  # the primary key leads with the person
        related_name="%(class)ss",  # person.interventions, person.results
    )
    code = models.CharField(max_length=10)
    start = models.DateField()
    system = models.CharField(max_length=100)
    removed = models.BooleanField(default=False)
    # The winning transaction's ordering key; (delivery, position) names it.
    transaction_time = models.DateTimeField()
    delivery = models.ForeignKey(
        "intake.Delivery",
        on_delete=models.PROTECT,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    position = models.PositiveIntegerField()

    class Meta:
        abstract = True


class Intervention(StateRecord):
    end = models.DateField(null=True)

    objects = InterventionQuerySet.as_manager()

    class Meta:
        verbose_name = _("intervention")
        verbose_name_plural = _("interventions")

    def __str__(self) -> str:
        return f"{self.code} {self.start}"


class Result(StateRecord):
    objects = StateQuerySet.as_manager()

    class Meta:
        verbose_name = _("result")
        verbose_name_plural = _("results")

    def __str__(self) -> str:
        return f"{self.code} {self.start}"
