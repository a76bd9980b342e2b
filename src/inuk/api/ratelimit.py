"""How many API requests one token (or one logged-in user) may make per minute.

A sliding-window counter: one count per caller and calendar minute in the
cache, and the estimate ``previous minute × the share of it still inside the
last 60 seconds + this minute``. Two cache entries per caller, updated with
the cache's atomic ``incr``, and no burst of twice the limit at a minute's
turn as a plain per-minute counter allows.

The counts live in Django's default cache: with the embedded default (a
local-memory cache) each web process counts on its own, so N processes let a
caller make up to N times the limit; configure a shared cache to count across
processes. The limit is ``INUK_API_RATE_PER_MINUTE``.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache

from inuk.api.errors import ApiError

WINDOW = 60
_PREFIX = "inuk:api-rate"


def limit() -> int:
    return settings.INUK_API_RATE_PER_MINUTE


def _count_key(caller: str, window: int) -> str:
    return f"{_PREFIX}:{caller}:{window}"


def hit(caller: str, *, clock: Callable[[], float] = time.time) -> None:
    """Count one request by ``caller``; raises ``ApiError("RATE_LIMITED")`` over the limit.

    A refused request is not counted, so a client that waits as told by
    ``Retry-After`` gets through.
    """
    allowed = limit()
    now = clock()
    window = int(now // WINDOW)
    elapsed = now - window * WINDOW
    key = _count_key(caller, window)
    cache.add(key, 0, timeout=2 * WINDOW + 5)
    try:
        current = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=2 * WINDOW + 5)
        current = 1
    previous = cache.get(_count_key(caller, window - 1), 0)
    weight = (WINDOW - elapsed) / WINDOW
    if previous * weight + current <= allowed:
        return
    # A refused request does not count (unless the count expired meanwhile).
    with contextlib.suppress(ValueError):
        cache.decr(key)
    raise ApiError(
        "RATE_LIMITED",
        headers={"Retry-After": str(_retry_after(previous, current - 1, elapsed, allowed))},
    )


def _retry_after(previous: int, current: int, elapsed: float, allowed: int) -> int:
    """Whole seconds until one more request fits under the limit."""
    if current + 1 > allowed:
        # This minute alone is full: wait for the next, where it counts as "previous".
        wait = WINDOW - elapsed
        # ...and until enough of it has slid out: current × (1 - t/60) + 1 <= allowed.
        if current > 0:
            wait += max(0.0, WINDOW * (1 - (allowed - 1) / current))
        return max(1, math.ceil(wait))
    # previous × (60 - elapsed - t) / 60 + current + 1 <= allowed
    needed = WINDOW - elapsed - WINDOW * (allowed - current - 1) / previous
    return max(1, math.ceil(needed))
