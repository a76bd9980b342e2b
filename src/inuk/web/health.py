"""Is this process able to do its work? ``/healthz`` for the platform's probes.

A load balancer or an orchestrator asks often and without logging in, so the
answer is cheap, needs no session and shows nothing secret: whether each
database answers (never its address, role or error text), how long the oldest
delivery has waited for a worker, and whether every delivery being processed
has a worker that still reports. 200 when all is well, 503 otherwise, with
the same JSON body either way so that an operator sees which part failed.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections
from django.db.models import Count, Min
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

log = logging.getLogger(__name__)


@dataclass
class Health:
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(check["ok"] for check in self.checks.values())

    def as_json(self) -> dict[str, Any]:
        return {"status": "ok" if self.ok else "unavailable", "checks": self.checks}


def _database_answers(alias: str) -> dict[str, Any]:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        # The error's text may name the host and the role: logged, not shown.
        log.exception("Health check: the %s database does not answer", alias)
        return {"ok": False}
    return {"ok": True}


def _seconds_since(moment: dt.datetime | None, now: dt.datetime) -> int | None:
    return None if moment is None else max(0, int((now - moment).total_seconds()))


def _queue(now: dt.datetime) -> dict[str, Any]:
    from inuk.intake.models import Delivery

    waiting = Delivery.objects.filter(status=Delivery.Status.RECEIVED).aggregate(
        count=Count("id"), oldest=Min("received_at")
    )
    age = _seconds_since(waiting["oldest"], now)
    limit = settings.INUK_HEALTH_QUEUE_SECONDS
    return {
        "ok": age is None or age <= limit,
        "waiting": waiting["count"],
        "oldest_waiting_seconds": age,
        "limit_seconds": limit,
    }


def _workers(now: dt.datetime) -> dict[str, Any]:
    from inuk.intake.models import Delivery

    processing = Delivery.objects.filter(status=Delivery.Status.PROCESSING).aggregate(
        count=Count("id"), oldest=Min("heartbeat_at")
    )
    age = _seconds_since(processing["oldest"], now)
    limit = settings.INUK_WORKER_STALE_SECONDS
    return {
        "ok": age is None or age <= limit,
        "processing": processing["count"],
        "oldest_heartbeat_seconds": age,
        "limit_seconds": limit,
    }


def check() -> Health:
    """Each part's state; the queue and the workers only if the statistics database answers."""
    health = Health()
    health.checks["database"] = _database_answers("default")
    health.checks["vault"] = _database_answers("vault")
    if health.checks["database"]["ok"]:
        now = timezone.now()
        try:
            health.checks["queue"] = _queue(now)
            health.checks["workers"] = _workers(now)
        except DatabaseError:
            log.exception("Health check: the delivery queue could not be read")
            health.checks["queue"] = {"ok": False}
    return health


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    health = check()
    return JsonResponse(health.as_json(), status=200 if health.ok else 503)
