"""What the ledger is given: pseudonymized persons and accepted transactions, no personnummer."""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple


class PersonRow(NamedTuple):
    """A person as the vault describes it for one delivery."""

    pseudonym: str
    birth_year: int
    sex: str  # "M" man, "K" woman
    coordination: bool  # a samordningsnummer


class LedgerRow(NamedTuple):
    """One accepted transaction.

    The order of the fields is the order of the staging table's columns, so
    that a row is written to PostgreSQL's COPY as it is.
    """

    position: int  # the transaction's index in its file
    kind: str  # "I" intervention (Insats), "R" result (Resultat)
    organisation_id: int  # the delivering organisation
    kommunkod: str  # four digits
    pseudonym: str
    code: str  # Insatskod or Resultatkod
    start: dt.date
    end: dt.date | None  # SlutdatumInsats; always None for results
    system: str
    transaction_time: dt.datetime  # Transaktionsdatum, timezone-aware
    status: str  # "R" Registrering, "A" Ändring, "B" Borttag


#: Where the delivering organisation stands in a LedgerRow.
ORGANISATION = LedgerRow._fields.index("organisation_id")

#: A LedgerRow, or a plain tuple of the same values in the same order: a large
#: delivery's rows are made and spooled as plain tuples, which cost a fraction
#: of a named tuple's time to make and to pickle.
LedgerValues = tuple[Any, ...]

#: A PersonRow, or a plain tuple of the same values in the same order.
PersonValues = tuple[Any, ...]


class Outcome(NamedTuple):
    """What applying a delivery did, for its receipt."""

    accepted: int  # transactions appended to the ledger
    already_known: int  # transactions the ledger already held
    unknown_identity: list[int]  # positions of Ändring/Borttag whose identity was never registered
