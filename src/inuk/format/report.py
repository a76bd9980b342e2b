"""The validation report of one file, as ``inuk validate`` and the validator page show it.

Runs offline: no database, only the shipped municipality register and code list
(or the ones passed in a ``Context``). The report's shape is published::

    {"valid": bool, "format": "xml"|"csv"|"json"|None,
     "counts": {"persons": int, "transactions": int, "errors": int},
     "errors": [{"code", "field", "line", "path", "message_sv", "message_en", "value"}],
     "truncated": bool}

``errors`` lists at most ``max_errors`` entries; ``counts.errors`` counts them all.
A refused file (unreadable, not the delivery format) is reported with one error,
its refusal code, and ``refused: true``.

A large XML file is validated by several processes at once (``jobs``), each
reading one stretch of its bytes (see ``inuk.format.readers.xml``); the
report is the same as one process makes.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, NamedTuple

from inuk.format import readers
from inuk.format.errors import FileRefused, Problem
from inuk.format.readers.shards import Shard, Unshardable
from inuk.format.readers.streams import read_head
from inuk.format.validation import Checked, Context, validate

DEFAULT_MAX_ERRORS = 10_000
PROGRESS_EVERY = 5_000

#: Files smaller than this are validated by one process: starting another costs
#: about as much as it saves on them.
SHARDED_FROM_BYTES = 32 * 1024 * 1024
#: Most processes one validation uses.
MAX_JOBS = 4

ProgressCallback = Callable[[int], None]


#: Largest file read when the caller names no limit; the service passes its own
#: (``INUK_MAX_DELIVERY_BYTES``).
DEFAULT_MAX_BYTES = 2 * 1024**3


@dataclass
class Tally:
    """What a stream of validated items counts: persons, transactions, rejected, errors.

    Persons are Person blocks (in CSV, runs of rows of one person), counted as
    the reader's location moves on, so that no personnummer is remembered.
    """

    persons: int = 0
    transactions: int = 0
    rejected: int = 0
    errors: int = 0
    _last_person: tuple | None = field(default=None, compare=False)

    def __iadd__(self, other: Tally) -> Tally:
        """Add the counts of another part of the same file (a shard: no person in both)."""
        self.persons += other.persons
        self.transactions += other.transactions
        self.rejected += other.rejected
        self.errors += other.errors
        return self

    def _see_person(self, location) -> None:
        if location is None or location.person is None:
            return
        key = (location.kommun, location.person)
        if key != self._last_person:
            self._last_person = key
            self.persons += 1

    def count(self, item: Checked | Problem) -> list[Problem]:
        """Count ``item``; returns its problems (errors and warnings)."""
        if isinstance(item, Checked):
            self.transactions += 1
            location = item.record.location
            if (location.kommun, location.person) != self._last_person:
                self._see_person(location)
            problems = item.problems
            if not problems:  # the common case, cheaply
                return problems
            if not item.ok:
                self.rejected += 1
        else:
            self._see_person(item.location)
            problems = [item]
        self.errors += sum(1 for p in problems if p.severity == "error")
        return problems


class ReportBuilder:
    """Collects counts and the first errors of a stream of validated items."""

    def __init__(self, max_errors: int = DEFAULT_MAX_ERRORS) -> None:
        self.max_errors = max_errors
        self.format: str | None = None
        self.tally = Tally()
        self.errors: list[dict] = []
        self.refused: FileRefused | None = None

    def add(self, item: Checked | Problem) -> None:
        for problem in self.tally.count(item):
            if problem.severity == "error" and len(self.errors) < self.max_errors:
                self.errors.append(problem.as_dict())

    def refuse(self, refusal: FileRefused) -> None:
        self.refused = refusal
        self.errors = [refusal.as_problem().as_dict()]

    def as_dict(self) -> dict:
        tally = self.tally
        error_count = 1 if self.refused is not None else tally.errors
        report = {
            "valid": error_count == 0,
            "format": self.format,
            "counts": {
                "persons": tally.persons,
                "transactions": tally.transactions,
                "errors": error_count,
            },
            "errors": self.errors,
            "truncated": error_count > len(self.errors),
        }
        if self.refused is not None:
            report["refused"] = True
        return report


def validate_stream(
    stream: BinaryIO,
    *,
    format: str | None = None,
    max_bytes: int | None = None,
    context: Context | None = None,
    max_errors: int = DEFAULT_MAX_ERRORS,
    progress: ProgressCallback | None = None,
) -> dict:
    """Validate a delivery read from ``stream`` and return its report."""
    builder = ReportBuilder(max_errors)
    context = context or Context()
    try:
        detected, items = readers.open_delivery(
            stream, format=format, max_bytes=max_bytes or DEFAULT_MAX_BYTES
        )
        builder.format = detected
        for index, item in enumerate(validate(items, context)):
            builder.add(item)
            if progress is not None and index % PROGRESS_EVERY == 0:
                progress(items.bytes_read)
        if builder.tally.transactions == 0 and builder.tally.errors == 0:
            raise FileRefused("FILE_NO_TRANSACTIONS")
    except FileRefused as refusal:
        builder.refuse(refusal)
    return builder.as_dict()


def default_jobs() -> int:
    """Processes for one validation: the CPUs this process may use, at most ``MAX_JOBS``."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(MAX_JOBS, cpus))


