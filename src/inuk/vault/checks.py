"""Deployment mistakes about the vault, caught before the service starts.

Ids are stable (operations guide): inuk.E001 no vault database, inuk.E002 the
vault is the statistics database, inuk.W002 both reached with the same
credentials, inuk.E003 the keyring missing or malformed, inuk.W003 the
embedded key file readable by others.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

from inuk.vault.keys import Keyring, KeyringError, is_configured, is_embedded, key_file

KEY_HINT = (
    "Create a keyring with `inuk vault new-keyring` and pass it in INUK_VAULT_KEY or, "
    "better, in a file named by INUK_VAULT_KEY_FILE. Keep a copy safe, apart from the "
    "vault database's backups: without it no personnummer in the vault can be read."
)


def _location(config: dict) -> tuple[str, ...]:
    if config.get("ENGINE") == "django.db.backends.sqlite3":
        return ("sqlite", str(Path(str(config.get("NAME") or "")).expanduser().resolve()))
    host = str(config.get("HOST") or "localhost")
    if host == "127.0.0.1":
        host = "localhost"
    return (
        str(config.get("ENGINE")),
        host,
        str(config.get("PORT") or "5432"),
        str(config.get("NAME")),
    )


@register()
def vault_database_is_separate(app_configs, **kwargs) -> list[CheckMessage]:
    databases = settings.DATABASES
    if "vault" not in databases:
        return [
            Error(
                "No vault database is configured.",
                hint="Set INUK_VAULT_DATABASE_URL.",
                id="inuk.E001",
            )
        ]
    default, vault = databases["default"], databases["vault"]
    if _location(default) == _location(vault):
        return [
            Error(
                "The identity vault uses the statistics database.",
                hint="Point INUK_VAULT_DATABASE_URL at a database of its own, "
                "reached with credentials of its own.",
                id="inuk.E002",
            )
        ]
    if (
        "postgresql" in vault.get("ENGINE", "")
        and "postgresql" in default.get("ENGINE", "")
        and (default.get("USER") or "") == (vault.get("USER") or "")
    ):
        return [
            Warning(
                "The identity vault and the statistics database are reached as the same "
                "database user.",
                hint="Give the vault a role of its own that can reach only the vault database, "
                "so that credentials leaked from the statistics side cannot read it.",
                id="inuk.W002",
            )
        ]
    return []


@register()
def vault_key_is_usable(app_configs, **kwargs) -> list[CheckMessage]:
    if is_configured():
        return _malformed(settings.INUK_VAULT_KEY or "", "INUK_VAULT_KEY(_FILE)")
    if not is_embedded():
        return [
            Error(
                "The identity vault's keyring is not set (INUK_VAULT_KEY). A deployment on "
                "PostgreSQL must bring its own; it is never kept in a database.",
                hint=KEY_HINT,
                id="inuk.E003",
            )
        ]
    path = key_file()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []  # created on first use
    except OSError as exc:
        return [
            Error(
                f"The identity vault's key file {path} cannot be read: {exc.strerror}.",
                id="inuk.E003",
            )
        ]
    problems = _malformed(text, str(path))
    if not problems and path.stat().st_mode & 0o077:
        problems.append(
            Warning(
                f"The identity vault's key file {path} can be read by other users.",
                hint=f"chmod 600 {path}",
                id="inuk.W003",
            )
        )
    return problems


def _malformed(text: str, source: str) -> list[CheckMessage]:
    try:
        Keyring.parse(text)
    except KeyringError as exc:
        return [
            Error(
                f"The identity vault's keyring in {source} is malformed: {exc}.",
                hint=KEY_HINT,
                id="inuk.E003",
            )
        ]
    return []
