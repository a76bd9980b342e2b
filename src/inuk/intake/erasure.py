"""Erasure of a person (GDPR art. 17, where AF decides it applies): out of the vault and the ledger.

An identity officer's act, with a reason and AF's case number. The person's
transactions (counting or withdrawn), current state and statistics person are
deleted from the statistics database, and then every personnummer of the
person from the vault, so that a later delivery of the same number is a new
person with a new pseudonym, and nothing of the old returns. The ledger is
append-only for everything else; this is its one exception.

It lives in ``intake`` because it starts from a personnummer, which only
``intake`` and ``vault`` may hold. The audit entry names the case, the reason
and what was removed, never the personnummer nor the pseudonym.

The kept original delivery files go first (``inuk.intake.erasure_files``:
each that holds the number is written again without the person, and its
receipt says so), so that no worker can apply what it read of one after the
person's statistics are gone. Then the statistics database: the person's
contribution to the rollups is taken away person by person
(``ledger.changes.persons_changing``), not by a rebuild. Then the vault: if its
deletion fails, the person can still be found by number and the erasure run
again, whereas the other order would leave statistics rows nobody can find
any more. Each step can be run again.

All three steps run with no delivery being applied (``vault.removals``): an
apply in progress is waited for, and one that read the person's number
before the erasure finds afterwards that the pseudonym it looked up is gone,
and reads its file again. A delivery received while the erasure runs, after
the files were scanned, is therefore applied after it, and its number is a
new person, as any later delivery's would be.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from inuk.audit.log import Event
from inuk.audit.log import record as audit
from inuk.format.identifiers import InvalidIdentifier, parse_personnummer
from inuk.intake.erasure_files import erase_from_files
from inuk.ledger import changes
from inuk.ledger.backends import backend
from inuk.ledger.models import Intervention, Person, Repeat, Result, Transaction
from inuk.vault import pseudonymize as vault
from inuk.vault.removals import removing


@dataclass(frozen=True)
class ErasureRefused(Exception):
    """Why nothing was erased, in both languages; never holds the personnummer."""

    code: str
    message_sv: str
    message_en: str

    def __str__(self) -> str:
        return self.message_en


INVALID_NUMBER = ErasureRefused(
    "ERASURE_INVALID_NUMBER",
    "Personnumret är inte giltigt: ange tolv siffror utan bindestreck.",
    "The personnummer is not valid: give twelve digits without a dash.",
)
UNKNOWN_PERSON = ErasureRefused(
    "ERASURE_UNKNOWN_PERSON",
    "Identitetsvalvet känner inte till personnumret; ingenting raderades.",
    "The identity vault does not know the personnummer; nothing was erased.",
)
CASE_MISSING = ErasureRefused(
    "ERASURE_CASE_MISSING",
    "Ange diarienummer och skäl för raderingen.",
    "Give the case number and the reason for the erasure.",
)


@dataclass(frozen=True)
class Erasure:
    at: dt.datetime
    personnummer: int  # how many personnummer of the person left the vault
    transactions: int
    interventions: int
    results: int
    files: int  # kept delivery files written again without the person


@sensitive_variables()
def erase_person(
    personnummer: str, *, reason: str, case_number: str, actor: str, remote_addr: str = ""
) -> Erasure:
    """Erase the person with ``personnummer``; raises ``ErasureRefused`` and changes nothing."""
    reason, case_number = reason.strip(), case_number.strip()
    if not reason or not case_number:
        raise CASE_MISSING
    try:
        number = parse_personnummer(personnummer, timezone.localdate()).canonical
    except InvalidIdentifier:
        raise INVALID_NUMBER from None
    with removing():
        pseudonym = vault.find(number)
        if pseudonym is None:
            raise UNKNOWN_PERSON
        at = timezone.now()
        came_in = Transaction.objects.filter(person__pseudonym=pseudonym).values_list(
            "delivery_id", flat=True
        )
        files = erase_from_files(vault.reidentify(pseudonym), set(came_in))
        counts = _erase_statistics(pseudonym)
        done = Erasure(at, vault.erase(pseudonym), *counts, files=len(files))
    audit(
        Event.PERSON_ERASED,
        actor=actor,
        target=case_number,
        remote_addr=remote_addr,
        details={
            "case_number": case_number,
            "reason": reason,
            "vault_numbers": done.personnummer,
            "transactions": done.transactions,
            "interventions": done.interventions,
            "results": done.results,
            "files": done.files,
        },
        at=at,
    )
    return done


def _erase_statistics(pseudonym: str) -> tuple[int, int, int]:
    """Delete the person from the statistics database; (transactions, interventions, results)."""
    with transaction.atomic():
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            backend(cursor).begin()  # the ledger's lock, as a delivery's apply takes it
        person = Person.objects.filter(pseudonym=pseudonym).first()
        if person is None:
            return (0, 0, 0)
        transactions = Transaction.objects.filter(person=person)
        kommunkoder = set(transactions.values_list("kommunkod", flat=True).distinct())
        with changes.persons_changing([person.pk]):
            Repeat.objects.filter(person=person).delete()
            counts = (
                transactions.delete()[0],
                Intervention.objects.filter(person=person).delete()[0],
                Result.objects.filter(person=person).delete()[0],
            )
        person.delete()
        changes.coverage_changing(kommunkoder)
    return counts
