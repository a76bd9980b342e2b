"""The identity officer's work: look-ups both ways, linking a changed number, register extracts.

Only here does a personnummer leave the vault for a person to read (SPEC §8,
§11). Who may call these functions is ``inuk.accounts.scoping.may_identify``'s
answer, which the pages and the API check first; each function then

- refuses a burst: more than ``LIMIT`` look-ups, links and extracts by one
  officer within ``WINDOW`` are refused (``Throttled``), and each refusal is
  itself an audit entry (``identity.throttled``), for whoever reviews the log;
- does its work one person at a time;
- writes an audit entry with who, when, from where, why (the case number and
  the reason) and the person's pseudonym: never the personnummer. The reason
  is free text, so it passes the audit log's personnummer filter like all its
  text.

The counts for the throttle are the audit entries themselves: they are in the
database every web process shares, and they are what a reviewer sees.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from inuk.accounts.models import User
from inuk.audit.log import Event, record
from inuk.audit.models import Entry
from inuk.format.identifiers import parse_personnummer
from inuk.identity.extract import Extract, gather
from inuk.ledger.merge import merge_persons
from inuk.ledger.rows import PersonRow
from inuk.vault.pseudonymize import find, history, link_merging
from inuk.vault.removals import removing
from inuk.vault.routers import VAULT_DB

#: Look-ups, links and extracts one officer may make within ``WINDOW``.
LIMIT = 30
WINDOW = dt.timedelta(minutes=10)

#: The audit events that count towards the limit.
COUNTED = (Event.IDENTITY_LOOKUP, Event.IDENTITY_LINKED, Event.IDENTITY_EXTRACT)


@dataclass(frozen=True, slots=True)
class Officer:
    """Who asks, and from which address (for the audit log)."""

    user: User
    remote_addr: str = ""


@dataclass(frozen=True, slots=True)
class Purpose:
    """Why: the case (diarienummer) and the reason, both required."""

    case_number: str
    reason: str


class Throttled(Exception):
    """Too many look-ups in too short a time; ``retry_after`` says how many seconds to wait."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many identity look-ups; wait {retry_after} seconds")
        self.retry_after = retry_after


class Numbers(NamedTuple):
    """A person's personnummer, each with when the vault first knew it."""

    pseudonym: str
    numbers: list[tuple[str, dt.datetime]]


class LinkOutcome(NamedTuple):
    pseudonym: str
    #: The pseudonym merged into ``pseudonym``, if the new number had a person of its own.
    merged: str | None


def _audit(
    event: Event, officer: Officer, purpose: Purpose, pseudonym: str, **details: Any
) -> None:
    record(
        event,
        actor=officer.user.email,
        organisation=officer.user.organisation.orgnr,
        target=pseudonym,
        remote_addr=officer.remote_addr,
        details={"case_number": purpose.case_number, "reason": purpose.reason, **details},
    )


def refuse_if_throttled(officer: Officer, now: dt.datetime | None = None) -> None:
    """Raise ``Throttled`` (and audit it) if ``officer`` has reached the limit."""
    now = now or timezone.now()
    recent = Entry.objects.filter(
        event__in=[event.value for event in COUNTED],
        actor=officer.user.email,
        at__gt=now - WINDOW,
    )
    times = list(recent.order_by("-at").values_list("at", flat=True)[:LIMIT])
    if len(times) < LIMIT:
        return
    # Free again when the oldest of the last LIMIT leaves the window.
    wait = math.ceil((times[-1] + WINDOW - now).total_seconds())
    record(
        Event.IDENTITY_THROTTLED,
        actor=officer.user.email,
        organisation=officer.user.organisation.orgnr,
        remote_addr=officer.remote_addr,
        details={"limit": LIMIT, "window_minutes": int(WINDOW.total_seconds() // 60)},
    )
    raise Throttled(max(1, wait))


@sensitive_variables()
def pseudonym_of(officer: Officer, purpose: Purpose, personnummer: str) -> str | None:
    """The pseudonym of a (canonical) personnummer; None if the vault does not know it."""
    refuse_if_throttled(officer)
    pseudonym = find(personnummer)
    _audit(
        Event.IDENTITY_LOOKUP,
        officer,
        purpose,
        pseudonym or "",
        direction="personnummer_to_pseudonym",
        found=pseudonym is not None,
    )
    return pseudonym


@sensitive_variables()
def personnummer_of(officer: Officer, purpose: Purpose, pseudonym: str) -> Numbers:
    """Every personnummer of the person ``pseudonym`` ([] if there is no such person)."""
    refuse_if_throttled(officer)
    numbers = history(pseudonym)
    _audit(
        Event.IDENTITY_LOOKUP,
        officer,
        purpose,
        pseudonym,
        direction="pseudonym_to_personnummer",
        found=bool(numbers),
    )
    return Numbers(pseudonym, numbers)


@sensitive_variables()
def link_numbers(officer: Officer, purpose: Purpose, old: str, new: str) -> LinkOutcome:
    """Link a person's ``new`` (canonical) personnummer to the ``old`` one: one person.

    If each number already has a person, the new number's is merged into the
    old number's, in the vault and in the statistics database alike; the
    person is then described (birth year, sex, samordningsnummer) by the new
    number. Raises ``ValueError`` for one number twice; then nothing is changed.

    As when a delivery is applied, the vault's transaction wraps the ledger's
    (the same order of locks, so the two cannot wait for each other): if the
    ledger's part fails, the vault's rolls back too.
    """
    if old == new:
        raise ValueError("cannot link a personnummer to itself")
    refuse_if_throttled(officer)
    described = parse_personnummer(new, timezone.localdate())
    # A merge takes a pseudonym out of the vault: no delivery is applied meanwhile.
    with removing(), transaction.atomic(using=VAULT_DB):
        linked = link_merging(old, new)
        with transaction.atomic():
            merge_persons(
                linked.pseudonym,
                linked.merged,
                PersonRow(
                    linked.pseudonym, described.birth_year, described.sex, described.coordination
                ),
            )
            _audit(
                Event.IDENTITY_LINKED,
                officer,
                purpose,
                linked.pseudonym,
                merged=linked.merged or "",
            )
    return LinkOutcome(linked.pseudonym, linked.merged)


@sensitive_variables()
def register_extract(
    officer: Officer, purpose: Purpose, personnummer: str, form: str = "html"
) -> Extract:
    """Everything stored about a (canonical) personnummer; ``form`` is noted in the audit."""
    refuse_if_throttled(officer)
    pseudonym = find(personnummer)
    extract = gather(
        personnummer, pseudonym, made_by=officer.user.email, case_number=purpose.case_number
    )
    _audit(Event.IDENTITY_EXTRACT, officer, purpose, pseudonym or "", format=form)
    return extract
