"""The statistics engine on a national ledger: rollup rebuild, answers, refresh and sizes.

PostgreSQL only. In ``test_<name>`` of ``--database-url`` (created and
dropped) it writes a synthetic national ledger straight into the tables by
COPY, not through ingest: ``--scale`` times 2,000,000 persons with some
10,000,000 transactions over the 36 months up to today, in all 290
municipalities (a few large, many small), AF delivering about a third of the
interventions, lengths of a few days to two years (median about three
months), results in and out of the 90-day window, some interventions removed
by a Borttag and some still open. Every transaction lies in the monthly
delivery of its deliverer, and the current state (interventions, results) is
derived from the ledger by ``ledger.bulk.rebuild()``, so the two agree.

Then, in the same run:

- the set-based rebuild of every rollup (``rollups.rebuild()``);
- a spread of questions (indicators, month/quarter/year, municipality/county/
  country, zero to two breakdowns) answered as the API answers them
  (``answers.answer``, the cache emptied before each, protected by the cell
  key method) and by ``engine.compute`` from the rollups; then the same
  questions straight from the state (``engine.compute_straight``), the
  baseline: median, 95th percentile and the ratio;
- a 10,000-transaction delivery of Stockholm (existing persons' interventions
  ended, new ones, results) applied as ``intake.processing`` applies it,
  once without the rollup refresh (rolled back) and once with it; at a small
  ``--scale`` Stockholm has too few persons for it, and ``--whole-ledger``
  fills it with Stockholm's records of persons from every municipality;
- the rollup tables' size on disk next to the ledger's.

Targets (issue 9): p95 under 100 ms from the rollups, at least 20x faster
than straight, refresh under 2 s.

    .venv/bin/python bench/stats_national.py \\
        --database-url postgres://postgres@127.0.0.1:5432/inuk_bench --scale 0.05
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import math
import pstats
import random
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ledger_apply import ServerClock, setup

STOCKHOLM = ZoneInfo("Europe/Stockholm")
PERSONS = 2_000_000
MONTHS = 36
INTERVENTIONS = {"SYV": 6, "KAR": 5, "MOT": 4, "JSA": 8, "PRA": 7, "ATR": 3, "UTB": 9, "SPR": 3,
                 "SUB": 2, "OVR": 2}  # fmt: skip
RESULTS = {"ARB": 9, "AMS": 3, "STU": 8, "AFI": 2, "EGF": 1, "FLY": 1, "AVB": 4, "OVR": 2}
LARGE = {"0180": 60, "1480": 40, "1280": 25, "0380": 12, "0580": 10, "1880": 10, "0581": 9}
COLUMNS = (
    "delivery_id, position, kind, organisation_id, kommunkod, person_id, code, start, "
    '"end", system, transaction_time, status, fingerprint, withdrawn'
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="postgres://...")
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of national size")
    parser.add_argument("--questions", type=int, default=60)
    parser.add_argument("--delivery", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--repeat", type=int, default=3, help="refreshes measured, each rolled back (median)"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="print where the refresh's time goes in this process (cProfile, top 30)",
    )
    parser.add_argument(
        "--whole-ledger",
        action="store_true",
        help="fill the delivery with persons of every municipality when Stockholm's are too few",
    )
    return parser.parse_args()


class World:
    """The reference data the ledger is drawn on, and the monthly deliveries."""

    def __init__(self, today: dt.date) -> None:
        from inuk.format.municipalities import AF_ORGNR
        from inuk.organisations.models import Municipality, Organisation

        self.today = today
        self.af = Organisation.objects.get(orgnr=AF_ORGNR).pk
        self.organisation = dict(Municipality.objects.values_list("code", "organisation_id"))
        self.codes = sorted(self.organisation)
        rng = random.Random(0)
        # Sizes: a long tail of small municipalities and a few large cities.
        weights = [LARGE.get(code, rng.paretovariate(1.6)) for code in self.codes]
        self.cumulative = list(_accumulate(weights))
        first = _add_months(today.replace(day=1), -(MONTHS - 1))
        self.first_day = first
        self.months = [_add_months(first, i) for i in range(MONTHS)]
        self.deliveries: dict[tuple[int, int], int] = {}  # (organisation, month index) -> id
        self.positions: dict[int, int] = defaultdict(int)

    def month_index(self, day: dt.date) -> int:
        return (day.year - self.first_day.year) * 12 + day.month - self.first_day.month

    def create_deliveries(self) -> None:
        """One delivery per deliverer and month, received on the 5th of the month after."""
        from django.utils import timezone

        from inuk.intake.models import Delivery

        now = timezone.now()
        made = []
        for organisation in [*self.organisation.values(), self.af]:
            for i, month in enumerate(self.months):
                received = dt.datetime.combine(
                    _add_months(month, 1).replace(day=5), dt.time(9), STOCKHOLM
                )
                made.append(
                    Delivery(
                        organisation_id=organisation,
                        received_at=min(received, now),
                        finished_at=min(received, now),
                        checksum=f"{organisation:032x}{i:032x}",
                        size=1,
                        status=Delivery.Status.APPLIED,
                        filename=f"{month:%Y-%m}.xml",
                    )
                )
        for delivery in Delivery.objects.bulk_create(made, batch_size=2000):
            index = self.months.index(dt.date.fromisoformat(delivery.filename[:7] + "-01"))
            self.deliveries[delivery.organisation_id, index] = delivery.pk

    def delivery_of(self, organisation: int, moment: dt.datetime) -> tuple[int, int]:
        delivery = self.deliveries[organisation, self.month_index(moment.date())]
        position = self.positions[delivery]
        self.positions[delivery] = position + 1
        return delivery, position


def _accumulate(values):
    total = 0.0
    for value in values:
        total += value
        yield total


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _moment(rng: random.Random, day: dt.date, latest: dt.date) -> dt.datetime:
    """A Transaktionsdatum some days after ``day``, never after ``latest``."""
    when = min(day + dt.timedelta(days=rng.randrange(25)), latest)
    return dt.datetime.combine(when, dt.time(8), STOCKHOLM) + dt.timedelta(
        seconds=rng.randrange(28_000), microseconds=rng.randrange(1_000_000)
    )


def draw_person(rng: random.Random, world: World, person_id: int, pseudonym: str):
    """One person's transactions, as (kind, organisation, code, start, end, moment, status)."""
    today = world.today
    latest = today - dt.timedelta(days=1)
    span = (latest - world.first_day).days
    out = []
    identities = set()
    ended: list[tuple[dt.date, dt.date]] = []
    kommunkod = world.codes[_pick(rng, world.cumulative)]
    home = world.organisation[kommunkod]
    for _ in range(rng.choice((1, 1, 1, 2, 2, 2, 3, 3, 4))):
        organisation = world.af if rng.random() < 1 / 3 else home
        code = rng.choices(list(INTERVENTIONS), weights=list(INTERVENTIONS.values()))[0]
        start = world.first_day + dt.timedelta(days=rng.randrange(span))
        if (organisation, code, start) in identities:
            continue
        identities.add((organisation, code, start))
        registered = _moment(rng, start, latest)
        out.append(("I", organisation, code, start, None, registered, "R"))
        if rng.random() < 0.03:  # a mistake, taken back
            out.append(("I", organisation, code, start, None, registered + dt.timedelta(1), "B"))
            continue
        days = min(730, max(1, int(rng.lognormvariate(math.log(90), 0.8))))
        end = start + dt.timedelta(days=days - 1)
        if rng.random() < 0.02:
            continue  # never reported ended: open
        reported = _moment(rng, end, latest)
        if end > latest or reported <= registered:
            continue  # still ongoing, as far as anyone has reported
        out.append(("I", organisation, code, start, end, reported, "A"))
        ended.append((start, end))
    for _ in range(rng.choice((0, 0, 1, 1, 1, 2))):
        if ended and rng.random() < 0.7:
            _, end = rng.choice(ended)
            start = end + dt.timedelta(days=rng.randrange(-10, 120))
        else:
            start = world.first_day + dt.timedelta(days=rng.randrange(span))
        if start > latest:
            continue
        organisation = world.af if rng.random() < 0.4 else home
        code = rng.choices(list(RESULTS), weights=list(RESULTS.values()))[0]
        if (organisation, code, start) in identities:
            continue
        identities.add((organisation, code, start))
        out.append(("R", organisation, code, start, None, _moment(rng, start, latest), "R"))
    return kommunkod, out


