"""What the ``user`` and ``token`` commands share."""

from __future__ import annotations

import getpass

from django.core.management.base import CommandError

from inuk.organisations.models import Organisation, normalise_orgnr


def organisation(orgnr: str) -> Organisation:
    """The organisation with ``orgnr``, written with or without dash, or 16-prefixed."""
    try:
        digits = normalise_orgnr(orgnr)
    except ValueError:
        raise CommandError(f"{orgnr!r} is not an organisation number.") from None
    found = Organisation.objects.filter(orgnr=digits).first()
    if found is None:
        raise CommandError(f"No organisation with organisation number {orgnr!r}.")
    return found


def actor() -> str:
    """Who ran the command, as the audit log names them."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in a bare container
        return "cli"
