"""Deployment mistakes about the vault, caught before the service starts."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register


def _same_database(a: dict, b: dict) -> bool:
    keys = ("ENGINE", "NAME", "HOST", "PORT")
    return all(str(a.get(k) or "") == str(b.get(k) or "") for k in keys)


@register()
def vault_database_is_separate(app_configs, **kwargs):
    databases = settings.DATABASES
    if "vault" not in databases:
        return [Error("No vault database is configured.", id="inuk.E001",
                      hint="Set INUK_VAULT_DATABASE_URL.")]
    if _same_database(databases["default"], databases["vault"]):
        return [
            Error(
                "The identity vault uses the statistics database.",
                hint="Point INUK_VAULT_DATABASE_URL at a database of its own, "
                "reached with credentials of its own.",
                id="inuk.E002",
            )
        ]
    return []
