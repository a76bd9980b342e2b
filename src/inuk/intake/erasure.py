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

The statistics database goes first: if the vault's deletion then fails, the
person can still be found by number and the erasure run again, whereas the
other order would leave statistics rows nobody can find any more.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from inuk.audit.log import Event
from inuk.audit.log import record as audit
from inuk.format.identifiers import InvalidIdentifier, parse_personnummer
from inuk.intake.retention import refresh_statistics
from inuk.ledger.models import Intervention, Person, Repeat, Result, Transaction
from inuk.vault import pseudonymize as vault


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
    pseudonym = vault.find(number)
    if pseudonym is None:
        raise UNKNOWN_PERSON
    at = timezone.now()
    counts = (0, 0, 0)
    with transaction.atomic():
        person = Person.objects.filter(pseudonym=pseudonym).first()
        if person is not None:
            Repeat.objects.filter(person=person).delete()
            counts = (
                Transaction.objects.filter(person=person).delete()[0],
                Intervention.objects.filter(person=person).delete()[0],
                Result.objects.filter(person=person).delete()[0],
            )
            person.delete()
    done = Erasure(at, vault.erase(pseudonym), *counts)
    refresh_statistics()
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
        },
        at=at,
    )
    return done
