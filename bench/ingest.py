"""Receiving a delivery end to end, against a bare parse and a per-record ORM path, in one run.

    python bench/ingest.py [--persons 200000] [--per-person 5] [--backends postgresql,sqlite]
                           [--orm-sample 2000] [--pg-url postgres://postgres@127.0.0.1:5432]

Generates a synthetic XML delivery (by default 1,000,000 transactions of
200,000 persons) and the same history with 1 % of its transactions changed,
then measures, on each backend, with fresh databases:

- bare: lxml ``iterparse`` over the file (as in bench/validate.py);
- ``inuk ingest FILE --org ORGNR --json`` in its own process: reading,
  validation, the vault, the ledger and the current state, one transaction;
- the second delivery (the changed full history, new bytes);
- the per-record ORM path a typical Django app would write: for each
  transaction of a sample, validate it, pseudonymize its personnummer alone,
  ``get_or_create`` its person, ``save()`` it and ``update_or_create`` its state
  row; scaled to the file.

Prints transactions per second for each, the ratios, and peak memory (what
the ingest command's processes held together at most). Targets on
PostgreSQL: >= 30 % of the bare parse, >= 50x the ORM path, peak memory
< 300 MB, the changed re-delivery no slower.

Then, on each backend, the peak memory of ingesting each hostile file of
``inuk.format.hostile`` (``--hostile-mb`` MB each; 0 leaves them out), which
the readers must skip or refuse rather than hold: the target is the same 300 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import bare_parse, generate, hostile_files, outcome, run_inuk

ROOT = Path(__file__).resolve().parent.parent
ORGNR = "2120000019"  # Upplands Väsby, kommunkod 0114


def fresh_environment(backend: str, pg_url: str, scratch: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INUK_", "DJANGO_"))}
    env["INUK_DATA_DIR"] = str(scratch / backend)
    if backend == "postgresql":
        for name in ("inuk_bench", "inuk_bench_vault"):
            subprocess.run(
                ["dropdb", "--if-exists", "-h", "127.0.0.1", "-U", "postgres", name], check=True
            )
            subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
        env["INUK_DATABASE_URL"] = f"{pg_url}/inuk_bench"
        env["INUK_VAULT_DATABASE_URL"] = f"{pg_url}/inuk_bench_vault"
        keys = scratch / "vault-keys.json"
        if not keys.exists():
            from inuk.vault.keys import generate as generate_keyring

            keys.write_text(generate_keyring())
        env["INUK_VAULT_KEY_FILE"] = str(keys)
    return env


def ingest(env: dict, path: Path, *, refusable: bool = False) -> tuple[dict, float, float]:
    result, seconds, peak = run_inuk("ingest", str(path), "--org", ORGNR, "--json", env=env)
    if result.returncode not in ((0, 1, 2) if refusable else (0, 1)):
        sys.exit(f"inuk ingest failed ({result.returncode}): {result.stderr[-3000:]}")
    return json.loads(result.stdout), seconds, peak


def orm_rate(env: dict, path: Path, sample: int) -> float:
    code = ORM_PATH.format(path=str(path), sample=sample, orgnr=ORGNR)
    result, _, _ = run_inuk("shell", "-c", code, env=env)
    if result.returncode != 0:
        sys.exit(f"the ORM path failed: {result.stderr[-3000:]}")
    return float(result.stdout.strip().splitlines()[-1])


# What a typical Django app would write: every transaction through the ORM, one at a time.
ORM_PATH = """
import time
from django.db import transaction
from inuk.format import readers
from inuk.format.validation import Checked, Context, validate
from inuk.intake.models import Delivery
from inuk.ledger.models import Intervention, Person, Result, Transaction
from inuk.organisations.models import Organisation
from inuk.vault.pseudonymize import pseudonymize
from django.utils import timezone
import secrets
org = Organisation.objects.get(orgnr="{orgnr}")
delivery = Delivery.objects.create(
    organisation=org, received_at=timezone.now(), checksum="orm", size=0)
