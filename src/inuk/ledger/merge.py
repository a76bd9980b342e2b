"""Merging two persons into one, when a changed personnummer is linked to the old one.

A person whose samordningsnummer was replaced by a personnummer, or whose
number was corrected, may have been delivered under both numbers before the
identity officer linked them: the vault then held two persons, and so does
the ledger. Once the vault has merged them (``inuk.vault.pseudonymize.
link_merging``), ``merge_persons`` does the same here, so that the statistics
count one person:

- the absorbed person's transactions are moved to the surviving person, each
  with the fingerprint it would have had if delivered under the surviving
  pseudonym, so that it is "already known" when delivered again under either
  number. A transaction the survivor already holds (the same one delivered
  under both numbers) keeps its old fingerprint: the ledger is append-only, and
  two copies of one transaction give the state the same winner as one;
- the current state of both is derived again from the moved ledger
  (``inuk.ledger.bulk.recompute``), since two records of one identity, one
  under each person, may now compete;
- the absorbed person is removed, and the survivor's birth year, sex and
  samordningsnummer flag become those of the new number;
- the statistics' rollups follow: both persons' contributions are taken away
  as they were and the survivor's added as it is (``rollups.persons_changing``).

The survivor's record key stays, so that the cells it was counted in before
keep their keys as far as they can.
"""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, connections

from inuk.ledger import changes
from inuk.ledger.backends import backend
from inuk.ledger.bulk import recompute, require_atomic
from inuk.ledger.fingerprint import fingerprint
from inuk.ledger.models import Intervention, Person, Result, Transaction
from inuk.ledger.rows import LedgerRow, PersonRow

_ROW_FIELDS = (
    "position",
    "kind",
    "organisation_id",
    "kommunkod",
    "code",
    "start",
    "end",
    "system",
    "transaction_time",
    "status",
)


def merge_persons(survivor: str, absorbed: str | None, described: PersonRow) -> list[int]:
    """Make pseudonym ``absorbed``'s records ``survivor``'s; describe ``survivor`` as ``described``.

    ``absorbed`` None (or unknown to the ledger) merges nothing and only
    updates the description, if the survivor is known. Returns the ids of the
    persons whose records changed (the survivor's, and the absorbed one's that
    no longer exists); the rollups follow already. Call it inside
    ``transaction.atomic()`` on the default database.
    """
    require_atomic("merge_persons()")
    if described.pseudonym != survivor:
        raise ValueError("the description is not of the surviving person")
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        backend(cursor).begin()  # the one writer of the ledger and the state
    keep = Person.objects.filter(pseudonym=survivor).first()
    gone = Person.objects.filter(pseudonym=absorbed).first() if absorbed else None
    persons = [person.pk for person in (keep, gone) if person is not None]
    with changes.persons_changing(persons):
        return _merge(keep, gone, survivor, described)


def _merge(
    keep: Person | None, gone: Person | None, survivor: str, described: PersonRow
) -> list[int]:
    touched = []
    if gone is not None:
        touched.append(gone.pk)
        if keep is None:
            # The survivor was never delivered: the absorbed person takes its name.
            Person.objects.filter(pk=gone.pk).update(pseudonym=survivor)
            keep, gone = Person.objects.get(pk=gone.pk), None
            _refingerprint(keep.pk, keep.pk, survivor)
        else:
            moved = _refingerprint(gone.pk, keep.pk, survivor)
            for model in (Intervention, Result):
                model.objects.filter(person_id=gone.pk).delete()
            Person.objects.filter(pk=gone.pk).delete()
            if moved:
                recompute(Transaction.objects.filter(person_id=keep.pk))
    if keep is None:
        return touched
    Person.objects.filter(pk=keep.pk).update(
        birth_year=described.birth_year,
        sex=described.sex,
        coordination_number=described.coordination,
    )
    return sorted({keep.pk, *touched})


def _refingerprint(source: int, target: int, pseudonym: str) -> int:
    """Move person ``source``'s transactions to ``target``, fingerprinted under ``pseudonym``.

    Returns how many were moved.
    """
    held = set(Transaction.objects.filter(person_id=target).values_list("fingerprint", "withdrawn"))
    held = {(bytes(fp), withdrawn) for fp, withdrawn in held}
    rows = Transaction.objects.filter(person_id=source).values_list(
        "fingerprint", "withdrawn", *_ROW_FIELDS
    )
    moved = 0
    for old, withdrawn, *values in list(rows):
        old = bytes(old)
        fields = dict(zip(_ROW_FIELDS, values, strict=True))
        new = fingerprint(LedgerRow(pseudonym=pseudonym, **fields))
        if (new, withdrawn) in held:
            new = old  # the same transaction under both numbers: kept twice, as delivered
        Transaction.objects.filter(person_id=source, fingerprint=old, withdrawn=withdrawn).update(
            person_id=target, fingerprint=new
        )
        held.add((new, withdrawn))
        moved += 1
    return moved
