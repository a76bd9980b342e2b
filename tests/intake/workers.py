"""Running ``inuk worker`` in other processes against the test databases."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings
from django.db import connections


def database_url(alias: str) -> str:
    config = connections[alias].settings_dict
    if config["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{config['NAME']}"
    user = config.get("USER") or "postgres"
    password = f":{config['PASSWORD']}" if config.get("PASSWORD") else ""
    host = config.get("HOST") or "127.0.0.1"
    port = config.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{config['NAME']}"


def worker_environment() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(
        INUK_DATA_DIR=str(settings.DATA_DIR),
        INUK_DATABASE_URL=database_url("default"),
        INUK_VAULT_DATABASE_URL=database_url("vault"),
    )
    return env


def start_worker(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "inuk", "worker", "--once", *args],
        env=worker_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
