"""Validator speed and memory against a bare lxml parse of the same file, in one run.

    python bench/validate.py [--persons 200000] [--per-person 5] [--rounds 3] [--keep DIR]

Generates a synthetic XML delivery (by default 1,000,000 transactions of
200,000 persons), then measures:

- bare: lxml ``iterparse`` over the file with the same safety options, Python
  seeing only the Insats, Resultat and Person elements and clearing them: the
  least any XML reader in Python can do;
- ``inuk validate FILE --json``, the offline validator, in its own process, as
  users run it: on a machine with several CPUs it reads a large XML file in
  as many shards (``--jobs``, at most 4), one process each;
- the same with ``--jobs 1``, one process, for comparison.

The three are run in turn, ``--rounds`` times, and each one's best time is
kept: a machine shared with others slows some runs down, and the best of a
few says what the code can do. Prints the throughputs, the ratios and the
validator's peak memory (what its processes held together at most, in any
round). Targets: ratio >= 0.5, peak memory < 200 MB.

Then the same peak memory for each hostile file of ``inuk.format.hostile``
(``--hostile-mb`` MB each; 0 leaves them out), which a reader must skip or
refuse rather than hold: the target is the same 200 MB.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from _common import bare_parse, generate, hostile_files, outcome, run_inuk

from inuk.format.report import SHARDED_FROM_BYTES, default_jobs


def run_validator(path: Path, *options: str, refusable: bool = False) -> tuple[dict, float, float]:
    result, seconds, peak_mb = run_inuk(
        "validate", str(path), "--json", "--max-errors", "100", *options
    )
    if result.returncode not in ((0, 1, 2) if refusable else (0, 1)):
        sys.exit(f"the validator failed: {result.stderr[-2000:]}")
    return json.loads(result.stdout), seconds, peak_mb


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--persons", type=int, default=200_000)
    parser.add_argument("--per-person", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3, help="runs of each; the best is kept")
    parser.add_argument("--keep", type=Path, help="write the file here and keep it")
    parser.add_argument("--hostile-mb", type=int, default=20, help="size of each hostile file")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        path = (args.keep or Path(scratch)) / "bench-delivery.xml"
        path.parent.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        generate(path, args.persons, args.per_person)
        size_mb = path.stat().st_size / 1e6
        print(f"file: {size_mb:.0f} MB generated in {time.perf_counter() - start:.1f} s")

        bare_seconds = seconds = one_seconds = float("inf")
        peak_mb = one_peak_mb = 0.0
        for _ in range(args.rounds):
            start = time.perf_counter()
            transactions = bare_parse(path)
            bare_seconds = min(bare_seconds, time.perf_counter() - start)
            report, took, peak = run_validator(path)
            seconds, peak_mb = min(seconds, took), max(peak_mb, peak)
            one, took, peak = run_validator(path, "--jobs", "1")
            one_seconds, one_peak_mb = min(one_seconds, took), max(one_peak_mb, peak)
        counted = report["counts"]["transactions"]
        bare_rate = transactions / bare_seconds
        rate = counted / seconds
        one_rate = one["counts"]["transactions"] / one_seconds

    ratio = rate / bare_rate
    jobs = default_jobs() if size_mb * 1e6 >= SHARDED_FROM_BYTES else 1
    print(f"transactions:        {transactions:,} ({report['counts']['persons']:,} persons)")
    print(f"best of {args.rounds} round{'s' if args.rounds > 1 else ''} each:")
    print(f"bare lxml iterparse: {bare_rate:>12,.0f} transactions/s ({bare_seconds:.2f} s)")
    print(
        f"inuk validate:       {rate:>12,.0f} transactions/s ({seconds:.2f} s, whole command, "
        f"{jobs} process{'es' if jobs > 1 else ''})"
    )
    print(f"ratio:               {ratio:.2f}  (target >= 0.50)")
    print(
        f"  with --jobs 1:     {one_rate:>12,.0f} transactions/s ({one_seconds:.2f} s), "
        f"ratio {one_rate / bare_rate:.2f}"
    )
    print(
        f"validator peak RSS:  {peak_mb:.0f} MB with {jobs} process{'es' if jobs > 1 else ''}, "
        f"{one_peak_mb:.0f} MB with one  (target < 200 MB)"
    )
    print(f"errors found:        {report['counts']['errors']} (a synthetic file is valid: 0)")
    if counted != transactions:
        sys.exit("the validator counted a different number of transactions")
    if args.hostile_mb:
        hostile_peaks(args.hostile_mb)


def hostile_peaks(size_mb: int) -> None:
    print(f"hostile files of {size_mb} MB, peak RSS of inuk validate (target < 200 MB):")
    with tempfile.TemporaryDirectory() as scratch:
        for path in hostile_files(Path(scratch), size_mb):
            report, seconds, peak_mb = run_validator(path, "--jobs", "1", refusable=True)
            print(f"  {path.name:32} {peak_mb:5.0f} MB {seconds:5.1f} s  {outcome(report)}")


if __name__ == "__main__":
    main()
