"""The statistics pages' server time on the demo data, against the same pages without help.

    .venv/bin/python bench/pages.py [--data-dir DIR] [--rounds 5]

Loads ``inuk demo``'s data (or reuses it in ``--data-dir``), then asks every
statistics page a role opens (each start page, the explorer in a spread of
views, the methods page) ``--rounds`` times through Django's test client, and
prints the median and the 95th percentile of the server time:

- **as served**: rollups, and published answers kept while the data stands
  (the first round of each page is a cold miss, counted like the rest);
- **baseline**, in the same run: the same pages straight from the current
  state with nothing kept, as they would be without rollups or cache.

The target is a 95th percentile under 300 ms as served; the ratio is the
baseline's over the served one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

VIEWS = [
    "/statistik/",
    "/statistik/?indicator=started&by=sex",
    "/statistik/?indicator=ended&period_type=quarter&by=age",
    "/statistik/?indicator=results&by=code&from=2026-01&to=2026-08",
    "/statistik/?indicator=collaboration&period_type=year&geography=SE&geography=01&geography=03",
    "/statistik/?indicator=participants&by=source&by=sex&geography=0380&geography=0180",
    "/statistik/metod/",
]
STARTS = [
    ("analys@uppsala.demo.invalid", "/oversikt/"),
    ("rapport@uppsala.demo.invalid", "/oversikt/"),
    ("af.admin@demo.invalid", "/oversikt/"),
    ("af.analys@demo.invalid", "/oversikt/"),
]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(rounds: int, *, clear_between: bool) -> dict[tuple[str, str], list[float]]:
    from django.core.cache import cache
    from django.test import Client

    from inuk.accounts.models import User

    times: dict[tuple[str, str], list[float]] = {}
    requests = [(email, url) for email, url in STARTS]
    requests += [("analys@uppsala.demo.invalid", url) for url in VIEWS]
    requests += [("af.analys@demo.invalid", url) for url in VIEWS[:3]]
    clients: dict[str, Client] = {}
    for email, _ in requests:
        if email not in clients:
            clients[email] = Client(SERVER_NAME="127.0.0.1")
            clients[email].force_login(User.objects.get(email=email))
    cache.clear()
    for _ in range(rounds):
        for email, url in requests:
            if clear_between:
                cache.clear()
            started = time.perf_counter()
            response = clients[email].get(url)
            times.setdefault((email, url), []).append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="a demo data directory to reuse")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    data_dir = args.data_dir or tempfile.mkdtemp(prefix="inuk-bench-pages-")
    os.environ["INUK_DATA_DIR"] = data_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inuk.settings")
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "127.0.0.1")
    import django

    django.setup()
    from django.test.utils import setup_test_environment

    from inuk.schema import ensure_schema
    from inuk.stats import rollups
    from inuk.stats.models import RollupState
    from inuk.web.demo import load_demo_data

    setup_test_environment()
    ensure_schema()
    import inuk.wsgi  # noqa: F401 - loads the URLconf before the first request, as served

    started = time.perf_counter()
    load_demo_data()
    print(f"demo data in {data_dir}: ready in {time.perf_counter() - started:.1f} s")

    served = measure(args.rounds, clear_between=False)
    RollupState.objects.all().delete()  # the engine answers straight from the state
    try:
        baseline = measure(max(1, args.rounds // 2), clear_between=True)
    finally:
        rollups.rebuild()
    print("as served, per page: the first (cold) request, then the slowest of the rest")
    for (email, url), times in served.items():
        print(
            f"  {times[0]:7.1f} ms  {max(times[1:] or times):7.1f} ms"
            f"  {email.split('@')[0]:12} {url}"
        )
    for name, by_page in (("as served", served), ("baseline (state, no cache)", baseline)):
        times = [t for page in by_page.values() for t in page]
        print(
            f"{name:28} {len(times):4} requests  median {statistics.median(times):7.1f} ms"
            f"  p95 {percentile(times, 0.95):7.1f} ms  max {max(times):7.1f} ms"
        )
    ratio = percentile([t for p in baseline.values() for t in p], 0.95) / percentile(
        [t for p in served.values() for t in p], 0.95
    )
    print(f"p95 ratio baseline/served: {ratio:.1f}x   target: p95 as served < 300 ms")


if __name__ == "__main__":
    sys.exit(main())