def _pick(rng: random.Random, cumulative: list[float]) -> int:
    import bisect

    return bisect.bisect(cumulative, rng.random() * cumulative[-1])


def load(args, world: World, rng: random.Random) -> tuple[int, int]:
    """Persons and transactions by COPY; the state derived from them. Returns their counts."""
    from django.db import connection, transaction

    from inuk.ledger import bulk
    from inuk.ledger.fingerprint import digest, utc
    from inuk.ledger.rows import LedgerRow

    persons = max(1, round(PERSONS * args.scale))
    transactions = 0
    # psycopg allows one COPY at a time on a connection: persons first, then the ledger.
    drawn = []
    with transaction.atomic(), connection.cursor() as cursor:
        with cursor.copy(
            "COPY ledger_person (id, pseudonym, birth_year, sex, coordination_number,"
            " record_key) FROM STDIN"
        ) as people:
            for person_id in range(1, persons + 1):
                pseudonym = f"{rng.getrandbits(128):032x}"
                born = rng.randint(world.today.year - 29, world.today.year - 16)
                if rng.random() < 0.05:
                    born -= rng.randint(1, 10)
                people.write_row(
                    (person_id, pseudonym, born, rng.choice("KM"), rng.random() < 0.02,
                     rng.getrandbits(32))
                )  # fmt: skip
                drawn.append(pseudonym)
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('ledger_person', 'id'), %s)", [persons]
        )
        with cursor.copy(f"COPY ledger_transaction ({COLUMNS}) FROM STDIN") as ledger:
            for person_id, pseudonym in enumerate(drawn, start=1):
                kommunkod, rows = draw_person(rng, world, person_id, pseudonym)
                for kind, organisation, code, start, end, moment, status in rows:
                    delivery, position = world.delivery_of(organisation, moment)
                    row = LedgerRow(position, kind, organisation, kommunkod, pseudonym, code,
                                    start, end, "SystemX", moment, status)  # fmt: skip
                    ledger.write_row(
                        (delivery, position, kind, organisation, kommunkod, person_id, code,
                         start, end, "SystemX", moment, status, digest(row, utc(moment)), 0)
                    )  # fmt: skip
                    transactions += 1
    del drawn
    with transaction.atomic():
        bulk.rebuild()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return persons, transactions


