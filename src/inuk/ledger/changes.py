"""Who follows the current state as the ledger changes it.

The statistics keep rollups of the current state exact as deliveries are
applied and withdrawn and as persons are merged (``inuk.stats.rollups``). The
statistics sit above the ledger and intake (they count what those hold), so
neither calls them: they tell the followers registered here, and
``inuk.stats`` registers its rollups when Django starts
(``StatsConfig.ready``).

Every call is made inside the caller's transaction, so a follower that fails
rolls the change back with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from typing import Protocol


class Follower(Protocol):
    def delivery_applied(self, delivery_id: int) -> None: ...

    def delivery_withdrawn(self, delivery_id: int) -> None: ...

    def persons_changing(self, persons: list[int]) -> AbstractContextManager[None]: ...

    def persons_redescribed(self, described: dict[int, tuple[int, str]]) -> None: ...

    def coverage_changing(self, kommunkoder: Iterable[str]) -> None: ...


_followers: list[Follower] = []


def follow(follower: Follower) -> None:
    """Tell ``follower`` of every change from now on (once, however often it asks)."""
    if not any(f is follower for f in _followers):
        _followers.append(follower)


def delivery_applied(delivery_id: int) -> None:
    """Delivery ``delivery_id``'s transactions were appended and the state recomputed."""
    for follower in _followers:
        follower.delivery_applied(delivery_id)


def delivery_withdrawn(delivery_id: int) -> None:
    """Delivery ``delivery_id`` was withdrawn and the state recomputed."""
    for follower in _followers:
        follower.delivery_withdrawn(delivery_id)


@contextmanager
def persons_changing(persons: list[int]) -> Iterator[None]:
    """The records of ``persons`` change inside the ``with`` block."""
    with ExitStack() as stack:
        for follower in _followers:
            stack.enter_context(follower.persons_changing(persons))
        yield


def persons_redescribed(described: dict[int, tuple[int, str]]) -> None:
    """These persons' birth year or sex changed (from the given one); their records did not."""
    for follower in _followers:
        follower.persons_redescribed(described)


def coverage_changing(kommunkoder: Iterable[str]) -> None:
    """Records of these municipalities left the ledger without a delivery saying so."""
    kommunkoder = list(kommunkoder)
    for follower in _followers:
        follower.coverage_changing(kommunkoder)
