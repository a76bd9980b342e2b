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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.conf import settings

from inuk.intake import formats
from inuk.intake.errors import FileRefused, Problem
from inuk.intake.validation import Checked, Context, validate

DEFAULT_MAX_ERRORS = 10_000
PROGRESS_EVERY = 5_000

ProgressCallback = Callable[[int], None]


def default_max_bytes() -> int:
    if settings.configured:
        return settings.INUK_MAX_DELIVERY_BYTES
    return 2 * 1024**3


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
    _last_person: tuple | None = None

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
            self._see_person(item.record.location)
            problems = item.problems
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
        detected, items = formats.open_delivery(
            stream, format=format, max_bytes=max_bytes or default_max_bytes()
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


def validate_path(
    path: Path,
    format: str | None = None,
    *,
    max_bytes: int | None = None,
    context: Context | None = None,
    max_errors: int = DEFAULT_MAX_ERRORS,
    progress: ProgressCallback | None = None,
) -> dict:
    """Validate the delivery in the file at ``path``; a file over the limit is refused unread."""
    limit = max_bytes or default_max_bytes()
    try:
        formats.check_size(path, limit)
    except FileRefused as refusal:
        builder = ReportBuilder(max_errors)
        builder.refuse(refusal)
        return builder.as_dict()
    with open(path, "rb") as stream:
        return validate_stream(
            stream,
            format=format,
            max_bytes=limit,
            context=context,
            max_errors=max_errors,
            progress=progress,
        )
