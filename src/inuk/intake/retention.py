"""Retention (gallring): what the service may no longer keep, removed every night.

Two rules (SPEC §11), each a setting (docs/operations.md):

- a transaction whose Transaktionsdatum is more than ``INUK_RETENTION_YEARS``
  years old is removed, counting or withdrawn, and so is the kept original file
  of every delivery received before that limit;
- everything of a municipality whose last agreement ended more than
  ``INUK_AGREEMENT_RETENTION_DAYS`` days ago is removed: the transactions that
  concern it (its kommunkod, whoever delivered them) and the kept files of its
  deliveries. Receipts stay: they hold counts and masked errors, nothing that
  identifies a person.

The state of every person touched is derived again from what is left, and
their contribution to the statistics rollups taken away before and added
back after (``ledger.changes.persons_changing``), so a run costs what it removes,
not a rebuild; a person left with no transaction leaves the statistics
database and the vault. Afterwards state and statistics are exactly what a
fresh ingest of the deliveries without the removed transactions gives
(tests/intake/test_retention_equivalence.py). ``run(dry_run=True)`` reports
the same figures and changes nothing.
A run is idempotent and works in chunks of persons, each its own transaction,
so cron can start it every night and an interrupted run is finished by the
next. Each run that removes something, and each dry run, is audited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Max, Q
from django.utils import timezone

from inuk.audit.log import Event
from inuk.audit.log import record as audit
from inuk.intake.models import Delivery
from inuk.ledger import changes
from inuk.ledger.backends import backend
from inuk.ledger.bulk import recompute
from inuk.ledger.models import Intervention, Person, Repeat, Result, Transaction
from inuk.ledger.sql import REPEAT, TX
from inuk.organisations.models import Agreement, Municipality
from inuk.vault import files as vault_files
from inuk.vault import pseudonymize as vault
from inuk.vault.removals import removing

#: Persons per transaction.
CHUNK = 1000


@dataclass
class Report:
    """What a run removed, or would remove (``dry_run``)."""

    dry_run: bool
    transactions_before: str  # ISO date: Transaktionsdatum before this is too old
    municipalities: list[str] = field(default_factory=list)  # kommunkoder whose data goes
    transactions: int = 0
    persons: int = 0  # left with nothing: out of the statistics database and the vault
    files: int = 0

    def lines(self) -> list[str]:
        verb = "would be removed" if self.dry_run else "removed"
        ended = ", ".join(self.municipalities) or "none"
        return [
            f"transactions older than {self.transactions_before} and of municipalities "
            f"whose agreement ended too long ago ({ended}): {self.transactions} {verb}",
            f"persons left with no data: {self.persons} {verb} (statistics and vault)",
            f"kept delivery files: {self.files} {verb}",
        ]


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def ended_municipalities(today: dt.date) -> list[str]:
    """Kommunkoder with no agreement in force whose last one ended longer ago than the period."""
    limit = today - dt.timedelta(days=settings.INUK_AGREEMENT_RETENTION_DAYS)
    ended = (
        Municipality.objects.exclude(agreements__in=Agreement.objects.in_force(today))
        .annotate(last=Max("agreements__last_day"))
        .filter(last__lt=limit)
        # One still open (in force, or awaiting signatures): the municipality stays.
        .exclude(agreements__last_day__isnull=True)
    )
    return sorted(ended.values_list("code", flat=True))


def run(*, dry_run: bool = False, actor: str = "inuk retention", now=None) -> Report:
    """Apply the retention rules as of ``now``; returns the report."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    cutoff = _years_before(today, settings.INUK_RETENTION_YEARS)
    cutoff_at = dt.datetime.combine(cutoff, dt.time(), tzinfo=timezone.get_current_timezone())
    codes = ended_municipalities(today)
    report = Report(dry_run, cutoff.isoformat(), codes)
    doomed = Q(transaction_time__lt=cutoff_at) | Q(kommunkod__in=codes)
    old_files = Delivery.objects.filter(
        Q(received_at__lt=cutoff_at) | Q(organisation__municipality__code__in=codes)
    ).values_list("pk", flat=True)
    file_ids = sorted(set(old_files) & vault_files.stored_delivery_ids())
    report.files = len(file_ids)
    if dry_run:
        report.transactions = Transaction.objects.filter(doomed).count()
        report.persons = (
            Person.objects.filter(transactions__in=Transaction.objects.filter(doomed))
            .exclude(transactions__in=Transaction.objects.exclude(doomed))
            .distinct()
            .count()
        )
    else:
        for persons in _chunks(doomed):
            removed, gone = _remove(persons, doomed)
            report.transactions += removed
            report.persons += gone
        for delivery_id in file_ids:
            vault_files.discard(delivery_id)
    audit(Event.RETENTION_APPLIED, actor=actor, details=asdict(report), at=now)
    return report


def _chunks(doomed: Q) -> Iterator[list[int]]:
    """Persons with a doomed transaction, a chunk at a time (re-read: each chunk removes some)."""
    while True:
        persons = list(
            Transaction.objects.filter(doomed)
            .order_by("person_id")
            .values_list("person_id", flat=True)
            .distinct()[:CHUNK]
        )
        if not persons:
            return
        yield persons


def _remove(persons: list[int], doomed: Q) -> tuple[int, int]:
    """Remove the doomed transactions of ``persons``; derive their state again. One transaction.

    With no delivery being applied meanwhile (``vault.removals``): one that
    looked up a person who is left with nothing and leaves the vault here
    reads its file again, rather than bring the person back under a
    pseudonym the vault no longer knows.
    """
    with removing():
        return _remove_now(persons, doomed)


def _remove_now(persons: list[int], doomed: Q) -> tuple[int, int]:
    with transaction.atomic():
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            backend(cursor).begin()  # the ledger's lock, as a delivery's apply takes it
        going = Transaction.objects.filter(doomed, person_id__in=persons)
        kommunkoder = set(going.values_list("kommunkod", flat=True).distinct())
        with changes.persons_changing(persons):
            removed, _ = going.delete()
            placeholders = ", ".join(["%s"] * len(persons))
            with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
                cursor.execute(
                    f"""DELETE FROM {REPEAT} WHERE person_id IN ({placeholders}) AND NOT EXISTS (
                        SELECT 1 FROM {TX} t WHERE t.person_id = {REPEAT}.person_id
                          AND t.fingerprint = {REPEAT}.fingerprint)""",
                    persons,
                )
            Intervention.objects.filter(person_id__in=persons).delete()
            Result.objects.filter(person_id__in=persons).delete()
            recompute(Transaction.objects.filter(person_id__in=persons))
            empty = Person.objects.filter(pk__in=persons).exclude(
                pk__in=Transaction.objects.filter(person_id__in=persons).values("person_id")
            )
            pseudonyms = list(empty.values_list("pseudonym", flat=True))
            Repeat.objects.filter(person__in=empty).delete()
            empty.delete()
        changes.coverage_changing(kommunkoder)
    # After the statistics side is committed: a failure here leaves vault rows
    # that no statistics refer to, which the next run cannot see but harm nothing
    # beyond being kept; erasing first would lose the way back to the person.
    for pseudonym in pseudonyms:
        vault.erase(pseudonym)
    return removed, len(pseudonyms)
