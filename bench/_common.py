"""What the benchmarks share: the synthetic file, the bare parse they are measured
against, and running an ``inuk`` command while watching its memory."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lxml import etree

from inuk.format import hostile, synthetic, writers


def generate(path: Path, persons: int, per_person: int, *, changed_to: Path | None = None) -> None:
    """A delivery of Upplands Väsby; with ``changed_to``, also the same history, 1 % changed."""
    kommuner = synthetic.delivery(
        synthetic.municipality("0114"), persons=persons, transactions_per_person=per_person, seed=7
    )
    with open(path, "wb") as out:
        writers.write_xml(kommuner, out)
    if changed_to is not None:
        with open(changed_to, "wb") as out:
            writers.write_xml(synthetic.changed(kommuner, share=0.01, seed=8), out)


def bare_parse(path: Path) -> int:
    """lxml iterparse with the service's safety options, Python seeing only what it must."""
    count = 0
    for _, element in etree.iterparse(
        str(path),
        events=("end",),
        tag=("Insats", "Resultat", "Person"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
    ):
        if element.tag != "Person":
            count += 1
        else:
            element.clear()
    return count


def _status(pid: int, field: str) -> int:
    """A field of /proc/PID/status in KiB (0 if the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    pids, pending = [], [pid]
    while pending:
        current = pending.pop()
        pids.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += map(int, (task / "children").read_text().split())
        except OSError:
            pass
    return pids


def run_inuk(
    *args: str, env: dict | None = None
) -> tuple[subprocess.CompletedProcess, float, float]:
    """Run ``inuk ARGS`` in its own process; returns the result, the seconds it
    took, and its peak memory in MB: the most its processes held together
    (sampled every 0.1 s), or its own high-water mark if that is more."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "inuk", *args], env=env, stdout=out, stderr=err, text=True
        )
        peak_kib = 0
        while process.poll() is None:
            together = sum(_status(pid, "VmRSS:") for pid in _tree(process.pid))
            peak_kib = max(peak_kib, together, _status(process.pid, "VmHWM:"))
            time.sleep(0.1)
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        output, errors = out.read(), err.read()
    result = subprocess.CompletedProcess(process.args, process.returncode, output, errors)
    return result, seconds, peak_kib / 1024


def hostile_files(folder: Path, size_mb: int) -> list[Path]:
    """One file of each kind in ``inuk.format.hostile``, of ``size_mb`` MB each."""
    paths = []
    for kind in hostile.KINDS:
        path = folder / f"hostile-{kind}.{kind.split('-')[0]}"
        with open(path, "wb") as out:
            hostile.write(kind, out, size_mb * 1_000_000)
        paths.append(path)
    return paths


def outcome(report: dict) -> str:
    """A receipt's or a report's verdict in a few words: refused with a code, or counts."""
    errors = report.get("errors") or []
    if report.get("refused") or report.get("status") == "refused":
        return f"refused {errors[0]['code'] if errors else ''}".strip()
    codes = sorted({error["code"] for error in errors})
    return f"{report['counts']}, {', '.join(codes) or 'no errors'}"
