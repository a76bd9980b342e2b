"""Which deliveries a caller sees, and the list of them filtered: one answer for every channel.

The deliveries page (``inuk.intake.views.delivery_list``), the start page and
``GET /api/v1/deliveries`` all ask ``deliveries()`` (or ``visible()`` for one
receipt), so that the same caller with the same filters gets the same
deliveries from each. Who may see which deliveries is
``inuk.accounts.scoping.delivery_scope``; this module only applies it::

    deliveries(caller, Filters(month="2026-11", status="applied"))
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from inuk.accounts.scoping import Principal, delivery_scope
from inuk.intake.models import Delivery, DeliveryQuerySet


@dataclass(frozen=True, slots=True)
class Filters:
    """What the list is narrowed to; an empty value is no filter.

    ``month``: received in that month ("2026-11"), in the service's time zone;
    ``status``: a ``Delivery.Status`` value; ``organisation``: the delivering
    organisation's number, ten digits. The page and the API check the values
    before they come here, each in its own way (a form, a schema).
    """

    month: str = ""
    status: str = ""
    organisation: str = ""

    def __bool__(self) -> bool:
        return bool(self.month or self.status or self.organisation)


def visible(principal: Principal) -> DeliveryQuerySet:
    """Every delivery ``principal`` may see the receipt of, with its organisation."""
    return Delivery.objects.filter(delivery_scope(principal)).select_related("organisation")


def deliveries(principal: Principal, filters: Filters | None = None) -> DeliveryQuerySet:
    """The deliveries ``principal`` sees, narrowed by ``filters``, newest first."""
    found = visible(principal)
    filters = filters or Filters()
    if filters.month:
        start, end = month_range(filters.month)
        found = found.filter(received_at__gte=start, received_at__lt=end)
    if filters.status:
        found = found.filter(status=filters.status)
    if filters.organisation:
        found = found.filter(organisation__orgnr=filters.organisation)
    return found.order_by("-received_at", "-id")


def month_range(month: str) -> tuple[dt.datetime, dt.datetime]:
    """The start of a month ("2025-03") and of the next, in the service's time zone."""
    year, number = (int(part) for part in month.split("-"))
    zone = timezone.get_default_timezone()
    start = dt.datetime(year, number, 1, tzinfo=zone)
    following = dt.datetime(year + number // 12, number % 12 + 1, 1, tzinfo=zone)
    return start, following
