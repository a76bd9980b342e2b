"""Two PostgreSQL databases, each reachable only by its own role.

The statistics database and the identity vault are kept apart so that a
leaked statistics credential reads no personnummer, and the vault's reads
nothing else. PostgreSQL lets every role connect to every database unless
told otherwise (``CONNECT`` is granted to ``PUBLIC``); here it is taken from
``PUBLIC`` and given to the owning role only, so each role is refused by the
other's database however the server authenticates.

The names come from the service's own configuration (``INUK_DATABASE_URL``,
``INUK_VAULT_DATABASE_URL``): the database, its role and, if the URL has
one, the role's password. Running it again changes nothing that is right.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg import sql


class SetupError(Exception):
    """The configuration cannot give two separate databases."""


def _target(alias: str, database: Mapping[str, Any]) -> tuple[str, str, str]:
    if database["ENGINE"] != "django.db.backends.postgresql":
        raise SetupError(f"The {alias} database is not a postgres:// URL.")
    if not database.get("USER"):
        raise SetupError(f"The {alias} database's URL names no role (postgres://ROLE@host/db).")
    return database["NAME"], database["USER"], database.get("PASSWORD") or ""


def prepare(admin_url: str, alias: str, database: Mapping[str, Any], other_role: str) -> list[str]:
    """Create or correct ``database`` and its role, as the superuser of ``admin_url``.

    Returns what was done, one line each, for the operator.
    """
    name, role, password = _target(alias, database)
    done: list[str] = []
    with psycopg.connect(admin_url, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone()
        login: sql.Composable = sql.SQL("LOGIN")
        if password:
            login = sql.SQL("LOGIN PASSWORD {}").format(sql.Literal(password))
        verb = "ALTER" if exists else "CREATE"
        admin.execute(sql.SQL(verb + " ROLE {} {}").format(sql.Identifier(role), login))
        done.append(f"role {role}: {'updated' if exists else 'created'}")
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(name), sql.Identifier(role)
                )
            )
            done.append(f"database {name}: created, owned by {role}")
        else:
            admin.execute(
                sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                    sql.Identifier(name), sql.Identifier(role)
                )
            )
        admin.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(name)))
        if admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [other_role]).fetchone():
            admin.execute(
                sql.SQL("REVOKE ALL ON DATABASE {} FROM {}").format(
                    sql.Identifier(name), sql.Identifier(other_role)
                )
            )
        admin.execute(
            sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(
                sql.Identifier(name), sql.Identifier(role)
            )
        )
        done.append(f"database {name}: only {role} may connect")
    # Inside the new database: its schema belongs to the role, and to nobody else.
    inside = psycopg.conninfo.make_conninfo(admin_url, dbname=name)
    with psycopg.connect(inside, autocommit=True) as admin:
        admin.execute(sql.SQL("ALTER SCHEMA public OWNER TO {}").format(sql.Identifier(role)))
        admin.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
    return done


def setup(
    databases: Mapping[str, Mapping[str, Any]], admin_url: str, vault_admin_url: str = ""
) -> list[str]:
    """Both databases of ``databases`` (Django's ``DATABASES``), kept apart."""
    stats, vault = databases["default"], databases["vault"]
    _, stats_role, _ = _target("statistics", stats)
    _, vault_role, _ = _target("vault", vault)
    if stats_role == vault_role:
        raise SetupError(
            f"Both databases name the role {stats_role}: the vault needs a role of its own."
        )
    if (stats.get("HOST"), stats.get("PORT"), stats["NAME"]) == (
        vault.get("HOST"),
        vault.get("PORT"),
        vault["NAME"],
    ):
        raise SetupError("Both URLs name the same database: the vault needs a database of its own.")
    return [
        *prepare(admin_url, "statistics", stats, vault_role),
        *prepare(vault_admin_url or admin_url, "vault", vault, stats_role),
    ]
