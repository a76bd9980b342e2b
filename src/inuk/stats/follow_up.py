"""Indicator 6, delivery follow-up (SPEC §10 R12): who has delivered for which month, who is late.

For every municipality that has an agreement (in any state): the agreement's
state today, its last delivery, and for each of the last twelve whole months
whether it was delivered. The rule, stated once here and in the methods text:

- A delivery *covers* a municipality when the municipality's own
  organisation sent it, or when a supplier or municipal federation sent it
  with records of the municipality's kommunkod. AF's own deliveries never
  cover a municipality: the follow-up is of the municipality's reporting.
- Month M is *delivered* when a covering delivery that was applied, and not
  withdrawn since, was received (Swedish time) after the due day of M and on
  or before the due day of the month after M: the window (due day of M, due
  day of M+1]. The due day is ``INUK_DELIVERY_DUE_DAY`` (default the 15th).
  So October's delivery is the one received from 16 October to 15 November.
- A month not delivered is *late* once its due day has passed, and *open*
  until then; a month on no day of which the agreement was in force is *not
  required* (unless it was delivered all the same).
- A municipality is late when the latest month whose due day has passed is
  late. Late municipalities come first, most late months first, then by
  kommunkod.

Accepted and rejected are the counts of transactions of the last delivery as
its receipt gives them (a supplier's delivery for several municipalities
counts as a whole).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.utils import timezone

from inuk.intake.models import Delivery
from inuk.ledger.models import Transaction
from inuk.organisations.models import Agreement, AgreementState, Municipality, Organisation
from inuk.stats.query import Month, month_label

MONTHS_FOLLOWED = 12

SLUG = "delivery-follow-up"
NAME_SV = "Leveransuppföljning"
NAME_EN = "Delivery follow-up"

METHODS_SV = (
    "För varje kommun med ett avtal: avtalets läge i dag, den senaste leveransen med antal "
    "godkända och avvisade transaktioner, och för var och en av de tolv senaste hela "
    "månaderna om den är levererad. En leverans gäller kommunen när kommunen själv har "
    "skickat den, eller när en leverantör eller ett kommunalförbund har skickat den med "
    "poster för kommunens kommunkod; Arbetsförmedlingens egna leveranser räknas inte. "
    "Månaden M är levererad när en leverans som gäller kommunen har tagits emot efter "
    "förfallodagen i M och senast förfallodagen i månaden efter M (svensk tid), och har "
    "lästs in och inte återkallats. Förfallodagen är dag {due} i månaden. En månad som inte är "
    "levererad är sen när förfallodagen har passerat och öppen till dess; en månad då "
    "avtalet inte gällde någon dag krävs inte. En kommun är sen när den senaste månaden "
    "vars förfallodag har passerat är sen. Sena kommuner visas först."
)
METHODS_EN = (
    "For every municipality with an agreement: the agreement's state today, the last "
    "delivery with its numbers of accepted and rejected transactions, and for each of the "
    "last twelve whole months whether it was delivered. A delivery is the municipality's "
    "when the municipality sent it itself, or when a supplier or municipal federation sent "
    "it with records of the municipality's kommunkod; AF's own deliveries do not count. "
    "Month M is delivered when such a delivery was received after the due day of M and on "
    "or before the due day of the month after M (Swedish time), was applied and has not "
    "been withdrawn. The due day is day {due} of the month. A month not delivered is late "
    "once its "
    "due day has passed and open until then; a month on no day of which the agreement was "
    "in force is not required. A municipality is late when the latest month whose due day "
    "has passed is late. Late municipalities come first."
)


class MonthState(StrEnum):
    DELIVERED = "delivered"
    LATE = "late"
    OPEN = "open"
    NOT_REQUIRED = "not_required"


@dataclass(frozen=True)
class MonthStatus:
    month: Month
    state: MonthState

    @property
    def label(self) -> str:
        return month_label(self.month)


@dataclass(frozen=True)
class LastDelivery:
    id: str
    received_at: dt.datetime
    status: str  # the delivery's status, or "withdrawn"
    accepted: int
    rejected: int


@dataclass(frozen=True)
class FollowUp:
    """One municipality's line of the follow-up."""

    kommunkod: str
    name: str
    county_code: str
    agreement_state: AgreementState
    last_delivery: LastDelivery | None
    months: tuple[MonthStatus, ...]  # oldest first

    @property
    def months_late(self) -> int:
        return sum(m.state is MonthState.LATE for m in self.months)

    @property
    def late(self) -> bool:
        """The latest month whose due day has passed is late."""
        passed = [m for m in self.months if m.state is not MonthState.OPEN]
        return bool(passed) and passed[-1].state is MonthState.LATE


def due_day() -> int:
    return settings.INUK_DELIVERY_DUE_DAY


def _day_in(month: Month, day: int) -> dt.date:
    return dt.date(month[0], month[1], min(day, calendar.monthrange(*month)[1]))


def _next(month: Month) -> Month:
    return (month[0] + 1, 1) if month[1] == 12 else (month[0], month[1] + 1)


