"""The ``inuk`` command.

``inuk validate`` runs offline: no settings, no database, nothing written.
Every other command is a Django management command (``inuk demo``, ``inuk
serve``, ``inuk ingest``, ``inuk worker``, ``inuk audit verify``, ``inuk
migrate``...); the commands that use the databases create or upgrade their
schema first, so a fresh machine needs no separate set-up step.
"""

from __future__ import annotations

import os
import sys

#: Commands that must not touch the databases before they run.
NO_DATABASE = {
    "validate",
    "setup_postgres",  # makes the databases
    "help",
    "--help",
    "-h",
    "version",
    "--version",
    "makemigrations",
    "check",
    "compilemessages",
    "makemessages",
    "shell",
    "dbshell",
    "migrate",
    "submit",
    "showmigrations",
    "sqlmigrate",
}


def demo_data_dir() -> str:
    """Where ``inuk demo`` keeps its data unless ``INUK_DATA_DIR`` says otherwise.

    Not the directory ``inuk serve`` uses by default, so that the demo's
    accounts, whose password is printed for all to see, never end up in a
    service run for real.
    """
    import platformdirs

    return platformdirs.user_data_dir("inuk-demo", appauthor=False)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "validate":
        from inuk.format.validate_command import run

        sys.exit(run(args[1:]))
    if args and args[0] == "submit":  # a client of the service: no settings, no database
        from inuk.intake.submit_command import run as submit

        sys.exit(submit(args[1:]))
    if args and args[0] == "manage":
        args = args[1:]
    if args and args[0] == "setup-postgres":
        args = ["setup_postgres", *args[1:]]
    if args and args[0] == "demo":
        # The demo is for trying the service: the validator page is open to all,
        # and its published accounts live in a data directory of their own.
        os.environ.setdefault("INUK_VALIDATOR_REQUIRES_LOGIN", "false")
        os.environ.setdefault("INUK_DATA_DIR", demo_data_dir())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inuk.settings")
    import django

    django.setup()
    needs_database = args and args[0] not in NO_DATABASE and not args[0].startswith("-")
    if args[:2] == ["vault", "new-keyring"]:
        needs_database = False  # makes a keyring for a deployment that has none yet
    if needs_database:
        from inuk.schema import ensure_schema

        ensure_schema()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["inuk", *args])
