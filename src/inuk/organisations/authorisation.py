"""Who may deliver for which municipality on a given day (SPEC §3, §6; avtalet §5, §6).

The one place the rule lives; the intake asks ``refusal()`` for every distinct
kommunkod in a delivery, and pages ask ``deliverable_codes()``:

- Arbetsförmedlingen delivers its own interventions for any municipality and
  needs no agreement;
- a municipality delivers only for its own kommunkod, and only while its
  agreement is in force;
- a supplier or a municipal federation delivers for the municipalities that
  have registered it (an authorisation valid on the day), and only while that
  municipality's agreement is in force.

Each answer costs at most one query, so a file with many Kommun blocks stays
cheap.
"""

from __future__ import annotations

import datetime as dt

from inuk.format.identifiers import InvalidIdentifier, normalise_kommunkod
from inuk.format.municipalities import municipality_codes
from inuk.organisations.models import (
    DeliveryAuthorisation,
    Municipality,
    Organisation,
    agreement_in_force,
)


def refusal(sender: Organisation | None, kommunkod: str, on: dt.date) -> str | None:
    """None if ``sender`` may deliver for ``kommunkod`` on ``on``, else the error code why not.

    The codes are those of ``inuk.format.errors.RULES``: ``ORG_NOT_REGISTERED``
    (no such organisation in the register), ``KOMMUNKOD_NOT_OWN`` (a
    municipality delivering for another), ``KOMMUNKOD_NOT_AUTHORISED`` (a
    supplier or federation the municipality has not registered for that day),
    ``AGREEMENT_NOT_IN_FORCE`` (the municipality's agreement is not in force).
    A kommunkod that is not one at all gets ``KOMMUNKOD_FORMAT`` or
    ``KOMMUNKOD_UNKNOWN``, though the intake checks those first.

    >>> refusal(Organisation.af(), "114", dt.date(2025, 3, 1)) is None
    True
    """
    if sender is None or sender.pk is None:
        return "ORG_NOT_REGISTERED"
    try:
        code = normalise_kommunkod(kommunkod)
    except InvalidIdentifier as exc:
        return exc.code
    if code not in municipality_codes():
        return "KOMMUNKOD_UNKNOWN"

    if sender.kind == Organisation.Kind.AGENCY:
        return None
    if sender.kind == Organisation.Kind.MUNICIPALITY:
        own = (
            Municipality.objects.filter(organisation_id=sender.pk)
            .values_list("code", agreement_in_force(on))
            .first()
        )
        if own is None:
            return "ORG_NOT_REGISTERED"
        own_code, in_force = own
        if own_code != code:
            return "KOMMUNKOD_NOT_OWN"
        return None if in_force else "AGREEMENT_NOT_IN_FORCE"
    if sender.delivers_on_behalf:
        authorised = (
            Municipality.objects.filter(
                code=code,
                deliverers__in=DeliveryAuthorisation.objects.valid_on(on).filter(
                    deliverer_id=sender.pk
                ),
            )
            .values_list(agreement_in_force(on), flat=True)
            .first()
        )
        if authorised is None:
            return "KOMMUNKOD_NOT_AUTHORISED"
        return None if authorised else "AGREEMENT_NOT_IN_FORCE"
    return "ORG_NOT_REGISTERED"


def deliverable_codes(sender: Organisation | None, on: dt.date) -> list[str]:
    """The kommunkoder (four digits, sorted) ``sender`` may deliver for on ``on``.

    Exactly the codes for which ``refusal(sender, code, on)`` is None; one query.
    """
    if sender is None or sender.pk is None:
        return []
    if sender.kind == Organisation.Kind.AGENCY:
        municipalities = Municipality.objects.all()
    elif sender.kind == Organisation.Kind.MUNICIPALITY:
        municipalities = Municipality.objects.under_agreement(on).filter(organisation_id=sender.pk)
    elif sender.delivers_on_behalf:
        municipalities = Municipality.objects.under_agreement(on).filter(
            deliverers__in=DeliveryAuthorisation.objects.valid_on(on).filter(
                deliverer_id=sender.pk
            ),
        )
    else:
        return []
    known = municipality_codes()
    return sorted({code for code in municipalities.values_list("code", flat=True) if code in known})
