"""How fast the ledger applies a delivery.

Runs on a throw-away test database (SQLite by default; PostgreSQL with
``--database-url postgres://...``, where ``test_<name>`` is created and
dropped) and prints, for

- the baseline: streaming the rows into the staging table and nothing else,
  the least any bulk write of them costs;
- a first delivery of ``--rows`` transactions for ``--persons`` persons;
- a second delivery of the same rows, every hundredth changed (a full history
  sent again with corrections), which must not be slower than the first;
- a rebuild of the whole state from the ledger,

the wall time, the CPU time of this process and, when the PostgreSQL server
runs on this machine, of its server process, the rate in transactions per
second and the growth of this process's peak memory. On a busy machine the
CPU times say more than the wall time. ``--rounds N`` runs it all N times on
an emptied ledger and keeps each step's best wall time.

The pipeline's target is 90,000 transactions/s in all, so the ledger's share
should stay well under 10 s per million transactions on PostgreSQL.

    .venv/bin/python bench/ledger_apply.py
    .venv/bin/python bench/ledger_apply.py --database-url postgres://postgres@127.0.0.1:5432/inuk_bench
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
STOCKHOLM = ZoneInfo("Europe/Stockholm")
TARGET_SECONDS_PER_MILLION = 10.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--persons", type=int, default=200_000)
    parser.add_argument("--database-url", help="postgres://...; default: SQLite in a temporary dir")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args()


def setup(database_url: str | None) -> Callable[[], None]:
    data_dir = tempfile.mkdtemp(prefix="inuk-bench-ledger-")
    os.environ["INUK_DATA_DIR"] = data_dir
    if database_url:
        os.environ["INUK_DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.test.utils import setup_databases, teardown_databases

    config = setup_databases(
        verbosity=0, interactive=False, aliases={"default"}, serialized_aliases=set()
    )

    def teardown() -> None:
        teardown_databases(config, verbosity=0)
        shutil.rmtree(data_dir, ignore_errors=True)

    return teardown


def generate(rows: int, persons: int, organisation_id: int, kommunkod: str, seed: int) -> tuple:
    """A delivery: per person interventions, some ended by an Ändring or removed, and results."""
    from inuk.ledger.bulk import LedgerRow, PersonRow

    rng = random.Random(seed)
    interventions = ["SYV", "KAR", "MOT", "JSA", "PRA", "ATR", "UTB", "SPR", "SUB", "OVR"]
    results = ["ARB", "AMS", "STU", "AFI", "EGF", "FLY", "AVB", "OVR"]
    first_day = dt.date(2022, 1, 1)
    out: list[LedgerRow] = []
    people: list[PersonRow] = []
    for p in range(persons):
        pseudonym = f"{rng.getrandbits(128):032x}"
        people.append(PersonRow(pseudonym, rng.randint(1990, 2008), rng.choice("MK"), p % 50 == 0))
        # This person's share of the rows, so that the total comes out exact.
        wanted = (p + 1) * rows // persons - p * rows // persons
        made = 0
        while made < wanted:
            start = first_day + dt.timedelta(days=rng.randrange(1000))
            when = dt.datetime.combine(start, dt.time(7), STOCKHOLM) + dt.timedelta(
                seconds=rng.randrange(36_000), microseconds=rng.randrange(1_000_000)
            )
            if rng.random() < 0.25:
                kind, code = "R", rng.choice(results)
            else:
                kind, code = "I", rng.choice(interventions)
            row = LedgerRow(
                len(out), kind, organisation_id, kommunkod, pseudonym, code, start, None,
                "SystemX", when, "R",
            )  # fmt: skip
            out.append(row)
            made += 1
            follow = rng.random()
            if kind == "I" and made < wanted and follow < 0.6:  # ended: an Ändring with the end
                end = start + dt.timedelta(days=rng.randrange(10, 200))
                later = when + dt.timedelta(days=(end - start).days)
                ended = row._replace(position=len(out), end=end, transaction_time=later, status="A")
                out.append(ended)
                made += 1
            elif kind == "I" and made < wanted and follow < 0.7:  # a mistake: a Borttag
                later = when + dt.timedelta(hours=2)
                out.append(row._replace(position=len(out), transaction_time=later, status="B"))
                made += 1
    return people, out


def corrected(rows: list) -> list:
    """The same rows, every hundredth with a later Transaktionsdatum and another system."""
    return [
        row._replace(system="SystemY", transaction_time=row.transaction_time + dt.timedelta(1))
        if i % 100 == 50
        else row
        for i, row in enumerate(rows)
    ]


class ServerClock:
    """CPU seconds of the PostgreSQL server process serving this connection, if it can be read."""

    def __init__(self) -> None:
        from django.db import connection

        self.path = None
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                path = Path(f"/proc/{cursor.fetchone()[0]}/stat")
            if path.exists():
                self.path = path

    def __call__(self) -> float | None:
        if self.path is None:
            return None
        fields = self.path.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Step:
    label: str
    count: int
    wall: float = float("inf")
    client: float = 0.0
    server: float | None = None
    memory: float = 0.0
    note: str = ""

    def show(self) -> str:
        server = "      -" if self.server is None else f"{self.server:6.2f}s"
        return (
            f"{self.label:<30} {self.wall:7.2f}s {self.count / self.wall:>9,.0f}/s  "
            f"client {self.client:5.2f}s  server {server}  peak +{self.memory:4.0f} MB  {self.note}"
        )


def measure(step: Step, clock: ServerClock, call: Callable[[], object]) -> None:
    """Runs ``call`` and keeps its figures if its wall time is the best so far."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    server = clock()
    client = time.process_time()
    started = time.perf_counter()
    note = call()
    wall = time.perf_counter() - started
    if wall < step.wall:
        step.wall = wall
        step.client = time.process_time() - client
        after = clock()
        step.server = None if server is None or after is None else after - server
        step.memory = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - peak
        step.note = str(note or "")