def validate_path(
    path: Path,
    format: str | None = None,
    *,
    max_bytes: int | None = None,
    context: Context | None = None,
    max_errors: int = DEFAULT_MAX_ERRORS,
    progress: ProgressCallback | None = None,
    jobs: int = 1,
) -> dict:
    """Validate the delivery in the file at ``path``; a file over the limit is refused unread.

    With ``jobs`` above 1, a large XML file is validated by that many processes.
    """
    limit = max_bytes or DEFAULT_MAX_BYTES
    try:
        size = readers.check_size(path, limit)
    except FileRefused as refusal:
        builder = ReportBuilder(max_errors)
        builder.refuse(refusal)
        return builder.as_dict()
    if jobs > 1 and size >= SHARDED_FROM_BYTES and _is_xml(path, format):
        report = _validate_in_shards(
            path,
            jobs,
            context or Context(),
            max_errors=max_errors,
            max_bytes=limit,
            progress=progress,
        )
        if report is not None:
            return report
    with open(path, "rb") as stream:
        return validate_stream(
            stream,
            format=format,
            max_bytes=limit,
            context=context,
            max_errors=max_errors,
            progress=progress,
        )


def _is_xml(path: Path, format: str | None) -> bool:
    if format is not None:
        return format == "xml"
    with open(path, "rb") as stream:
        try:
            return readers.detect(read_head(stream, readers.HEAD_SIZE)) == "xml"
        except FileRefused:
            return False  # reported as it should be by the one-process path


class ShardReport(NamedTuple):
    """What one shard found: its counts and first errors, or why the file is refused."""

    tally: Tally
    errors: list[dict]
    refused: FileRefused | None


#: What parsing a part of a file costs (all a shard does with the parts before
#: its stretch) against what reading it costs beyond that (records, validation),
#: as measured on bench/validate.py's file.
SKIP_COST = 0.35


def stretches(size: int, count: int, skip_cost: float = SKIP_COST) -> list[tuple[int, int | None]]:
    """``count`` stretches of a file of ``size`` bytes that take about as long to read.

    A shard parses everything up to its stretch's end and reads its stretch,
    so later stretches are shorter. With the stretches' ends e(k) as shares of
    the file, shard k costs ``skip_cost * e(k) + (e(k) - e(k-1))``, made the
    same for every k.
    """
    ends = [0.0]
    for _ in range(count):  # each cost 1, then scaled so that the last end is 1
        ends.append((1 + ends[-1]) / (1 + skip_cost))
    cuts = [round(size * end / ends[-1]) for end in ends[1:-1]]
    bounds = [0, *cuts]
    return [(bounds[k], bounds[k + 1] if k + 1 < count else None) for k in range(count)]


def validate_shard(
    path: Path,
    shard: Shard,
    context: Context,
    *,
    max_errors: int,
    max_bytes: int,
    progress: ProgressCallback | None = None,
) -> ShardReport:
    """Validate one shard of the XML delivery at ``path``.

    Raises ``Unshardable`` if the file cannot be read in shards.
    """
    builder = ReportBuilder(max_errors)
    with open(path, "rb") as stream:
        try:
            _, items = readers.open_delivery(stream, format="xml", max_bytes=max_bytes, shard=shard)
            for index, item in enumerate(validate(items, context)):
                builder.add(item)
                if progress is not None and index % PROGRESS_EVERY == 0:
                    progress(items.bytes_read)
        except FileRefused as refusal:
            return ShardReport(builder.tally, [], refusal)
    return ShardReport(builder.tally, builder.errors, None)


def _validate_other_shard(
    path: Path,
    stretch: tuple[int, int | None],
    context: Context,
    max_errors: int,
    max_bytes: int,
) -> ShardReport:
    shard = Shard(*stretch)
    return validate_shard(path, shard, context, max_errors=max_errors, max_bytes=max_bytes)


def _validate_in_shards(
    path: Path,
    jobs: int,
    context: Context,
    *,
    max_errors: int,
    max_bytes: int,
    progress: ProgressCallback | None,
) -> dict | None:
    """The report of ``jobs`` processes each validating a shard; None if the file has none.

    This process reads the first shard itself (and shows the progress, as a
    share of its stretch), the others are read by child processes.
    """
    size = path.stat().st_size
    first, *rest = stretches(size, jobs)
    own_progress = None
    if progress is not None and first[1]:
        end = first[1]
        own_progress = lambda done: progress(min(size, done * size // end))  # noqa: E731
    with ProcessPoolExecutor(jobs - 1, mp_context=_start_method()) as pool:
        others = [
            pool.submit(_validate_other_shard, path, stretch, context, max_errors, max_bytes)
            for stretch in rest
        ]
        try:
            reports = [
                validate_shard(
                    path,
                    Shard(*first),
                    context,
                    max_errors=max_errors,
                    max_bytes=max_bytes,
                    progress=own_progress,
                ),
                *(future.result() for future in others),
            ]
        except (Unshardable, BrokenProcessPool):
            # A file that cannot be read in shards, or a child process that
            # died (out of memory, killed): this process reads the file whole.
            for future in others:
                future.cancel()
            return None
    return merge_shards(reports, max_errors)


def _start_method() -> multiprocessing.context.BaseContext:
    """Fork where it is safe, a fresh interpreter ("spawn") elsewhere.

    Forking starts a child at once with everything imported, but only a
    process with no other thread can be forked safely (a lock held by another
    thread, a progress bar's say, would stay held in the child for ever).
    """
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def merge_shards(reports: list[ShardReport], max_errors: int) -> dict:
    """The report of a whole file from the reports of its shards, in the order of the file."""
    builder = ReportBuilder(max_errors)
    builder.format = "xml"
    for report in reports:
        builder.tally += report.tally
        if report.refused is not None:
            # Every later shard parsed the same bytes: the first refusal is the file's.
            builder.refuse(report.refused)
            return builder.as_dict()
        builder.errors += report.errors[: max_errors - len(builder.errors)]
    if builder.tally.transactions == 0 and builder.tally.errors == 0:
        builder.refuse(FileRefused("FILE_NO_TRANSACTIONS"))
    return builder.as_dict()
