"""What the commands that name an organisation by its number share."""

from __future__ import annotations

from django.core.management.base import CommandError

from inuk.organisations.models import Organisation


def registered_organisation(orgnr: str) -> Organisation:
    """The organisation with ``orgnr`` (ten digits, as ``inuk.commandline.orgnr_argument``
    gives them), or a ``CommandError`` naming the number in Swedish and English."""
    found = Organisation.objects.filter(orgnr=orgnr).first()
    if found is None:
        raise CommandError(
            f"Ingen organisation har organisationsnumret {orgnr} / "
            f"No organisation has the organisation number {orgnr}"
        )
    return found
