"""What an erasure costs, against what it is built from, in one run.

Runs on throw-away test databases (SQLite by default; PostgreSQL with
``--database-url`` and ``--vault-url``, where ``test_<name>`` is created and
dropped). Receives ``--deliveries`` synthetic deliveries of Upplands Väsby,
``--persons`` persons each, builds the statistics rollups, and then measures:

- the erasure of one person (``erase_person``): its kept files scanned and the
  one that holds the person written again, the statistics taken away for the
  person alone, the vault;
- baseline 1: a full rebuild of the rollups, what erasure did before for the
  statistics (``rollups.rebuild``);
- baseline 2: reading every kept file once (``vault.files.open_file``), the
  least the scan of the files costs.

Prints each wall time and the ratios. The statistics part of an erasure does
not grow with the database; the scan of the files grows with the kept files,
so the erasure is expected to stay close to baseline 2 and well under
baseline 1 on a large database.

    .venv/bin/python bench/erasure.py [--deliveries 20] [--persons 2000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=20)
    parser.add_argument("--persons", type=int, default=2000)
    parser.add_argument("--per-person", type=int, default=5)
    parser.add_argument("--database-url", help="postgres://...; default: SQLite")
    parser.add_argument("--vault-url", help="postgres://... for the vault; default: SQLite")
    return parser.parse_args()


def setup(args: argparse.Namespace):
    data_dir = tempfile.mkdtemp(prefix="inuk-bench-erasure-")
    os.environ["INUK_DATA_DIR"] = data_dir
    if args.database_url:
        os.environ["INUK_DATABASE_URL"] = args.database_url
    if args.vault_url:
        os.environ["INUK_VAULT_DATABASE_URL"] = args.vault_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.test.utils import setup_databases, teardown_databases

    config = setup_databases(
        verbosity=0, interactive=False, aliases={"default", "vault"}, serialized_aliases=set()
    )

    def teardown() -> None:
        teardown_databases(config, verbosity=0)
        shutil.rmtree(data_dir, ignore_errors=True)

    return teardown


def timed(step) -> float:
    started = time.perf_counter()
    step()
    return time.perf_counter() - started


def main() -> None:
    args = parse_args()
    teardown = setup(args)
    try:
        run(args)
    finally:
        teardown()


def run(args: argparse.Namespace) -> None:
    from inuk.format import synthetic, writers
    from inuk.intake.erasure import erase_person
    from inuk.intake.receive import Submission, receive
    from inuk.organisations.models import Agreement, Municipality, Organisation
    from inuk.stats import rollups
    from inuk.vault.files import open_file, stored_delivery_ids

    Agreement.objects.create(
        municipality=Municipality.objects.get(code="0114"),
        af_case_number="Af-2020/1",
        signed_by_af=dt.date(2020, 1, 1),
        signed_by_municipality=dt.date(2020, 1, 2),
    )
    vasby = Organisation.objects.get(orgnr="2120000019")
    number = None
    started = time.perf_counter()
    size = 0
    for seed in range(args.deliveries):
        kommuner = list(
            synthetic.delivery(
                synthetic.municipality("0114"),
                persons=args.persons,
                transactions_per_person=args.per_person,
                seed=100 + seed,
            )
        )
        if number is None:
            number = next(iter(kommuner[0].persons)).personnummer
        data = writers.to_bytes("xml", kommuner)
        size += len(data)
        submission = Submission(organisation=vasby, filename=f"{seed}.xml", submitted_by="bench")
        delivery = receive(io.BytesIO(data), submission, process_inline=True)
        assert delivery.status == "applied", delivery.status
    rollups.rebuild()
    print(
        f"{args.deliveries} deliveries, {size / 1e6:.1f} MB of kept files, "
        f"received in {time.perf_counter() - started:.1f} s"
    )
    assert number is not None

    def read_all() -> None:
        for delivery_id in stored_delivery_ids():
            with open_file(delivery_id) as stream:
                while stream.read(1024 * 1024):
                    pass

    read = timed(read_all)
    rebuild = timed(rollups.rebuild)
    erasure = timed(lambda: erase_person(number, reason="bench", case_number="Af-0", actor="bench"))
    print(f"erasure of one person:          {erasure:8.3f} s")
    print(f"baseline 1, rollups rebuilt:    {rebuild:8.3f} s  ratio {erasure / rebuild:.2f}")
    print(f"baseline 2, kept files read:    {read:8.3f} s  ratio {erasure / read:.2f}")


if __name__ == "__main__":
    main()
