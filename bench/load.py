"""Deliveries per minute and API latency under concurrent load, on PostgreSQL.

    python bench/load.py [--municipalities 50] [--persons 3] [--per-person 2] [--clients 8]
                         [--pg-url postgres://postgres@127.0.0.1:5432/inuk_bench]

The load of the deployment test (tests/deployment/test_deployment.py): each of
``--municipalities`` municipalities sends its month's file over loopback, at
most ``--clients`` requests at a time, some the same file twice at once,
through a round-robin TCP proxy to two ``inuk serve`` processes, and follows
its receipt until it is final (a look each second, as ``inuk submit --wait``
would, give or take). Meanwhile four clients ask the statistics API
(``/api/v1/stats/participants``, the whole country by sex) one question
after another. Measured, each on fresh copies of the same provisioned databases:

1. baseline: the same files received one after another in one process
   (``receive()`` with inline processing, no web server);
2. two web processes and one ``inuk worker``;
3. two web processes and two workers.

Prints deliveries per minute for each, the p50/p95/p99 latency of the receipt
and statistics requests under load, and the ratios: two workers against one
(the scaling), and each against the single process.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from tests.deployment import cluster, files  # noqa: E402

STATS_CLIENTS = 4


def percentiles(seconds: list[float]) -> str:
    if len(seconds) < 2:
        return "n/a"
    cuts = statistics.quantiles(seconds, n=100)
    return (
        f"p50 {cuts[49] * 1000:7.1f} ms  p95 {cuts[94] * 1000:7.1f} ms  "
        f"p99 {cuts[98] * 1000:7.1f} ms  ({len(seconds)} requests)"
    )


def ask_statistics(base: str, token: str, stop: threading.Event, latencies: list[float]) -> None:
    year = time.strftime("%Y")
    with httpx.Client(timeout=60) as client:
        while not stop.is_set():
            started = time.perf_counter()
            answer = client.get(
                f"{base}/api/v1/stats/participants",
                params={"period": year, "geography": "SE", "by": "sex"},
                headers={"Authorization": f"Bearer {token}"},
            )
            latencies.append(time.perf_counter() - started)
            if answer.status_code != 200:
                sys.exit(f"the statistics API answered {answer.status_code}: {answer.text[:300]}")


def under_load(template, planned, tokens, scratch: Path, workers: int, clients: int) -> dict:
    """A deployment of two web processes and ``workers`` workers on a copy of ``template``."""
    with cluster.databases(f"load{workers}", copy_of=template) as dbs:
        env = cluster.environment(
            scratch / "data",
            dbs.urls,
            INUK_INLINE_MAX_BYTES="0",
            INUK_API_RATE_PER_MINUTE="1000000",
        )
        with cluster.deployment(env, scratch / f"logs{workers}") as running:
            ports = running.serve("web1", "web2")
            for n in range(workers):
                running.worker(f"worker{n + 1}")
            with cluster.Proxy(ports) as proxy:
                base = f"http://127.0.0.1:{proxy.port}"
                receipts: list[float] = []
                asked: list[float] = []
                stop = threading.Event()
                askers = [
                    threading.Thread(
                        target=ask_statistics, args=(base, tokens["read"], stop, asked)
                    )
                    for _ in range(STATS_CLIENTS)
                ]
                for asker in askers:
                    asker.start()
                started = time.perf_counter()
                try:
                    sent = cluster.deliver_all(
                        base, tokens, planned, clients=clients, latencies=receipts
                    )
                finally:
                    seconds = time.perf_counter() - started
                    stop.set()
                    for asker in askers:
                        asker.join()
        wrong = [(item.name, r["status"]) for item, _, r in sent if r["status"] != item.expected]
        if wrong:
            sys.exit(f"receipts not as expected: {wrong[:5]}")
        return {"seconds": seconds, "receipts": receipts, "statistics": asked}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--municipalities", type=int, default=50)
    parser.add_argument("--persons", type=int, default=3, help="persons in each file")
    parser.add_argument("--per-person", type=int, default=2, help="transactions per person")
    parser.add_argument("--clients", type=int, default=8, help="requests at a time")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("INUK_DATABASE_URL")
        or "postgres://postgres@127.0.0.1:5432/inuk_bench",
        help="names the server; the databases are made and dropped beside this one",
    )
    args = parser.parse_args()
    os.environ["INUK_DATABASE_URL"] = args.pg_url
    planned = files.plan(args.municipalities, persons=args.persons, per_person=args.per_person)
    count = len(planned)
    transactions = count * args.persons * args.per_person
    print(
        f"{count} deliveries ({transactions} transactions, "
        f"{sum(p.twice for p in planned)} sent twice at once), {args.clients} clients"
    )
    with tempfile.TemporaryDirectory(prefix="inuk-load-") as tmp:
        scratch = Path(tmp)
        directory = files.write(planned, scratch / "files")
        with cluster.databases("loadbase") as template:
            env = cluster.environment(scratch / "data", template.urls)
            tokens = cluster.inside(env, "provision", *[p.kommunkod for p in planned])

            with cluster.databases("load0", copy_of=template) as single:
                alone = cluster.inside({**env, **single.urls}, "ingest", str(directory))
            one = under_load(template, planned, tokens, scratch, 1, args.clients)
            two = under_load(template, planned, tokens, scratch, 2, args.clients)

    rate = {
        "single process": count / alone["seconds"] * 60,
        "2 web + 1 worker": count / one["seconds"] * 60,
        "2 web + 2 workers": count / two["seconds"] * 60,
    }
    print()
    print("deliveries per minute (sent to all final, receipts followed by the clients):")
    for name, value in rate.items():
        print(f"  {name:<20} {value:8.1f}")
    for name, run in (("1 worker", one), ("2 workers", two)):
        print(f"latency under load, {name}:")
        print(f"  GET /api/v1/deliveries/ID      {percentiles(run['receipts'])}")
        print(f"  GET /api/v1/stats/participants {percentiles(run['statistics'])}")
    print()
    scaling = rate["2 web + 2 workers"] / rate["2 web + 1 worker"]
    against = rate["2 web + 2 workers"] / rate["single process"]
    print(f"scaling, 2 workers / 1 worker:   {scaling:.2f}x")
    print(f"2 workers / single process:      {against:.2f}x")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