done = 0
start = time.perf_counter()
with open("{path}", "rb") as stream, transaction.atomic():
    _, items = readers.open_delivery(stream, max_bytes=10**12)
    for item in validate(items, Context()):
        if not isinstance(item, Checked) or not item.ok:
            continue
        pseudonym = pseudonymize([item.person.canonical])[item.person.canonical]
        person, _ = Person.objects.get_or_create(pseudonym=pseudonym, defaults=dict(
            birth_year=item.person.birth_year, sex=item.person.sex,
            coordination_number=item.person.coordination, record_key=secrets.randbits(31)))
        tx = Transaction(delivery=delivery, position=item.position, kind=item.record.kind,
            organisation=org, kommunkod=item.kommunkod, person=person, code=item.code,
            start=item.start, end=item.end, system=item.system,
            transaction_time=item.transaction_time, status=item.status,
            fingerprint=secrets.token_bytes(16))
        tx.save()
        model = Intervention if item.record.kind == "I" else Result
        values = dict(system=item.system, removed=item.status == "B", transaction=tx,
            transaction_time=item.transaction_time, delivery_order=delivery.pk,
            position=item.position)
        if model is Intervention:
            values["end"] = item.end
        model.objects.update_or_create(organisation=org, kommunkod=item.kommunkod, person=person,
            code=item.code, start=item.start, defaults=values)
        done += 1
        if done >= {sample}:
            break
    transaction.set_rollback(True)
print(done / (time.perf_counter() - start))
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--persons", type=int, default=200_000)
    parser.add_argument("--per-person", type=int, default=5)
    parser.add_argument("--backends", default="postgresql,sqlite")
    parser.add_argument("--orm-sample", type=int, default=2_000)
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--hostile-mb", type=int, default=20, help="size of each hostile file")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        first, second = scratch / "first.xml", scratch / "changed.xml"
        start = time.perf_counter()
        generate(first, args.persons, args.per_person, changed_to=second)
        print(
            f"files: {first.stat().st_size / 1e6:.0f} MB and {second.stat().st_size / 1e6:.0f} MB, "
            f"generated in {time.perf_counter() - start:.1f} s"
        )
        start = time.perf_counter()
        transactions = bare_parse(first)
        bare_rate = transactions / (time.perf_counter() - start)
        print(f"transactions: {transactions:,}")
        print(f"bare lxml iterparse: {bare_rate:,.0f} transactions/s")

        for backend in args.backends.split(","):
            env = fresh_environment(backend, args.pg_url, scratch)
            run_inuk(
                "agreement",
                "add",
                "--org",
                ORGNR,
                "--signed-af",
                "2020-01-01",
                "--signed-municipality",
                "2020-01-01",
                env=env,
            )
            receipt, seconds, peak = ingest(env, first)
            rate = receipt["counts"]["accepted"] / seconds
            again, seconds_again, peak_again = ingest(env, second)
            orm = orm_rate(env, first, args.orm_sample)
            print(f"\n{backend}")
            print(
                f"  first delivery:   {rate:>10,.0f} transactions/s ({seconds:.1f} s), "
                f"accepted {receipt['counts']['accepted']:,}, peak RSS {peak:.0f} MB"
            )
            print(
                f"  changed history:  {transactions / seconds_again:>10,.0f} transactions/s "
                f"({seconds_again:.1f} s), accepted {again['counts']['accepted']:,}, "
                f"already known {again['counts']['already_known']:,}, peak RSS {peak_again:.0f} MB"
            )
            print(
                f"  per-record ORM:   {orm:>10,.0f} transactions/s (sample of {args.orm_sample:,})"
            )
            print(
                f"  ratio to bare parse:     {rate / bare_rate:.2f}  (target >= 0.30 on PostgreSQL)"
            )
            print(f"  ratio to the ORM path:   {rate / orm:.0f}x  (target >= 50x)")
            print(f"  re-delivery vs first:    {seconds_again / seconds:.2f}  (target <= 1.0)")
            if args.hostile_mb:
                print(f"  hostile files of {args.hostile_mb} MB (target < 300 MB):")
                for path in hostile_files(scratch, args.hostile_mb):
                    report, took, peak = ingest(env, path, refusable=True)
                    print(f"    {path.name:32} {peak:5.0f} MB {took:5.1f} s  {outcome(report)}")


if __name__ == "__main__":
    main()
