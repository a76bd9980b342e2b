"""The registers suppliers keep in step with: organisations and code lists.

Open to any authenticated caller, whatever its permissions: they hold no
personal data and no delivery, only what the published format refers to.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router

from inuk.api.schemas import CodeKind, CodeOut, ErrorBody, OrganisationOut
from inuk.codes.models import Code
from inuk.organisations.models import Municipality, Organisation, agreement_in_force

router = Router(tags=["registers"])


@router.get(
    "/organisations",
    response={200: list[OrganisationOut], 401: ErrorBody, 429: ErrorBody},
    url_name="organisations",
    summary="Municipalities and AF / Kommuner och AF",
)
def list_organisations(request: HttpRequest):
    """The municipalities (kommunkod, name, county, organisation number, whether an
    agreement is in force today) and Arbetsförmedlingen."""
    today = timezone.localdate()
    municipalities = (
        Municipality.objects.select_related("organisation")
        .annotate(in_force=agreement_in_force(today))
        .order_by("code")
    )
    rows = [
        {
            "orgnr": municipality.organisation.orgnr,
            "name": municipality.organisation.name,
            "kind": Organisation.Kind.MUNICIPALITY,
            "kommunkod": municipality.code,
            "kommun": municipality.name,
            "county_code": municipality.county_code,
            "county": municipality.county_name,
            "agreement_in_force": municipality.in_force,
        }
        for municipality in municipalities
    ]
    for agency in Organisation.objects.filter(kind=Organisation.Kind.AGENCY):
        rows.append(
            {
                "orgnr": agency.orgnr,
                "name": agency.name,
                "kind": Organisation.Kind.AGENCY,
                "kommunkod": None,
                "kommun": None,
                "county_code": None,
                "county": None,
                "agreement_in_force": None,
            }
        )
    return rows


@router.get(
    "/codes",
    response={200: list[CodeOut], 400: ErrorBody, 401: ErrorBody, 429: ErrorBody},
    url_name="codes",
    summary="Intervention and result codes / Insats- och resultatkoder",
)
def list_codes(
    request: HttpRequest,
    kind: CodeKind | None = Query(None),
):
    """AF's code lists with each code's validity: a code retired on a day stays valid
    for records that started before it."""
    codes = Code.objects.order_by("kind", "code", "valid_from")
    if kind:
        codes = codes.filter(kind=kind)
    return [
        {
            "kind": code.kind,
            "code": code.code,
            "name_sv": code.name_sv,
            "name_en": code.name_en,
            "description": code.description,
            "valid_from": code.valid_from,
            "valid_to": code.valid_to,
        }
        for code in codes
    ]