def questions(rng: random.Random, count: int, today: dt.date):
    """A spread of questions over the last two years: every indicator, period kind, level."""
    from inuk.stats.query import Query

    last = _add_months(today.replace(day=1), -1)
    periods = [
        f"{last:%Y-%m}",
        f"{_add_months(last, -7):%Y-%m}",
        f"{last.year}-Q{(last.month - 1) // 3 + 1}",
        f"{last.year - 1}-Q4",
        f"{last.year}",
        f"{last.year - 1}",
    ]
    geographies = [["0114"], ["1480"], ["0180"], ["01"], ["14"], ["SE"], ["0114", "01", "SE"]]
    breakdowns = [(), ("sex",), ("code",), ("age",), ("source",), ("code", "sex"), ("age", "sex")]
    indicators = ["participants", "started", "ended", "results", "collaboration"]
    return [
        Query.parse(
            indicator=indicators[i % len(indicators)],
            period=rng.choice(periods),
            geographies=rng.choice(geographies),
            by=rng.choice(breakdowns),
        )
        for i in range(count)
    ]


class Clock:
    """Wall time, and CPU time of this process and of its PostgreSQL server process.

    On a busy machine the CPU times say more than the wall time: they are
    what the work costs, whoever else is running.
    """

    def __init__(self) -> None:
        self.server = ServerClock()

    def now(self) -> tuple[float, float]:
        server = self.server()
        return time.perf_counter(), time.process_time() + (server or 0.0)

    def since(self, began: tuple[float, float]) -> tuple[float, float]:
        wall, cpu = self.now()
        return wall - began[0], cpu - began[1]


