"""The whole rollups (``inuk.stats.models``) built from the current state in a few SQL statements.

``rollups.contribution()`` says, person by person, which cells a person's
interventions and results put them in. Run for every person that is right
but slow (some 17 ms a person: hours for a national ledger), so ``build()``
computes the same cells set-based, on PostgreSQL and SQLite alike. The tests
hold the two equal cell by cell.

It goes in four steps, each a statement over temporary tables:

1. ``units``: one row per current intervention with what a cell selects it by
   (county, source, age group at start) and its months as numbers
   (``year * 12 + month - 1``): of its start, of its end, of the last month it
   is ongoing (its end, or today while open; none if it starts after that),
   and its length in days;
2. ``fine``: per indicator letter, the distinct (person, period label,
   kommunkod, source, code, age group) it counts a person in, ``n`` the
   number of interventions behind it (what started and ended count). Period
   labels come from ``labels`` (each month, quarter and year with its first
   and last month). Results (``R``) are an ended intervention's result codes
   in its window, the base (``B``) its code at the total; collaboration
   (``C``) is derived from participation, per geography, where a person has
   both sources;
3. every fine row is spread over the cells it counts in (``spread``): its
   kommunkod, county and the country, its source and code and age group or
   their totals. Distinct persons do not add up, but they do where a person
   has one fine row in a label (``units = 1``, most of them): those rows are
   summed per fine key first and spread as sums. Only persons with several
   fine rows in a label are spread one by one and counted once per cell;
4. the length histogram of the ended interventions, spread to the
   geographies only: interventions add up across categories, so their
   totals are summed when asked (``engine``).

Steps 3 and 4 run once per letter and year: every period label lies within
its year, so each part is exact on its own, and each part's aggregate is a
fraction of the whole, small enough to stay in memory.

Coverage is not this module's: ``rollups._cover()`` derives it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connections

from inuk.ledger.models import Intervention, Person, Result
from inuk.organisations.models import Municipality
from inuk.stats.counting import TOTAL, af_organisation_id
from inuk.stats.indicators import RESULT_WINDOW_DAYS
from inuk.stats.models import Length, Rollup
from inuk.stats.query import COUNTRY_CODE

LABELS = "stats_cube_label"
UNITS = "stats_cube_unit"
FINE = "stats_cube_fine"
SPREAD = "stats_cube_spread"
TEMPORARY = (LABELS, UNITS, FINE, SPREAD)

#: PostgreSQL's work_mem for the build: the aggregates hold millions of groups.
WORK_MEM = "512MB"

#: Which of (geography, source, code, age group) each letter spreads to its total as well.
#: The base of results is at the code total already; collaboration's rows are per
#: geography already and its source is the total.
SPREADS = {
    "P": (True, True, True, True),
    "S": (True, True, True, True),
    "E": (True, True, True, True),
    "B": (True, True, False, True),
    "R": (True, True, True, True),
    "C": (False, False, True, True),
}

#: The letters whose count is of interventions; the others count persons.
INTERVENTION_LETTERS = ("S", "E")


@dataclass(frozen=True)
class Dialect:
    """The few expressions PostgreSQL and SQLite spell differently."""

    vendor: str

    def month(self, date: str) -> str:
        """A date's month as ``year * 12 + month - 1``."""
        if self.vendor == "postgresql":
            return (
                f"(CAST(EXTRACT(YEAR FROM {date}) AS integer) * 12"
                f" + CAST(EXTRACT(MONTH FROM {date}) AS integer) - 1)"
            )
        return (
            f"(CAST(substr({date}, 1, 4) AS integer) * 12"
            f" + CAST(substr({date}, 6, 2) AS integer) - 1)"
        )

    def year(self, date: str) -> str:
        if self.vendor == "postgresql":
            return f"CAST(EXTRACT(YEAR FROM {date}) AS integer)"
        return f"CAST(substr({date}, 1, 4) AS integer)"

    def length(self, start: str, end: str) -> str:
        """``counting.length_days``: both the first and the last day counted."""
        if self.vendor == "postgresql":
            return f"({end} - {start} + 1)"
        return f"(CAST(julianday({end}) - julianday({start}) AS integer) + 1)"

    def plus_days(self, date: str, days: int) -> str:
        if self.vendor == "postgresql":
            return f"({date} + {int(days)})"
        return f"date({date}, '+{int(days)} days')"

    def date(self, placeholder: str = "%s") -> str:
        """A date parameter, passed as ISO text."""
        return f"CAST({placeholder} AS date)" if self.vendor == "postgresql" else placeholder