def main() -> None:
    args = parse_args()
    teardown = setup(args.database_url)
    try:
        run(args)
    finally:
        teardown()


def run(args: argparse.Namespace) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from inuk.intake.models import Delivery
    from inuk.ledger import bulk
    from inuk.ledger.backends import backend
    from inuk.ledger.bulk import rebuild
    from inuk.ledger.models import Intervention, Person, Result, Transaction
    from inuk.organisations.models import Municipality

    municipality = Municipality.objects.get(code="0180")
    started = time.perf_counter()
    persons, rows = generate(
        args.rows, args.persons, municipality.organisation_id, municipality.code, args.seed
    )
    second = corrected(rows)
    print(
        f"{connection.vendor}: {len(rows):,} transactions of {len(persons):,} persons "
        f"(generated in {time.perf_counter() - started:.1f} s, not counted); "
        f"best of {args.rounds} round(s)"
    )
    clock = ServerClock()
    steps = {
        "baseline": Step("baseline: staging only", len(rows)),
        "first": Step("first delivery", len(rows)),
        "second": Step("second delivery, 1% changed", len(rows)),
        "rebuild": Step("rebuild of the whole state", len(rows) + len(rows) // 100),
    }

    def delivery() -> int:
        return Delivery.objects.create(
            organisation_id=municipality.organisation_id,
            received_at=timezone.now(),
            checksum=os.urandom(32).hex(),
            size=1,
        ).pk

    def baseline() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            db = backend(cursor)
            db.begin()
            db.create()
            db.stage_transactions(iter(rows))
            transaction.set_rollback(True)

    def apply(delivery_id: int, data: list) -> str:
        with transaction.atomic():
            outcome = bulk.apply_delivery(delivery_id, iter(persons), iter(data))
        return (
            f"accepted {outcome.accepted:,}, known {outcome.already_known:,}, "
            f"warnings {len(outcome.unknown_identity):,}"
        )

    def rebuilt() -> str:
        with transaction.atomic():
            rebuild()
        return f"{Intervention.objects.count():,} interventions, {Result.objects.count():,} results"

    state = Intervention.objects.values_list("code", "start", "end", "system", "removed")
    same = True
    for _ in range(args.rounds):
        with connection.cursor() as cursor:  # an empty ledger for each round
            tables = [m._meta.db_table for m in (Intervention, Result, Transaction, Person)]
            if connection.vendor == "postgresql":
                cursor.execute(f"TRUNCATE {', '.join(tables)}")
            else:
                for table in tables:
                    cursor.execute(f"DELETE FROM {table}")
        measure(steps["baseline"], clock, baseline)
        measure(steps["first"], clock, lambda: apply(delivery(), rows))
        measure(steps["second"], clock, lambda: apply(delivery(), second))
        before = Counter(state)
        measure(steps["rebuild"], clock, rebuilt)
        same = same and Counter(state) == before
    for step in steps.values():
        print(step.show())
    first, again = steps["first"].wall, steps["second"].wall
    print(f"the rebuilt state equals the incremental one: {same}")
    print(
        f"first delivery: {first * 1_000_000 / len(rows):.1f} s per million transactions "
        f"(target on PostgreSQL: under {TARGET_SECONDS_PER_MILLION:.0f} s); "
        f"second/first: {again / first:.2f} (must not exceed 1)"
    )


if __name__ == "__main__":
    main()
