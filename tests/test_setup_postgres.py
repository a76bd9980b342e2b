"""``inuk setup-postgres``: each role reaches its own database and is refused by the other."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import psycopg
import pytest
from django.conf import settings
from psycopg import sql

from inuk.vault.keys import generate

pytestmark = [
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="PostgreSQL's roles and privileges",
    ),
    pytest.mark.slow,  # `inuk setup-postgres` and the service run as processes
]


def _url(role: str, database: str) -> str:
    server = settings.DATABASES["default"]
    return f"postgres://{role}@{server['HOST'] or 'localhost'}:{server['PORT'] or 5432}/{database}"


@pytest.fixture
def names():
    """Database and role names of this test only; dropped at the end, whatever happened."""
    suffix = secrets.token_hex(4)
    chosen = {
        "stats": f"inuk_setup_{suffix}",
        "stats_role": f"inuk_setup_{suffix}_role",
        "vault": f"inuk_setup_vault_{suffix}",
        "vault_role": f"inuk_setup_vault_{suffix}_role",
    }
    yield chosen
    with psycopg.connect(_url("postgres", "postgres"), autocommit=True) as admin:
        for database in (chosen["stats"], chosen["vault"]):
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
            )
        for role in (chosen["stats_role"], chosen["vault_role"]):
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def _inuk(names: dict, tmp_path, *args: str, code: str = "") -> subprocess.CompletedProcess:
    environment = {
        **os.environ,
        "INUK_DATA_DIR": str(tmp_path),
        "INUK_DATABASE_URL": _url(names["stats_role"], names["stats"]),
        "INUK_VAULT_DATABASE_URL": _url(names["vault_role"], names["vault"]),
        "INUK_VAULT_KEY": generate(),
    }
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    command = [sys.executable, "-c", code] if code else [sys.executable, "-m", "inuk", *args]
    return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=300)


def _refused(role: str, database: str) -> str:
    with pytest.raises(psycopg.OperationalError) as refusal:
        psycopg.connect(_url(role, database)).close()
    return str(refusal.value)


def test_each_role_is_refused_by_the_other_s_database_and_the_service_runs(names, tmp_path):
    admin = _url("postgres", "postgres")
    made = _inuk(names, tmp_path, "setup-postgres", "--admin-url", admin)
    assert made.returncode == 0, made.stderr
    again = _inuk(names, tmp_path, "setup-postgres", "--admin-url", admin)
    assert again.returncode == 0, again.stderr  # running it twice is harmless

    assert "permission denied for database" in _refused(names["stats_role"], names["vault"])
    assert "permission denied for database" in _refused(names["vault_role"], names["stats"])

    migrated = _inuk(names, tmp_path, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    migrated = _inuk(names, tmp_path, "migrate", "--database", "vault")
    assert migrated.returncode == 0, migrated.stderr
    served = _inuk(
        names,
        tmp_path,
        code=(
            "import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'inuk.settings';"
            " django.setup(); from django.test import Client;"
            " r = Client(HTTP_HOST='localhost').get('/healthz');"
            " print(r.status_code, r.content.decode())"
        ),
    )
    assert served.returncode == 0, served.stderr
    assert served.stdout.startswith("200 "), served.stdout

    with psycopg.connect(_url(names["stats_role"], names["stats"])) as own:
        tables = own.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        assert tables.fetchone()[0] > 10  # the service's schema, made by its own role
    with psycopg.connect(_url(names["vault_role"], names["vault"])) as own:
        assert own.execute("SELECT count(*) FROM vault_identity").fetchone() == (0,)


def test_one_role_for_both_databases_is_refused(names, tmp_path):
    names = {**names, "vault_role": names["stats_role"]}
    made = _inuk(names, tmp_path, "setup-postgres", "--admin-url", _url("postgres", "postgres"))
    assert made.returncode != 0
    assert "the vault needs a role of its own" in made.stderr
    with psycopg.connect(_url("postgres", "postgres")) as admin:
        found = admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [names["stats_role"]])
        assert found.fetchone() is None  # nothing was made
