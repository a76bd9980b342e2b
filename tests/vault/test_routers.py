"""The vault's tables live in the vault database only, and nothing else lives there."""

from __future__ import annotations

import pytest
from django.db import connections, router

from inuk.intake.models import Delivery
from inuk.vault.models import FileChunk, Identity

pytestmark = pytest.mark.django_db(databases=["default", "vault"])


def test_the_vault_models_read_and_write_the_vault_database():
    for model in (Identity, FileChunk):
        assert router.db_for_read(model) == "vault"
        assert router.db_for_write(model) == "vault"


def test_other_models_stay_in_the_statistics_database():
    assert router.db_for_write(Delivery) == "default"


def test_the_vault_tables_exist_only_in_the_vault_database():
    vault_tables = {Identity._meta.db_table, FileChunk._meta.db_table}
    assert vault_tables <= set(connections["vault"].introspection.table_names())
    assert not vault_tables & set(connections["default"].introspection.table_names())
    assert Delivery._meta.db_table not in connections["vault"].introspection.table_names()