def _previous(month: Month) -> Month:
    return (month[0] - 1, 12) if month[1] == 1 else (month[0], month[1] - 1)


def window(month: Month, due: int) -> tuple[dt.date, dt.date]:
    """The first and last day (inclusive) on which a delivery for ``month`` is received in time.

    >>> window((2026, 10), 15)
    (datetime.date(2026, 10, 16), datetime.date(2026, 11, 15))
    """
    return _day_in(month, due) + dt.timedelta(days=1), _day_in(_next(month), due)


def followed_months(today: dt.date) -> list[Month]:
    """The last twelve whole months before ``today``'s, oldest first."""
    months = [(today.year, today.month)]
    for _ in range(MONTHS_FOLLOWED):
        months.append(_previous(months[-1]))
    return list(reversed(months[1:]))


def _local_date(at: dt.datetime) -> dt.date:
    return timezone.localtime(at).date()


def follow_up(today: dt.date | None = None, due: int | None = None) -> list[FollowUp]:
    """Every municipality with an agreement, late ones first."""
    today = today or timezone.localdate()
    due = due or due_day()
    months = followed_months(today)
    windows = [window(m, due) for m in months]
    municipalities = list(
        Municipality.objects.filter(agreements__isnull=False)
        .distinct()
        .prefetch_related("agreements")
        .order_by("code")
    )
    in_force = {
        agreement.municipality_id: agreement
        for agreement in Agreement.objects.in_force(today).filter(municipality__in=municipalities)
    }
    org_to_code = {m.organisation_id: m.code for m in municipalities}
    wanted = set(org_to_code.values())

    # (kommunkod) -> deliveries covering it: (received_at, delivery)
    covering: dict[str, list[Delivery]] = defaultdict(list)
    own = (
        Delivery.objects.deliveries()
        .filter(organisation_id__in=org_to_code)
        .select_related("withdrawal")
    )
    for delivery in own:
        covering[org_to_code[delivery.organisation_id]].append(delivery)
    on_behalf = list(
        Delivery.objects.deliveries()
        .filter(
            organisation__kind__in=Organisation.DELIVERING_ON_BEHALF,
            status=Delivery.Status.APPLIED,
        )
        .select_related("withdrawal")
    )
    if on_behalf:
        by_id = {d.pk: d for d in on_behalf}
        # Every transaction of the delivery, withdrawn or not: a withdrawn
        # delivery is shown as the last one but never counts as delivered.
        pairs = (
            Transaction.objects.filter(delivery_id__in=by_id, kommunkod__in=wanted)
            .values_list("kommunkod", "delivery_id")
            .distinct()
        )
        for kommunkod, delivery_id in pairs:
            covering[kommunkod].append(by_id[delivery_id])

    lines = []
    for municipality in municipalities:
        deliveries = covering.get(municipality.code, [])
        counted = [
            _local_date(d.received_at)
            for d in deliveries
            if d.status == Delivery.Status.APPLIED and not _withdrawn(d)
        ]
        agreements = list(municipality.agreements.all())
        statuses = []
        for month, (first, last) in zip(months, windows, strict=True):
            if any(first <= day <= last for day in counted):
                state = MonthState.DELIVERED
            elif not any(_in_force_during(a, month) for a in agreements):
                state = MonthState.NOT_REQUIRED
            elif today <= last:
                state = MonthState.OPEN
            else:
                state = MonthState.LATE
            statuses.append(MonthStatus(month, state))
        # Municipality.current_agreement(), on what is read already: the one in
        # force, else the latest one.
        agreement = in_force.get(municipality.pk) or max(agreements, key=lambda a: a.pk)
        lines.append(
            FollowUp(
                kommunkod=municipality.code,
                name=municipality.name,
                county_code=municipality.county_code,
                agreement_state=agreement.state(today),
                last_delivery=_last(deliveries),
                months=tuple(statuses),
            )
        )
    lines.sort(key=lambda line: (not line.late, -line.months_late, line.kommunkod))
    return lines


def _withdrawn(delivery: Delivery) -> bool:
    return hasattr(delivery, "withdrawal")


def _in_force_during(agreement, month: Month) -> bool:
    period = agreement.period()
    if period is None:
        return False
    first, last = dt.date(*month, 1), _day_in(month, 31)
    return period[0] <= last and first <= period[1]


def _last(deliveries: list[Delivery]) -> LastDelivery | None:
    if not deliveries:
        return None
    latest = max(deliveries, key=lambda d: d.received_at)
    return LastDelivery(
        id=str(latest.public_id),
        received_at=latest.received_at,
        status="withdrawn" if _withdrawn(latest) else latest.status,
        accepted=latest.accepted,
        rejected=latest.rejected,
    )


def methods_texts(due: int | None = None) -> tuple[str, str]:
    """The methods text in Swedish and English with the deployment's due day."""
    due = due or due_day()
    return METHODS_SV.format(due=due), METHODS_EN.format(due=due)
