"""``inuk setup-postgres``: the two databases and their two roles, kept apart."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from inuk.pgsetup import SetupError, setup


class Command(BaseCommand):
    help = (
        "Create the statistics database and the identity vault named by INUK_DATABASE_URL and "
        "INUK_VAULT_DATABASE_URL, each owned by the role its URL names, and let no other role "
        "connect to either. Run as a PostgreSQL superuser; running again changes nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--admin-url",
            required=True,
            help="a superuser's URL on the statistics database's server (postgres://…/postgres)",
        )
        parser.add_argument(
            "--vault-admin-url",
            default="",
            help="a superuser's URL on the vault's server, if another (default: --admin-url)",
        )

    def handle(self, *args, admin_url: str, vault_admin_url: str, **options) -> None:
        try:
            done = setup(settings.DATABASES, admin_url, vault_admin_url)
        except SetupError as exc:
            raise CommandError(str(exc)) from None
        for line in done:
            self.stdout.write(line)
        self.stdout.write("Next: inuk migrate && inuk migrate --database vault")
