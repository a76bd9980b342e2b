"""How fast the statistics engine answers, from the rollups and straight from the state.

Runs on a throw-away test database (SQLite by default; PostgreSQL with
``--database-url postgres://...``, where ``test_<name>`` is created and
dropped). It builds a synthetic ledger of ``--persons`` persons with
``--per-person`` transactions each over 36 months, spread over every
municipality (AF delivering a third of the interventions), then measures:

- the rebuild of every rollup from the state;
- answers to a spread of questions (indicators, month/quarter/year,
  municipality/county/country, zero to two breakdowns), from the rollups and
  straight from the state: median and 95th percentile, and the ratio;
- applying a delivery of ``--delivery`` transactions of new persons (their
  whole histories, 36 months) with and without the rollup refresh, and the
  refresh itself (``rollups.delivery_applied``), timed on its own in the
  same transaction: per transaction and per person touched;
- the same for a monthly delivery of ``--delivery`` transactions from AF about
  persons already in the ledger: an Ändring or Borttag of one of their
  records, a new open intervention this month, sometimes a result;
- the rollups' size on disk next to the ledger's (PostgreSQL).

Targets (issue 9): 95th percentile under 100 ms from the rollups, at least
20x faster than straight, refresh under 2 s after a 10,000-transaction
delivery, on a national ledger (2,000,000 persons, 10,000,000 transactions).
The ledger is loaded through ``ledger.bulk.apply_delivery`` here, which is
fine for tens of thousands of persons. ``bench/stats_national.py`` measures
the same at the national size (``--scale`` a fraction of it) on PostgreSQL,
the ledger and the state written straight by COPY.

    .venv/bin/python bench/stats.py --persons 20000
    .venv/bin/python bench/stats.py --persons 20000 --no-answers --profile /tmp/refresh.prof
    .venv/bin/python bench/stats.py --database-url postgres://postgres@127.0.0.1:5432/inuk_bench
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import random
import statistics
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ledger_apply import ServerClock, setup

STOCKHOLM = ZoneInfo("Europe/Stockholm")
#: CPU seconds of this process and of the PostgreSQL server process (if it runs here) in
#: the last refresh: on a busy machine they say more than the wall time.
CPU = {"refresh": 0.0, "server": 0.0}
FIRST_DAY = dt.date(2023, 1, 1)
TODAY = dt.date(2025, 12, 31)
INTERVENTIONS = ["SYV", "KAR", "MOT", "JSA", "PRA", "ATR", "UTB", "SPR", "SUB", "OVR"]
RESULTS = ["ARB", "AMS", "STU", "AFI", "EGF", "FLY", "AVB", "OVR"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--per-person", type=int, default=5)
    parser.add_argument("--delivery", type=int, default=10_000)
    parser.add_argument("--questions", type=int, default=60)
    parser.add_argument("--database-url", help="postgres://...; default: SQLite in a temporary dir")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--no-answers", action="store_true", help="skip the answers; measure the refresh only"
    )
    parser.add_argument(
        "--check", action="store_true", help="compare the refreshed rollups with a rebuild"
    )
    parser.add_argument("--profile", help="write cProfile statistics of the refreshes here")
    return parser.parse_args()


def rows_for(rng, pseudonym: str, kommunkod: str, count: int, organisation: int, af: int):
    from inuk.ledger.bulk import LedgerRow

    out = []
    while len(out) < count:
        start = FIRST_DAY + dt.timedelta(days=rng.randrange(1095))
        when = dt.datetime.combine(start, dt.time(8), STOCKHOLM) + dt.timedelta(
            seconds=rng.randrange(30_000), microseconds=rng.randrange(1_000_000)
        )
        if rng.random() < 0.25:
            out.append(
                LedgerRow(0, "R", organisation, kommunkod, pseudonym, rng.choice(RESULTS), start,
                          None, "SystemX", when, "R")
            )  # fmt: skip
            continue
        deliverer = af if rng.random() < 0.33 else organisation
        end = start + dt.timedelta(days=rng.randrange(5, 250)) if rng.random() < 0.8 else None
        out.append(
            LedgerRow(0, "I", deliverer, kommunkod, pseudonym, rng.choice(INTERVENTIONS), start,
                      end, "SystemX", when, "R")
        )  # fmt: skip
    return out


def deliver(
    delivery_rows, persons, organisation, *, refresh: bool, profile=None, keep: bool = True
) -> tuple[float, float]:
    """Apply a delivery (rolled back unless ``keep``); returns the seconds the apply and the
    refresh took."""
    from django.db import transaction
    from django.utils import timezone

    from inuk.intake.models import Delivery
    from inuk.ledger.bulk import apply_delivery
    from inuk.stats import rollups

    delivery = Delivery.objects.create(
        organisation_id=organisation,
        received_at=timezone.now(),
        checksum=f"{random.getrandbits(256):064x}",
        size=1,
    )
    rows = [row._replace(position=i) for i, row in enumerate(delivery_rows)]
    refreshed = 0.0
    began = time.perf_counter()
    with transaction.atomic():
        apply_delivery(delivery.pk, persons, rows)
        if refresh:
            server = ServerClock()
            started, cpu, server_cpu = time.perf_counter(), time.process_time(), server()
            if profile is not None:
                profile.enable()
            rollups.delivery_applied(delivery.pk)
            if profile is not None:
                profile.disable()
            refreshed = time.perf_counter() - started
            CPU["refresh"] = time.process_time() - cpu
            CPU["server"] = (server() or 0.0) - (server_cpu or 0.0)
        applied = time.perf_counter() - began - refreshed
        transaction.set_rollback(not keep)
    return applied, refreshed


def build(args, rng) -> tuple[dict[str, int], list[tuple]]:
    """The ledger: one delivery per municipality, AF's records riding along in it.

    Returns the municipalities' organisations and each person's (PersonRow, rows)."""
    from inuk.format.municipalities import AF_ORGNR
    from inuk.ledger.bulk import PersonRow
    from inuk.organisations.models import Municipality, Organisation

    af = Organisation.objects.get(orgnr=AF_ORGNR).pk
    municipalities = dict(Municipality.objects.values_list("code", "organisation_id"))
    codes = sorted(municipalities)
    per_kommun: dict[str, list] = {code: [] for code in codes}
    people: dict[str, list] = {code: [] for code in codes}
    histories = []
    for p in range(args.persons):
        kommunkod = codes[p % len(codes)]
        pseudonym = f"{rng.getrandbits(128):032x}"
        person = PersonRow(pseudonym, rng.randint(1990, 2008), rng.choice("KM"), False)
        people[kommunkod].append(person)
        rows = rows_for(rng, pseudonym, kommunkod, args.per_person, municipalities[kommunkod], af)
        per_kommun[kommunkod] += rows
        histories.append((person, rows))
    for code in codes:
        if per_kommun[code]:
            deliver(per_kommun[code], people[code], municipalities[code], refresh=False)
    return municipalities, histories


def monthly(rng, histories, count: int, af: int) -> tuple[list, list]:
    """A month's delivery about persons of the ledger: an Ändring (or a Borttag) of one
    of their interventions, a new open intervention of AF's this month, sometimes a result."""
    from inuk.ledger.bulk import LedgerRow

    when = dt.datetime(2026, 1, 2, 8, 0, tzinfo=STOCKHOLM)
    people, rows = [], []
    for person, history in rng.sample(histories, len(histories)):
        if len(rows) >= count:
            break
        people.append(person)
        kommunkod = history[0].kommunkod
        ours = [row for row in history if row.kind == "I"]
        if ours:
            old = rng.choice(ours)
            if rng.random() < 0.1:
                rows.append(old._replace(status="B"))
            else:
                base = old.end or old.start
                end = max(old.start, base + dt.timedelta(days=rng.randrange(-20, 60)))
                rows.append(old._replace(end=end, status="A"))
        start = TODAY - dt.timedelta(days=rng.randrange(30))
        rows.append(
            LedgerRow(0, "I", af, kommunkod, person.pseudonym, rng.choice(INTERVENTIONS), start,
                      None, "SystemX", when, "R")
        )  # fmt: skip
        if rng.random() < 0.3:
            day = TODAY - dt.timedelta(days=rng.randrange(60))
            rows.append(
                LedgerRow(0, "R", af, kommunkod, person.pseudonym, rng.choice(RESULTS), day,
                          None, "SystemX", when, "R")
            )  # fmt: skip
    rows = [row._replace(transaction_time=when + dt.timedelta(seconds=i)) for i, row in
            enumerate(rows[:count])]  # fmt: skip
    return people, rows


