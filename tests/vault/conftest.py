"""Helpers for the vault's tests: a look at every stored cell, keyrings of their own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connections

from inuk.vault import keys
from inuk.vault.keys import generate


def stored_cells(alias: str) -> Iterator[tuple[str, object]]:
    """(table, value) for every cell of every table in a database."""
    connection = connections[alias]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {quote(table)}")
            for row in cursor.fetchall():
                for value in row:
                    yield table, value


def leaks(alias: str, numbers: list[str]) -> list[str]:
    """Tables of a database in which any of the numbers appears in clear, 12 or 10 digits."""
    needles = [form for n in numbers for form in (n, n[2:], f"{n[2:8]}-{n[8:]}")]
    found = set()
    for table, value in stored_cells(alias):
        if value is None:
            continue
        if isinstance(value, memoryview | bytes | bytearray):
            haystack = bytes(value)
            if any(needle.encode() in haystack for needle in needles):
                found.add(table)
        elif any(needle in str(value) for needle in needles):
            found.add(table)
    return sorted(found)


@pytest.fixture
def keyring_text(settings) -> str:
    """A keyring of the test's own, as a deployment would pass it in INUK_VAULT_KEY."""
    settings.INUK_VAULT_KEY = generate()
    return settings.INUK_VAULT_KEY


@pytest.fixture
def embedded(settings, tmp_path, monkeypatch):
    """The embedded default in a data directory of the test's own: no INUK_VAULT_KEY.

    Counted as embedded even when the suite runs on PostgreSQL, so that the key
    file's handling is tested there too.
    """
    settings.INUK_VAULT_KEY = None
    settings.DATA_DIR = tmp_path
    monkeypatch.setattr(keys, "is_embedded", lambda: True)
    return tmp_path
