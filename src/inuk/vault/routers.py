"""Keeps the vault's tables in the vault database and every other table out of it."""

from __future__ import annotations

VAULT_APP = "vault"
VAULT_DB = "vault"


class VaultRouter:
    def db_for_read(self, model, **hints):
        return VAULT_DB if model._meta.app_label == VAULT_APP else "default"

    db_for_write = db_for_read

    def allow_relation(self, obj1, obj2, **hints):
        return (obj1._meta.app_label == VAULT_APP) == (obj2._meta.app_label == VAULT_APP)

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if app_label == VAULT_APP:
            return db == VAULT_DB
        return db != VAULT_DB