def timed(clock: Clock, fn, items) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of ``fn`` on each item."""
    walls, cpus = [], []
    for item in items:
        began = clock.now()
        fn(item)
        wall, cpu = clock.since(began)
        walls.append(wall)
        cpus.append(cpu)
    return walls, cpus


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, math.ceil(len(values) * 0.95) - 1)]


def ms(values: tuple[list[float], list[float]]) -> str:
    walls, cpus = values
    return (
        f"median {statistics.median(walls) * 1000:8.1f} ms, p95 {p95(walls) * 1000:8.1f} ms"
        f" (CPU median {statistics.median(cpus) * 1000:7.1f} ms, p95 {p95(cpus) * 1000:7.1f} ms)"
    )


def stockholm_delivery(rng: random.Random, world: World, size: int, *, whole_ledger: bool = False):
    """A month's delivery of Stockholm: open interventions ended, new ones, results.

    At a small ``--scale`` Stockholm has too few persons for a delivery of
    ``size``; with ``whole_ledger`` persons of the other municipalities fill it.
    """
    from inuk.ledger.bulk import LedgerRow, PersonRow
    from inuk.ledger.models import Intervention, Person

    kommunkod = "0180"
    organisation = world.organisation[kommunkod]
    latest = world.today
    moment = dt.datetime.combine(latest, dt.time(7), STOCKHOLM)
    open_ = list(
        Intervention.objects.current()
        .filter(kommunkod=kommunkod, organisation_id=organisation, end__isnull=True)
        .values_list("person__pseudonym", "code", "start")[: size // 2]
    )
    rows = []
    for pseudonym, code, start in open_:
        end = max(start, latest - dt.timedelta(days=rng.randrange(20)))
        rows.append(LedgerRow(0, "I", organisation, kommunkod, pseudonym, code, start, end,
                              "SystemX", moment, "A"))  # fmt: skip
        moment += dt.timedelta(microseconds=1)
    others = list(
        Person.objects.filter(interventions__kommunkod=kommunkod)
        .values_list("pseudonym", flat=True)
        .distinct()[:size]
    )
    for i, pseudonym in enumerate(others):
        if len(rows) >= size:
            break
        start = latest - dt.timedelta(days=rng.randrange(25))
        kind = "R" if i % 3 == 0 else "I"
        code = rng.choice(list(RESULTS if kind == "R" else INTERVENTIONS))
        rows.append(LedgerRow(0, kind, organisation, kommunkod, pseudonym, code, start, None,
                              "SystemX", moment, "R"))  # fmt: skip
        moment += dt.timedelta(microseconds=1)
    if whole_ledger:
        # Persons of other municipalities with interventions of Stockholm's, as if they
        # had moved there: ended this month after one to six months, or starting now.
        used = {row.pseudonym for row in rows}
        elsewhere = (
            Person.objects.filter(interventions__isnull=False)
            .exclude(pseudonym__in=used)
            .values_list("pseudonym", flat=True)
            .distinct()[: max(0, size - len(rows))]
        )
        for i, pseudonym in enumerate(elsewhere):
            ended = i % 2 == 1
            days = rng.randrange(30, 200) if ended else rng.randrange(25)
            start = latest - dt.timedelta(days=days)
            end = latest - dt.timedelta(days=rng.randrange(20)) if ended else None
            kind = "R" if i % 6 == 0 else "I"
            code = rng.choice(list(RESULTS if kind == "R" else INTERVENTIONS))
            rows.append(LedgerRow(0, kind, organisation, kommunkod, pseudonym, code, start,
                                  end if kind == "I" else None, "SystemX", moment,
                                  "R"))  # fmt: skip
            moment += dt.timedelta(microseconds=1)
    rows = [row._replace(position=i) for i, row in enumerate(rows[:size])]
    pseudonyms = {row.pseudonym for row in rows}
    persons = [
        PersonRow(*values)
        for values in Person.objects.filter(pseudonym__in=pseudonyms).values_list(
            "pseudonym", "birth_year", "sex", "coordination_number"
        )
    ]
    return organisation, persons, rows


def apply(
    clock: Clock, organisation: int, persons, rows, *, refresh: bool, keep=True, profile=False
):
    """Apply a delivery as ``intake.processing`` does; without the refresh (or ``keep``)
    it is rolled back."""
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
    with transaction.atomic():
        began = clock.now()
        apply_delivery(delivery.pk, persons, rows)
        if refresh and profile:
            profiler = cProfile.Profile()
            profiler.runcall(rollups.delivery_applied, delivery.pk)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
        elif refresh:
            rollups.delivery_applied(delivery.pk)
        took = clock.since(began)
        if not refresh or not keep:
            transaction.set_rollback(True)
    return took


def vacuum() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM")


def sizes() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, pg_total_relation_size(c.oid) FROM pg_class c"
            " WHERE relkind = 'r' AND (relname LIKE 'stats_%%' OR relname LIKE 'ledger_%%')"
        )
        return dict(cursor.fetchall())


def main() -> None:
    args = parse_args()
    if not args.database_url.startswith("postgres"):
        sys.exit("bench/stats_national.py runs on PostgreSQL only (--database-url postgres://...)")
    teardown = setup(args.database_url)
    try:
        run(args)
    finally:
        teardown()


def run(args) -> None:
    from django.core.cache import cache
    from django.utils import timezone

    from inuk.ledger.models import Intervention, Result
    from inuk.stats import answers, engine, rollups
    from inuk.stats.disclosure import Audience
    from inuk.stats.models import Length, Rollup

    today = timezone.localdate()
    rng = random.Random(args.seed)
    world = World(today)
    began = time.perf_counter()
    world.create_deliveries()
    persons, transactions = load(args, world, rng)
    print(
        f"ledger (scale {args.scale}): {transactions:,} transactions, {persons:,} persons,"
        f" {Intervention.objects.current().count():,} interventions,"
        f" {Result.objects.current().count():,} results,"
        f" {len(world.deliveries):,} deliveries; loaded by COPY and state derived in"
        f" {time.perf_counter() - began:.0f} s"
    )

    clock = Clock()
    began = clock.now()
    rollups.rebuild(today)
    rebuilt, cpu = clock.since(began)
    print(
        f"rollups rebuilt (set-based): {rebuilt:.1f} s (CPU {cpu:.1f} s, client and server),"
        f" {Rollup.objects.count():,} cells,"
        f" {Length.objects.count():,} length rows"
    )

    asked = questions(rng, args.questions, today)

    def by_api(query) -> None:
        cache.clear()
        answers.answer(query, Audience.PROTECTED)

    engine.compute(asked[0])  # connections and caches warm
    api = timed(clock, by_api, asked)
    rolled = timed(clock, lambda q: engine.compute(q, today=today), asked)
    assert all(engine.compute(q, today=today).origin == "rollup" for q in asked)
    straight = timed(clock, lambda q: engine.compute_straight(q, today=today), asked)
    for query in asked[:8]:
        assert (
            engine.compute(query, today=today).cells
            == engine.compute_straight(query, today=today).cells
        ), query
    print(f"{len(asked)} questions")
    slowest = sorted(zip(api[0], asked, strict=True), key=lambda pair: -pair[0])[:3]
    for took, query in slowest:
        where = ",".join(g.code for g in query.geographies)
        print(
            f"  slowest as the API answers: {took * 1000:6.1f} ms  {query.indicator}"
            f" {query.period.label} {where} by {','.join(query.by) or '-'}"
        )
    print(f"  as the API answers (uncached, protected): {ms(api)}   (target p95 < 100 ms)")
    print(f"  engine.compute from the rollups:          {ms(rolled)}")
    print(f"  straight from the state (baseline):       {ms(straight)}")
    for name, (of_straight, of_rolled, of_api) in (
        ("wall", (straight[0], rolled[0], api[0])),
        ("CPU", (straight[1], rolled[1], api[1])),
    ):
        ratio = statistics.median(of_straight) / statistics.median(of_rolled)
        print(
            f"  {name}: straight / rollups median {ratio:.0f}x,"
            f" p95 {p95(of_straight) / p95(of_rolled):.0f}x; straight / API median"
            f" {statistics.median(of_straight) / statistics.median(of_api):.0f}x (target >= 20x)"
        )

    organisation, people, rows = stockholm_delivery(
        rng, world, args.delivery, whole_ledger=args.whole_ledger
    )

    def refresh(*, fresh: bool) -> tuple[float, float]:
        """The refresh's median time over ``--repeat`` applications, each rolled back."""
        took = []
        for _ in range(args.repeat):
            vacuum()  # what the last one rolled back is no weight on this one
            if fresh:  # as in a process that has refreshed for no delivery before
                vars(rollups._cubes).clear()
            without = apply(clock, organisation, people, rows, refresh=False)
            within = apply(clock, organisation, people, rows, refresh=True, keep=False)
            took.append((within[0] - without[0], within[1] - without[1]))
        return statistics.median(t[0] for t in took), statistics.median(t[1] for t in took)

    if args.profile:
        apply(clock, organisation, people, rows, refresh=True, keep=False, profile=True)
    fresh = refresh(fresh=True)
    # As a worker that has refreshed for deliveries before, which knows the spreads
    # (``rollups.MAX_SPREADS``): here all of this delivery's, so the most it can gain.
    known = refresh(fresh=False)
    applied = apply(clock, organisation, people, rows, refresh=True)
    print(
        f"a {len(rows):,}-transaction delivery ({len(people):,} persons): applied with the"
        f" rollup refresh in {applied[0]:.2f} s; the refresh (median of {args.repeat})"
        f" {fresh[0]:.2f} s (CPU {fresh[1]:.2f} s) in a fresh process, {known[0]:.2f} s"
        f" (CPU {known[1]:.2f} s) with its spreads known (target < 2 s)"
    )
    for query in questions(random.Random(2), 10, today):
        if query.geographies[0].code in ("0180", "01", "SE"):
            assert (
                engine.compute(query, today=today).cells
                == engine.compute_straight(query, today=today).cells
            ), query

    measured = sizes()
    rollup_size = sum(v for k, v in measured.items() if k in ("stats_rollup", "stats_length"))
    ledger_size = sum(
        v for k, v in measured.items() if k in ("ledger_transaction", "ledger_person",
                                                 "ledger_intervention", "ledger_result")
    )  # fmt: skip
    for name in ("stats_rollup", "stats_length", "ledger_transaction", "ledger_intervention",
                 "ledger_result", "ledger_person"):  # fmt: skip
        print(f"  {name:<20} {measured.get(name, 0) / 2**20:9.0f} MiB")
    print(
        f"on disk: rollups {rollup_size / 2**20:.0f} MiB, ledger and state"
        f" {ledger_size / 2**20:.0f} MiB ({rollup_size / ledger_size:.2f}x)"
    )


if __name__ == "__main__":
    main()