def questions(rng, count: int):
    from inuk.stats.query import Query

    periods = ["2025-06", "2024-11", "2025-Q2", "2024-Q4", "2025", "2024"]
    geographies = [["0114"], ["1480"], ["01"], ["14"], ["SE"], ["0114", "01", "SE"]]
    breakdowns = [(), ("sex",), ("code",), ("age",), ("source",), ("code", "sex"), ("age", "sex")]
    indicators = ["participants", "started", "ended", "results", "collaboration"]
    return [
        Query.parse(
            indicator=rng.choice(indicators),
            period=rng.choice(periods),
            geographies=rng.choice(geographies),
            by=rng.choice(breakdowns),
        )
        for _ in range(count)
    ]


def timed(fn, items) -> list[float]:
    out = []
    for item in items:
        began = time.perf_counter()
        fn(item)
        out.append(time.perf_counter() - began)
    return out


def report(what: str, seconds: float, transactions: int, persons: int) -> None:
    print(
        f"{what}: {seconds * 1e6 / transactions:.0f} µs per transaction,"
        f" {seconds * 1e3 / persons:.2f} ms per person touched"
        f" (CPU: this process {CPU['refresh']:.2f} s, the database server {CPU['server']:.2f} s)"
    )


def contents() -> tuple[set, set]:
    """The rollups' rows that count anything (rows fallen to zero are left by a refresh)."""
    from inuk.stats.models import Length, Rollup

    cells = Rollup.objects.exclude(count=0, persons=0, key_sum=0).values_list(
        "indicator", "period", "geography", "source", "code", "sex", "age",
        "count", "persons", "key_sum",
    )  # fmt: skip
    lengths = Length.objects.exclude(count=0).values_list(
        "period", "geography", "source", "code", "sex", "age", "days", "count"
    )
    return set(cells), set(lengths)


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]


