"""``inuk user``: add, list, remove users, and hand out password links, for scripted onboarding.

    inuk user add --org 2120000019 --role reporter --role analyst --email anna@upplandsvasby.se
    inuk user list --org 2120000019
    inuk user link anna@upplandsvasby.se
    inuk user remove anna@upplandsvasby.se

``add`` and ``link`` print a one-time link with which the user sets their
password; nobody else ever knows it. Everything is audited.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.plugins.otp_totp.models import TOTPDevice

from inuk.accounts.models import Role, User, normalise_email
from inuk.accounts.users import add_user, password_link, remove_user
from inuk.commandline import cli_actor, orgnr_argument
from inuk.organisations.management.common import registered_organisation

DEFAULT_BASE_URL = "http://localhost:8000"


class Command(BaseCommand):
    help = "Add, list and remove users; print a link for setting a password."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)

        add = actions.add_parser("add", help="add a user and print their password link")
        add.add_argument("--org", type=orgnr_argument, required=True, help="organisation number")
        add.add_argument(
            "--role",
            action="append",
            required=True,
            choices=[role.value for role in Role],
            help="a role (repeat for more)",
        )
        add.add_argument("--email", required=True)
        add.add_argument("--first-name", default="")
        add.add_argument("--last-name", default="")
        add.add_argument("--base-url", default=DEFAULT_BASE_URL, help="the service's address")

        listing = actions.add_parser("list", help="list users")
        listing.add_argument("--org", type=orgnr_argument, help="only this organisation's users")

        link = actions.add_parser("link", help="print a new password link for a user")
        link.add_argument("email")
        link.add_argument("--base-url", default=DEFAULT_BASE_URL, help="the service's address")

        remove = actions.add_parser("remove", help="remove a user")
        remove.add_argument("email")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"handle_{options['action']}")(**options)

    def _user(self, email: str) -> User:
        user = (
            User.objects.select_related("organisation").filter(email=normalise_email(email)).first()
        )
        if user is None:
            raise CommandError(f"No user with the address {email!r}.")
        return user

    def handle_add(self, **options: Any) -> None:
        email = normalise_email(options["email"])
        if User.objects.filter(email=email).exists():
            raise CommandError(f"There is already a user with the address {email!r}.")
        try:
            user = add_user(
                registered_organisation(options["org"]),
                email,
                options["role"],
                first_name=options["first_name"],
                last_name=options["last_name"],
                actor=cli_actor(),
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stderr.write(
            f"Added {user.email} to {user.organisation.name} as "
            f"{', '.join(sorted(role.value for role in user.roles))}. "
            "Give them this link to set their password (it works once):"
        )
        self.stdout.write(password_link(user, options["base_url"]))

    def handle_list(self, **options: Any) -> None:
        users = User.objects.select_related("organisation").prefetch_related("role_grants")
        if options["org"]:
            users = users.filter(organisation=registered_organisation(options["org"]))
        with_device = set(
            TOTPDevice.objects.filter(confirmed=True).values_list("user_id", flat=True)
        )
        for user in users.order_by("organisation__name", "email"):
            roles = ",".join(sorted(grant.role for grant in user.role_grants.all())) or "-"
            state = "active" if user.is_active else "inactive"
            second = "2fa" if user.pk in with_device else "-"
            last = f"{user.last_login:%Y-%m-%d %H:%M}" if user.last_login else "never"
            self.stdout.write(
                "\t".join([user.email, user.organisation.orgnr, roles, state, second, last])
            )

    def handle_link(self, **options: Any) -> None:
        user = self._user(options["email"])
        if not user.is_active:
            raise CommandError(f"{user.email} may not log in; activate the account first.")
        self.stdout.write(password_link(user, options["base_url"]))

    def handle_remove(self, **options: Any) -> None:
        user = self._user(options["email"])
        email = user.email
        if remove_user(user, actor=cli_actor()):
            self.stderr.write(f"Removed {email}.")
        else:
            self.stderr.write(
                f"{email} is kept, since records refer to it, but can no longer log in."
            )
