"""``inuk validate FILE``: the offline validator that municipalities and suppliers run themselves.

Needs no server, no database and no configuration. Exit status: 0 the file is
valid, 1 it breaks rules, 2 it cannot be read as a delivery (or not at all).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from inuk.format import report as reports

EXIT_VALID, EXIT_ERRORS, EXIT_REFUSED = 0, 1, 2


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="inuk validate",
        description="Validera en leveransfil utan server. / Validate a delivery file offline.",
    )
    p.add_argument("file", type=Path, help="leveransfilen / the delivery file")
    p.add_argument(
        "--format", choices=["xml", "csv", "json"], help="annars avgörs formatet av innehållet"
    )
    p.add_argument(
        "--json", action="store_true", help="skriv rapporten som JSON / print the report as JSON"
    )
    p.add_argument(
        "--max-errors",
        type=int,
        default=reports.DEFAULT_MAX_ERRORS,
        help="högst så många fel listas (alla räknas) / list at most this many (all are counted)",
    )
    p.add_argument(
        "--max-bytes", type=int, default=None, help="största filstorlek / largest file size"
    )
    p.add_argument(
        "--jobs",
        type=_jobs,
        default=reports.default_jobs(),
        help="processer för en stor XML-fil / processes for a large XML file "
        f"(standard/default {reports.default_jobs()})",
    )
    return p


def _jobs(text: str) -> int:
    try:
        jobs = int(text)
    except ValueError:
        jobs = 0
    if not 1 <= jobs <= 64:
        raise argparse.ArgumentTypeError("ett heltal 1–64 / a whole number 1–64")
    return jobs


def run(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    if not args.file.is_file():
        message = f"Filen finns inte / No such file: {args.file}"
        if args.json:
            print(json.dumps({"valid": False, "error": message}, ensure_ascii=False))
        else:
            print(message, file=sys.stderr)
        return EXIT_REFUSED
    report = _validate(args)
    if args.json:
        json.dump(report, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        _print_summary(report)
    if report.get("refused"):
        return EXIT_REFUSED
    return EXIT_VALID if report["valid"] else EXIT_ERRORS


def _validate(args: argparse.Namespace) -> dict:
    size = args.file.stat().st_size
    kwargs = {
        "format": args.format,
        "max_bytes": args.max_bytes,
        "max_errors": args.max_errors,
        "jobs": args.jobs,
    }
    if not sys.stderr.isatty() or size < 20 * 1024 * 1024:
        return reports.validate_path(args.file, **kwargs)
    from inuk.progress import byte_progress

    with byte_progress("Validerar / Validating", size) as update:
        return reports.validate_path(args.file, progress=update, **kwargs)


def _print_summary(report: dict) -> None:
    counts = report["counts"]
    if report.get("refused"):
        error = report["errors"][0]
        print("Filen kan inte tas emot. / The file cannot be received.")
        print(f"  {error['code']}: {error['message_sv']}")
        print(f"  {' ' * len(error['code'])}  {error['message_en']}")
        if error["value"]:
            print(f"  {error['value']}")
        return
    verdict = (
        "Filen är giltig. / The file is valid."
        if report["valid"]
        else "Filen har fel. / The file has errors."
    )
    print(verdict)
    print(
        f"Format: {report['format']}  Personer/persons: {counts['persons']}  "
        f"Transaktioner/transactions: {counts['transactions']}  Fel/errors: {counts['errors']}"
    )
    for error in report["errors"]:
        where = f"rad/line {error['line']}" if error["line"] else ""
        place = " ".join(part for part in (where, error["path"]) if part)
        value = f" [{error['value']}]" if error["value"] else ""
        print(f"- {place}: {error['code']} {error['field']}{value}")
        print(f"    {error['message_sv']}")
        print(f"    {error['message_en']}")
    if report["truncated"]:
        shown = len(report["errors"])
        print(f"... {counts['errors'] - shown} fel till / more errors (visas inte / not shown)")
