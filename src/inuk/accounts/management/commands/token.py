"""``inuk token``: API tokens for machine transfer.

    inuk token create --org 2120000019 --name "Procapita export" \
        --scope deliver --scope read --days 90
    inuk token list --org 2120000019
    inuk token revoke k3x7q2ab

``create`` prints the token once, on standard output alone, so a script can
capture it; only its hash is kept. ``revoke`` takes the token id that
``list`` shows (the part after ``inuk_``).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from inuk.accounts.models import ApiToken, TokenScope
from inuk.accounts.tokens import DEFAULT_DAYS, PREFIX, issue_token, revoke_token
from inuk.commandline import cli_actor, orgnr_argument
from inuk.organisations.management.common import registered_organisation


class Command(BaseCommand):
    help = "Create, list and revoke API tokens."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)

        create = actions.add_parser("create", help="create a token and print it once")
        create.add_argument("--org", type=orgnr_argument, required=True, help="organisation number")
        create.add_argument("--name", required=True, help="what the token is for")
        create.add_argument(
            "--scope",
            action="append",
            required=True,
            choices=[scope.value for scope in TokenScope],
            help="deliver, read (repeat for both)",
        )
        create.add_argument("--days", type=int, default=DEFAULT_DAYS, help="days until it expires")

        listing = actions.add_parser("list", help="list tokens")
        listing.add_argument("--org", type=orgnr_argument, help="only this organisation's tokens")

        revoke = actions.add_parser("revoke", help="revoke a token")
        revoke.add_argument("id", help="the token id shown by 'list'")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"handle_{options['action']}")(**options)

    def handle_create(self, **options: Any) -> None:
        owner = registered_organisation(options["org"])
        try:
            token, raw = issue_token(
                owner, options["name"], options["scope"], days=options["days"], actor=cli_actor()
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stderr.write(
            f"Token {token.public_id} for {owner.name} ({', '.join(token.scopes)}), "
            f"valid until {token.expires_at:%Y-%m-%d}. It is shown only now:"
        )
        self.stdout.write(raw)

    def handle_list(self, **options: Any) -> None:
        tokens = ApiToken.objects.select_related("organisation")
        if options["org"]:
            tokens = tokens.filter(organisation=registered_organisation(options["org"]))
        now = timezone.now()
        for token in tokens.order_by("organisation__name", "-created_at"):
            if token.revoked_at:
                state = f"revoked {token.revoked_at:%Y-%m-%d}"
            elif token.expires_at <= now:
                state = "expired"
            else:
                state = "active"
            used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
            self.stdout.write(
                "\t".join(
                    [
                        token.public_id,
                        token.organisation.orgnr,
                        token.name,
                        ",".join(token.scopes),
                        f"expires {token.expires_at:%Y-%m-%d}",
                        f"last used {used}",
                        state,
                    ]
                )
            )

    def handle_revoke(self, **options: Any) -> None:
        public_id = options["id"].strip().lower().removeprefix(PREFIX).split("_")[0]
        token = ApiToken.objects.select_related("organisation").filter(public_id=public_id).first()
        if token is None:
            raise CommandError(f"No token with id {options['id']!r}.")
        if revoke_token(token, actor=cli_actor()):
            self.stderr.write(f"Revoked {token.public_id} ({token.name}).")
        else:
            self.stderr.write(f"{token.public_id} ({token.name}) was already revoked.")