def _labels(first_month: int, last_month: int) -> list[tuple[str, int, int]]:
    """Every month, quarter and year label of the years from ``first_month`` to ``last_month``."""
    rows = []
    for year in range(first_month // 12, last_month // 12 + 1):
        base = year * 12
        rows.append((f"{year:04d}", base, base + 11))
        for quarter in range(4):
            first = base + 3 * quarter
            rows.append((f"{year:04d}-Q{quarter + 1}", first, first + 2))
        for month in range(12):
            rows.append((f"{year:04d}-{month + 1:02d}", base + month, base + month))
    return rows


def _spread_rows() -> list[tuple[str, int, int, int, int]]:
    """(letter, g, s, c, a): 0 keeps the fine row's own value, 1 (or 2 for g) its total."""
    rows = []
    for letter, (geography, source, code, age) in SPREADS.items():
        for g in (0, 1, 2) if geography else (0,):
            for s in (0, 1) if source else (0,):
                for c in (0, 1) if code else (0,):
                    for a in (0, 1) if age else (0,):
                        rows.append((letter, g, s, c, a))
    return rows


def _cell(row: str, spread: str) -> str:
    """The cell's geography, source, code and age group of fine row ``row`` spread by ``spread``."""
    return (
        f"CASE {spread}.g WHEN 0 THEN {row}.kommunkod WHEN 1 THEN {row}.county"
        f" ELSE '{COUNTRY_CODE}' END AS geography, "
        f"CASE {spread}.s WHEN 0 THEN {row}.source ELSE '{TOTAL}' END AS source, "
        f"CASE {spread}.c WHEN 0 THEN {row}.code ELSE '{TOTAL}' END AS code, "
        f"CASE {spread}.a WHEN 0 THEN {row}.age ELSE '{TOTAL}' END AS age"
    )


def _statements(db: Dialect) -> list[str]:
    person, intervention = Person._meta.db_table, Intervention._meta.db_table
    result, municipality = Result._meta.db_table, Municipality._meta.db_table
    rollup, length = Rollup._meta.db_table, Length._meta.db_table
    year = db.year("i.start")
    today = db.date("%(today)s")
    units = f"""
        CREATE TEMPORARY TABLE {UNITS} AS
        SELECT i.person_id, p.record_key, p.sex, i.kommunkod,
               COALESCE(m.county_code, '') AS county,
               CASE WHEN i.organisation_id = %(af)s THEN 'af' ELSE 'municipal' END AS source,
               i.code,
               CASE WHEN {year} - p.birth_year < 20 THEN '16-19'
                    WHEN {year} - p.birth_year < 25 THEN '20-24'
                    WHEN {year} - p.birth_year < 30 THEN '25-29'
                    ELSE '30+' END AS age,
               i.start, i."end",
               {db.month("i.start")} AS start_m,
               {db.month('i."end"')} AS end_m,
               CASE WHEN i.start <= COALESCE(i."end", {today})
                    THEN {db.month(f'COALESCE(i."end", {today})')} END AS last_m,
               {db.length("i.start", 'i."end"')} AS days
        FROM {intervention} i
        JOIN {person} p ON p.id = i.person_id
        LEFT JOIN {municipality} m ON m.code = i.kommunkod
        WHERE NOT i.removed
    """
    columns = "u.person_id, u.record_key, u.sex, l.label, u.kommunkod, u.county, u.source"
    window_end = db.plus_days('u."end"', RESULT_WINDOW_DAYS)
    fine = f"""
        CREATE TEMPORARY TABLE {FINE} AS
        SELECT letter, person_id, record_key, sex, label, kommunkod, county, source, code, age,
               n, count(*) OVER (PARTITION BY letter, person_id, label) AS units
        FROM (
            SELECT letter, person_id, record_key, sex, label, kommunkod, county, source, code,
                   age, count(*) AS n
            FROM (
                SELECT 'P' AS letter, {columns}, u.code, u.age
                FROM {UNITS} u JOIN {LABELS} l ON l.first_m <= u.last_m AND l.last_m >= u.start_m
                UNION ALL
                SELECT 'S', {columns}, u.code, u.age
                FROM {UNITS} u JOIN {LABELS} l ON u.start_m BETWEEN l.first_m AND l.last_m
                UNION ALL
                SELECT 'E', {columns}, u.code, u.age
                FROM {UNITS} u JOIN {LABELS} l ON u.end_m BETWEEN l.first_m AND l.last_m
                UNION ALL
                SELECT 'B', {columns}, '{TOTAL}', u.age
                FROM {UNITS} u JOIN {LABELS} l ON u.end_m BETWEEN l.first_m AND l.last_m
                UNION ALL
                SELECT 'R', {columns}, r.code, u.age
                FROM {UNITS} u
                JOIN {result} r ON r.person_id = u.person_id AND NOT r.removed
                    AND r.start >= u.start AND r.start <= {window_end}
                JOIN {LABELS} l ON u.end_m BETWEEN l.first_m AND l.last_m
            ) counted
            GROUP BY letter, person_id, record_key, sex, label, kommunkod, county, source, code,
                     age
        ) grouped
    """
    # Collaboration: per label and geography, the codes and age groups of a
    # person's ongoing interventions where both sources have one.
    collaboration = f"""
        INSERT INTO {FINE}
            (letter, person_id, record_key, sex, label, kommunkod, county, source, code, age,
             n, units)
        SELECT 'C', person_id, record_key, sex, label, geography, '', '{TOTAL}', code, age, 1,
               count(*) OVER (PARTITION BY person_id, label, geography)
        FROM (
            SELECT DISTINCT person_id, record_key, sex, label, geography, code, age
            FROM (
                SELECT person_id, record_key, sex, label, geography, code, age,
                       min(source) OVER (PARTITION BY person_id, label, geography) AS low,
                       max(source) OVER (PARTITION BY person_id, label, geography) AS high
                FROM (
                    SELECT f.person_id, f.record_key, f.sex, f.label, f.source, f.code, f.age,
                           CASE x.g WHEN 0 THEN f.kommunkod WHEN 1 THEN f.county
                                ELSE '{COUNTRY_CODE}' END AS geography
                    FROM {FINE} f
                    JOIN {SPREAD} x ON x.letter = 'P' AND x.s = 0 AND x.c = 0 AND x.a = 0
                    WHERE f.letter = 'P' AND f.person_id IN (
                        SELECT person_id FROM {UNITS}
                        GROUP BY person_id HAVING min(source) <> max(source)
                    )
                ) located
            ) sourced
            WHERE low <> high
        ) both_sources
    """
    cells = _cell("f", "x")
    grouped = "letter, label, geography, source, code, age, sex"  # as _cell and sex come
    # Rows inserted in the order of the primary key fill its index from one end
    # (PostgreSQL's B-tree) instead of touching pages all over it.
    in_key_order = "letter, label, geography, source, code, sex, age"
    # One letter and year at a time (see build()).
    in_part = "f.letter = %(letter)s AND f.label >= %(first)s AND f.label < %(after)s"
    counts = f"""
        INSERT INTO {rollup}
            (indicator, period, geography, source, code, sex, age, count, persons, key_sum)
        SELECT letter, label, geography, source, code, sex, age,
               CASE WHEN letter IN {INTERVENTION_LETTERS} THEN sum(n) ELSE sum(persons) END,
               sum(persons), sum(keys)
        FROM (
            SELECT f.letter, f.label, {cells}, f.sex, f.n, f.persons, f.keys
            FROM (
                SELECT letter, label, kommunkod, county, source, code, sex, age,
                       sum(n) AS n, count(*) AS persons, sum(record_key) AS keys
                FROM {FINE} f WHERE f.units = 1 AND {in_part}
                GROUP BY letter, label, kommunkod, county, source, code, sex, age
            ) f
            JOIN {SPREAD} x ON x.letter = f.letter
            UNION ALL
            SELECT {grouped}, sum(n), 1, record_key
            FROM (
                SELECT f.letter, f.person_id, f.record_key, f.label, {cells}, f.sex, f.n
                FROM {FINE} f JOIN {SPREAD} x ON x.letter = f.letter
                WHERE f.units > 1 AND {in_part}
            ) spread_out
            GROUP BY {grouped}, person_id, record_key
        ) per_cell
        GROUP BY {in_key_order}
        ORDER BY {in_key_order}
    """
    lengths = f"""
        INSERT INTO {length} (period, geography, source, code, sex, age, days, count)
        SELECT label, geography, source, code, sex, age, days, sum(n)
        FROM (
            SELECT f.label, {cells}, f.sex, f.days, f.n
            FROM (
                SELECT l.label, u.kommunkod, u.county, u.source, u.code, u.sex, u.age, u.days,
                       count(*) AS n
                FROM {UNITS} u JOIN {LABELS} l ON u.end_m BETWEEN l.first_m AND l.last_m
                WHERE l.label >= %(first)s AND l.label < %(after)s
                GROUP BY l.label, u.kommunkod, u.county, u.source, u.code, u.sex, u.age, u.days
            ) f
            JOIN {SPREAD} x ON x.letter = 'E' AND x.s = 0 AND x.c = 0 AND x.a = 0
        ) spread_out
        GROUP BY label, geography, source, code, sex, age, days
        ORDER BY label, geography, source, code, sex, age, days
    """
    return [units, fine, collaboration, counts, lengths]


def build(today: dt.date) -> None:
    """Fill the empty rollups and length histograms from the current state, exact for ``today``.

    Call it inside ``transaction.atomic()`` (``rollups.rebuild()`` does, having
    emptied them); ``RollupState`` and coverage are the caller's.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    db = Dialect(connection.vendor)
    params = {"today": today.isoformat(), "af": af_organisation_id()}
    units, fine, collaboration, counts, lengths = _statements(db)
    with connection.cursor() as cursor:
        if db.vendor == "postgresql":
            cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
        _drop(cursor)
        cursor.execute(units, params)
        cursor.execute(
            f"SELECT min(start_m), min(end_m), max(start_m), max(end_m), max(last_m) FROM {UNITS}"
        )
        months = [m for m in cursor.fetchone() if m is not None]
        if not months:
            _drop(cursor)
            return
        cursor.execute(
            f"CREATE TEMPORARY TABLE {LABELS} (label varchar(7), first_m integer, last_m integer)"
        )
        cursor.executemany(
            f"INSERT INTO {LABELS} (label, first_m, last_m) VALUES (%s, %s, %s)",
            _labels(min(months), max(months)),
        )
        cursor.execute(
            f"CREATE TEMPORARY TABLE {SPREAD}"
            " (letter varchar(1), g integer, s integer, c integer, a integer)"
        )
        cursor.executemany(
            f"INSERT INTO {SPREAD} (letter, g, s, c, a) VALUES (%s, %s, %s, %s, %s)",
            _spread_rows(),
        )
        if db.vendor == "postgresql":
            cursor.execute(f"ANALYZE {UNITS}")
        cursor.execute(fine)
        cursor.execute(collaboration)
        cursor.execute(f"CREATE INDEX {FINE}_part ON {FINE} (letter, label)")
        if db.vendor == "postgresql":
            cursor.execute(f"ANALYZE {FINE}")
        # A period label lies within its year, so each letter and year is a part of
        # its own: aggregates a fraction of the size, held in memory, not spilled.
        for year in range(min(months) // 12, max(months) // 12 + 1):
            part = {"first": f"{year:04d}", "after": f"{year + 1:04d}"}
            for letter in SPREADS:
                cursor.execute(counts, {**part, "letter": letter})
            cursor.execute(lengths, part)
        _drop(cursor)


def _drop(cursor) -> None:
    for table in TEMPORARY:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
