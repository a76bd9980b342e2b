"""What counting needs, wherever the counting is done: from the state, the rollups or in SQL.

The engine (``inuk.stats.engine``) answers questions, the rollups
(``inuk.stats.rollups``, ``inuk.stats.cube``) keep figures ready; both count
interventions by the same rules, which live here, below either.
"""

from __future__ import annotations

import datetime as dt

from inuk.format.municipalities import AF_ORGNR
from inuk.organisations.models import Organisation

#: The category of a breakdown that stands for all of its categories.
TOTAL = "total"


def af_organisation_id() -> int | None:
    return Organisation.objects.filter(orgnr=AF_ORGNR).values_list("pk", flat=True).first()


def source_of(organisation_id: int, af_id: int | None) -> str:
    """AF for AF's own records; municipal for a municipality's, a supplier's or a federation's."""
    return "af" if organisation_id == af_id else "municipal"


def length_days(start: dt.date, end: dt.date) -> int:
    """An intervention's length, both its first and its last day counted."""
    return (end - start).days + 1
