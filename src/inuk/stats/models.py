"""Rollups: the indicators pre-aggregated, kept current by ``inuk.stats.rollups``.

Distinct persons do not add up (a person in January and February is one
participant of the quarter; a person in two municipalities is one of the
county), so nothing here is summed from smaller cells: every standard period
(month, quarter, year) and every geography level (municipality, county,
country) has cells of its own, and each category combination its own row,
"total" included. Only sex adds up, a person having one, so it is kept as K
and M and summed for the total; and the lengths of interventions add up
across every category (``Length``).

Each row is a sum over persons of what that person contributes, which is what
lets ``inuk.stats.rollups`` keep it exact by adding, for the persons a
delivery touched, their contribution after minus their contribution before.
"""

from __future__ import annotations

from django.db import models


class Rollup(models.Model):
    """One cell: how many interventions and persons, and the sum of those persons' record keys.

    ``key_sum`` is not reduced modulo the key range, so that differences can
    be added; the engine reduces it. ``indicator`` is one letter (see
    ``inuk.stats.rollups.LETTER``).
    """

    pk = models.CompositePrimaryKey(
        "indicator", "period", "geography", "source", "code", "sex", "age"
    )
    indicator = models.CharField(max_length=1)
    period = models.CharField(max_length=7)  # 2026-10, 2026-Q4 or 2026
    geography = models.CharField(max_length=4)  # a kommunkod, a county code or SE
    source = models.CharField(max_length=9)  # municipal, af or total
    code = models.CharField(max_length=10)  # a code or total
    sex = models.CharField(max_length=1)  # K or M
    age = models.CharField(max_length=5)  # an age group or total
    count = models.BigIntegerField(default=0)
    persons = models.BigIntegerField(default=0)
    key_sum = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.indicator} {self.period} {self.geography}"


class Length(models.Model):
    """How many ended interventions of a period, geography and categories lasted ``days`` days.

    Kept for each intervention's own source, code, sex and age group, never
    their totals: interventions, unlike persons, add up across categories,
    so the histogram of a cell at a total is the sum of its categories'
    (``engine``), and a delivery writes one row per geography level and
    period for an ended intervention instead of one per cell it counts in.
    """

    pk = models.CompositePrimaryKey("period", "geography", "source", "code", "sex", "age", "days")
    period = models.CharField(max_length=7)
    geography = models.CharField(max_length=4)
    source = models.CharField(max_length=9)
    code = models.CharField(max_length=10)
    sex = models.CharField(max_length=1)
    age = models.CharField(max_length=5)
    days = models.IntegerField()
    count = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.period} {self.geography} {self.days}"


class Coverage(models.Model):
    """When a municipality's own reporting last arrived: the latest delivery with its records."""

    kommunkod = models.CharField(max_length=4, primary_key=True)
    last_received = models.DateTimeField()

    def __str__(self) -> str:
        return self.kommunkod


class RollupState(models.Model):
    """The rollups exist and are exact for ``as_of``: open interventions run up to that day.

    One row, or none while the rollups have not been built; without it the
    engine answers from the state and deliveries do not touch the rollups.
    """

    as_of = models.DateField()

    def __str__(self) -> str:
        return str(self.as_of)
