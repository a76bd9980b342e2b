"""Synthetic data for ``inuk demo``: a few municipalities under agreement, with deliveries."""

from __future__ import annotations

from collections.abc import Iterator


def load_demo_data() -> Iterator[str]:
    yield "Referensdata laddad / reference data loaded"
