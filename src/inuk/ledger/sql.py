"""SQL shared by both databases: the tables, the identity, and how a winner is chosen.

The ordering key of a transaction is (Transaktionsdatum, delivery id, position
in the file): for each identity the greatest key wins. The state keeps the
winner's values and key; ``removed`` marks a winning Borttag (a tombstone).
"""

from __future__ import annotations

from inuk.ledger.models import Intervention, Kind, Person, Repeat, Result, Transaction

TX = Transaction._meta.db_table
REPEAT = Repeat._meta.db_table
PERSON = Person._meta.db_table
STATE = {Kind.INTERVENTION: Intervention._meta.db_table, Kind.RESULT: Result._meta.db_table}

TRANSACTIONS = "ledger_stage_transaction"
PERSONS = "ledger_stage_person"
WINNERS = "ledger_stage_winner"

IDENTITY = ("person_id", "organisation_id", "kommunkod", "code", "start")
IDENTITY_LIST = ", ".join(IDENTITY)
ORDER_KEY = ("transaction_time", "delivery_id", "position")

#: Ledger rows ``t`` that count: not of a withdrawn delivery.
COUNTING = "t.withdrawn = 0"


def state_columns(kind: str) -> list[str]:
    """The state table's columns for ``kind`` (a ``Kind``), identity first."""
    values = ['"end"', "system"] if kind == Kind.INTERVENTION else ["system"]
    return [*IDENTITY, *values, "removed", *ORDER_KEY]


def winners(kind: str, where: str, *, distinct_on: bool = False) -> str:
    """SELECT of each identity's winner among the ledger rows ``t`` of ``kind`` ``where`` picks.

    Its columns are ``state_columns(kind)``. PostgreSQL's ``DISTINCT ON``
    (``distinct_on=True``) does with one sort what the window function does
    with a sort and a pass more.
    """
    select = ", ".join(
        "status = 'B' AS removed" if c == "removed" else c for c in state_columns(kind)
    )
    latest_first = "transaction_time DESC, delivery_id DESC, position DESC"
    if distinct_on:
        return f"""
            SELECT DISTINCT ON ({IDENTITY_LIST}) {select}
            FROM {TX} t
            WHERE t.kind = '{kind}' AND {where}
            ORDER BY {IDENTITY_LIST}, {latest_first}
        """
    return f"""
        SELECT {select} FROM (
            SELECT t.*, row_number() OVER (
                PARTITION BY {IDENTITY_LIST} ORDER BY {latest_first}
            ) AS winner_rank
            FROM {TX} t
            WHERE t.kind = '{kind}' AND {where}
        ) ranked
        WHERE winner_rank = 1
    """


#: Positions of the staged Ändring and Borttag whose identity has never had a
#: counting Registrering. Every one in the file is checked, already known or
#: not: a re-sent history that still lacks the Registrering is still worth a
#: warning.
UNKNOWN_IDENTITY = f"""
    SELECT s.position FROM {TRANSACTIONS} s JOIN {PERSON} p ON p.pseudonym = s.pseudonym
    WHERE s.status <> 'R' AND NOT EXISTS (
        SELECT 1 FROM {TX} t
        WHERE t.person_id = p.id AND t.kind = s.kind AND t.organisation_id = s.organisation_id
          AND t.kommunkod = s.kommunkod AND t.code = s.code AND t.start = s.start
          AND t.status = 'R' AND {COUNTING}
    )
    ORDER BY s.position
"""
