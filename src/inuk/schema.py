"""Bringing both databases' schema up to date, as every command that uses them does first."""

from __future__ import annotations

from django.core.management import call_command
from django.db import connections
from django.db.migrations.executor import MigrationExecutor


def pending(alias: str) -> bool:
    executor = MigrationExecutor(connections[alias])
    return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))


def ensure_schema(verbosity: int = 0) -> None:
    for alias in ("default", "vault"):
        if pending(alias):
            call_command("migrate", database=alias, interactive=False, verbosity=verbosity)
