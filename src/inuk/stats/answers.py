"""Published answers, kept for as long as the figures behind them stand.

A page asks many questions at once (a start page some 120: five indicators
over 24 months), and the same ones again for the next visitor of the same
municipality. What a question gets depends only on the current state, the day
(ongoing interventions run up to today) and the viewer's audience, and
protection is a function of the cell, so an answer can be kept and served
again until any of those changes.

The figures change when a delivery is applied or withdrawn, when the rollups
are rebuilt, and at midnight; ``data_version()`` reads those from the
database, so every web process on every machine sees the same version, and a
kept answer is never served across a change. Other changes (an edited code
list or group, an erasure) are bounded by ``TIMEOUT``.

Only published answers are kept, never a true table, so the cache holds
nothing a viewer could not be shown.
"""

from __future__ import annotations

import hashlib

from django.core.cache import cache
from django.db.models import Count, Max
from django.utils import timezone

from inuk.intake.models import Delivery
from inuk.ledger.models import Withdrawal
from inuk.stats.disclosure import Audience, protect
from inuk.stats.engine import compute
from inuk.stats.query import Query
from inuk.stats.table import Published

#: Seconds an answer is kept at most, whatever happens.
TIMEOUT = 300


def data_version() -> str:
    """What the figures stand on: the day, the latest delivery finished, withdrawals, rollups."""
    from inuk.stats.models import RollupState

    finished = Delivery.objects.aggregate(latest=Max("finished_at"))["latest"]
    withdrawals = Withdrawal.objects.aggregate(n=Count("pk"), latest=Max("withdrawn_at"))
    rollups = RollupState.objects.values_list("pk", "as_of").first()
    parts = (timezone.localdate(), finished, withdrawals["n"], withdrawals["latest"], rollups)
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def _key(query: Query, audience: Audience, version: str) -> str:
    question = repr(
        (
            query.indicator,
            query.period,
            [(g.code, sorted(g.municipalities)) for g in query.geographies],
            query.by,
            query.source,
        )
    )
    digest = hashlib.sha256(question.encode()).hexdigest()[:32]
    return f"inuk:stats:{version}:{audience}:{digest}"


def answer(query: Query, audience: Audience, *, version: str | None = None) -> Published:
    """``protect(compute(query), audience)``, kept while the figures stand."""
    version = version or data_version()
    key = _key(query, audience, version)
    published = cache.get(key)
    if published is None:
        published = protect(compute(query), audience)
        cache.set(key, published, TIMEOUT)
    return published


def answers(queries: list[Query], audience: Audience) -> list[Published]:
    """Several answers on one reading of the data's version."""
    version = data_version()
    keys = [_key(query, audience, version) for query in queries]
    kept = cache.get_many(keys)
    result = []
    fresh = {}
    for query, key in zip(queries, keys, strict=True):
        published = kept.get(key)
        if published is None:
            published = protect(compute(query), audience)
            fresh[key] = published
        result.append(published)
    if fresh:
        cache.set_many(fresh, TIMEOUT)
    return result


def follow_up_lines() -> list:
    """The delivery follow-up (``inuk.stats.follow_up``), kept while the deliveries stand."""
    from inuk.stats import follow_up

    key = f"inuk:follow-up:{data_version()}"
    lines = cache.get(key)
    if lines is None:
        lines = follow_up.follow_up()
        cache.set(key, lines, TIMEOUT)
    return lines
