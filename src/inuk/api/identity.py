"""The identity officer's API: ``/api/v1/identity/...``.

The same work as the pages under /identitet/ (``inuk.identity.officer``), for
an identity officer logged in to the web pages with a second factor (the
session cookie, with the CSRF token on POST); an API token never gets a
personnummer (``inuk.accounts.scoping.may_identify``). Every call is a POST,
so that no personnummer is ever part of a URL, and states the case number and
the reason that go into the audit log. (The operations are not marked
``sensitive_variables``: django-ninja reads their signatures, and the API's
error handler logs a failure without its frames' variables anyway.)
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.views.decorators.debug import sensitive_variables
from ninja import Field, Router, Schema

from inuk.accounts.models import User
from inuk.accounts.scoping import may_identify
from inuk.api.auth import IdentityOfficerAuth, NoTokenAuth, principal
from inuk.api.errors import ApiError
from inuk.api.schemas import ErrorBody
from inuk.client import client_address
from inuk.identity import officer as work
from inuk.identity.forms import canonical_personnummer, canonical_pseudonym
from inuk.vault.pseudonymize import LinkConflict

router = Router(tags=["identity"], auth=[NoTokenAuth(), IdentityOfficerAuth()])

REFUSED = {400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 429: ErrorBody}


class Purpose(Schema):
    case_number: str = Field(
        min_length=1, max_length=50, description="the case (diarienummer) it is done for"
    )
    reason: str = Field(min_length=1, max_length=500, description="why; kept in the audit log")


class PersonnummerQuery(Purpose):
    personnummer: str = Field(
        max_length=20, description="12 digits, a dash before the last 4 allowed"
    )


class PseudonymQuery(Purpose):
    pseudonym: str = Field(max_length=40, description="32 characters 0-9, a-f")


class LinkQuery(Purpose):
    old: str = Field(max_length=20, description="the number the person had")
    new: str = Field(max_length=20, description="the number that replaces it")


class PseudonymAnswer(Schema):
    pseudonym: str | None = Field(description="null: the vault does not know the number")


class KnownNumber(Schema):
    personnummer: str
    first_known: str


class PersonnummerAnswer(Schema):
    pseudonym: str
    personnummer: list[KnownNumber] = Field(description="empty: no such person")


class LinkAnswer(Schema):
    pseudonym: str
    merged: str | None = Field(description="the pseudonym merged into this one, if any")


def _officer(request: HttpRequest) -> work.Officer:
    caller = principal(request)
    if not isinstance(caller, User) or not may_identify(caller):
        raise ApiError("IDENTITY_OFFICER_ONLY")
    return work.Officer(caller, client_address(request))


def _purpose(query: Purpose) -> work.Purpose:
    case_number, reason = query.case_number.strip(), query.reason.strip()
    if not case_number or not reason:
        raise ApiError("PURPOSE_REQUIRED")
    return work.Purpose(case_number, reason)


@sensitive_variables()
def _personnummer(text: str, where: str) -> str:
    try:
        return canonical_personnummer(text)
    except ValidationError as refused:
        details = [{"where": where, "code": refused.code, "message": refused.messages[0]}]
        raise ApiError("PERSONNUMMER_INVALID", details=details) from None


def _throttled(refused: work.Throttled) -> ApiError:
    return ApiError("IDENTITY_THROTTLED", headers={"Retry-After": str(refused.retry_after)})


@router.post(
    "/identity/pseudonym",
    response={200: PseudonymAnswer, **REFUSED},
    url_name="identity-pseudonym",
    summary="Personnummer to pseudonym / Personnummer till pseudonym",
)
def pseudonym_of(request: HttpRequest, query: PersonnummerQuery):
    """The pseudonym of one personnummer. Audited; identity officers only."""
    officer = _officer(request)
    purpose = _purpose(query)
    number = _personnummer(query.personnummer, "personnummer")
    try:
        return {"pseudonym": work.pseudonym_of(officer, purpose, number)}
    except work.Throttled as refused:
        raise _throttled(refused) from None


@router.post(
    "/identity/personnummer",
    response={200: PersonnummerAnswer, **REFUSED},
    url_name="identity-personnummer",
    summary="Pseudonym to personnummer / Pseudonym till personnummer",
)
def personnummer_of(request: HttpRequest, query: PseudonymQuery):
    """Every personnummer of the person with a pseudonym. Audited; identity officers only."""
    officer = _officer(request)
    purpose = _purpose(query)
    try:
        pseudonym = canonical_pseudonym(query.pseudonym)
    except ValidationError:
        raise ApiError("PSEUDONYM_INVALID") from None
    try:
        numbers = work.personnummer_of(officer, purpose, pseudonym)
    except work.Throttled as refused:
        raise _throttled(refused) from None
    return {
        "pseudonym": pseudonym,
        "personnummer": [
            {"personnummer": number, "first_known": known.isoformat(timespec="seconds")}
            for number, known in numbers.numbers
        ],
    }


@router.post(
    "/identity/link",
    response={200: LinkAnswer, 409: ErrorBody, **REFUSED},
    url_name="identity-link",
    summary="Link a changed personnummer / Koppla ett ändrat personnummer",
)
def link(request: HttpRequest, query: LinkQuery):
    """Link a person's new personnummer to the old one, merging two persons if need be."""
    officer = _officer(request)
    purpose = _purpose(query)
    old, new = _personnummer(query.old, "old"), _personnummer(query.new, "new")
    if old == new:
        raise ApiError("LINK_SAME_NUMBER")
    try:
        outcome = work.link_numbers(officer, purpose, old, new)
    except work.Throttled as refused:
        raise _throttled(refused) from None
    except LinkConflict:
        raise ApiError("LINK_CONFLICT") from None
    return {"pseudonym": outcome.pseudonym, "merged": outcome.merged}


@router.post(
    "/identity/extract",
    response={200: dict, **REFUSED},
    url_name="identity-extract",
    summary="Register extract / Registerutdrag",
)
def extract(request: HttpRequest, query: PersonnummerQuery):
    """Everything stored about one personnummer (GDPR art. 15), as on the extract page."""
    officer = _officer(request)
    purpose = _purpose(query)
    number = _personnummer(query.personnummer, "personnummer")
    try:
        return work.register_extract(officer, purpose, number, "json")
    except work.Throttled as refused:
        raise _throttled(refused) from None