def sizes() -> tuple[int, int] | None:
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sum(pg_total_relation_size(c.oid)) FILTER (WHERE relname LIKE 'stats_%%'),"
            " sum(pg_total_relation_size(c.oid)) FILTER (WHERE relname LIKE 'ledger_%%')"
            " FROM pg_class c WHERE relkind = 'r'"
        )
        rollups, ledger = cursor.fetchone()
    return int(rollups or 0), int(ledger or 0)


def main() -> None:
    args = parse_args()
    teardown = setup(args.database_url)
    try:
        from inuk.format.municipalities import AF_ORGNR
        from inuk.ledger.bulk import PersonRow
        from inuk.ledger.models import Intervention, Transaction
        from inuk.organisations.models import Organisation
        from inuk.stats import engine, rollups

        rng = random.Random(args.seed)
        began = time.perf_counter()
        municipalities, histories = build(args, rng)
        print(
            f"ledger: {Transaction.objects.count():,} transactions, {args.persons:,} persons,"
            f" {Intervention.objects.count():,} interventions ({time.perf_counter() - began:.1f} s)"
        )
        began = time.perf_counter()
        rollups.rebuild(TODAY)
        print(f"rollups rebuilt: {time.perf_counter() - began:.1f} s")

        if not args.no_answers:
            asked = questions(rng, args.questions)
            rolled = timed(lambda q: engine.compute(q, today=TODAY), asked)
            straight = timed(lambda q: engine.compute_straight(q, today=TODAY), asked)
            for q in asked[:10]:
                assert (
                    engine.compute(q, today=TODAY).cells
                    == engine.compute_straight(q, today=TODAY).cells
                )
            ratio = statistics.median(straight) / statistics.median(rolled)
            print(
                f"answers from rollups: median {statistics.median(rolled) * 1000:.1f} ms,"
                f" p95 {p95(rolled) * 1000:.1f} ms (target p95 < 100 ms)"
            )
            print(
                f"straight from state:  median {statistics.median(straight) * 1000:.1f} ms,"
                f" p95 {p95(straight) * 1000:.1f} ms; rollups {ratio:.0f}x faster (target >= 20x)"
            )

        af = Organisation.objects.get(orgnr=AF_ORGNR).pk
        vasby = municipalities["0114"]
        profile = cProfile.Profile() if args.profile else None
        rng = random.Random(args.seed + 1)  # the same deliveries with or without the answers
        timings = {}
        for refresh in (False, True):
            people, rows = [], []
            persons = max(1, args.delivery // args.per_person)
            for _ in range(persons):
                pseudonym = f"{rng.getrandbits(128):032x}"
                people.append(
                    PersonRow(pseudonym, rng.randint(1990, 2008), rng.choice("KM"), False)
                )
                rows += rows_for(rng, pseudonym, "0114", args.per_person, vasby, af)
            # Without the refresh the rollups would fall behind: that one is rolled back.
            timings[refresh] = deliver(
                rows[: args.delivery], people, vasby, refresh=refresh, profile=profile, keep=refresh
            )
        applied, refreshed = timings[True]
        print(
            f"a {args.delivery:,}-transaction delivery of {persons:,} new persons: applied in"
            f" {timings[False][0]:.2f} s without the refresh, {applied:.2f} s with it;"
            f" refresh {refreshed:.2f} s (target < 2 s)"
        )
        report("  refresh", refreshed, args.delivery, persons)

        people, rows = monthly(rng, histories, args.delivery, af)
        applied, refreshed = deliver(rows, people, af, refresh=True, profile=profile)
        print(
            f"a monthly {len(rows):,}-transaction delivery about {len(people):,} persons of the"
            f" ledger: applied in {applied:.2f} s; refresh {refreshed:.2f} s (target < 2 s)"
        )
        report("  refresh", refreshed, len(rows), len(people))
        if profile is not None:
            profile.dump_stats(args.profile)
        if args.check:
            kept = contents()
            began = time.perf_counter()
            rollups.rebuild(TODAY)
            rebuilt = time.perf_counter() - began
            assert kept == contents(), "the refreshed rollups differ from a rebuild"
            print(f"the refreshed rollups equal a rebuild ({rebuilt:.1f} s)")
        measured = sizes()
        if measured:
            rollup_size, ledger_size = (size / 2**20 for size in measured)
            print(f"on disk: rollups {rollup_size:.0f} MiB, ledger {ledger_size:.0f} MiB")
    finally:
        teardown()


if __name__ == "__main__":
    main()
