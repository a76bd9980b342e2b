"""``POST /api/v1/identity/erasures``: the identity officer erases a person (art. 17).

Only a logged-in identity officer may (never an API token); everyone else is
answered 403 before the body is read. The personnummer travels in the body
only and never comes back: the answer is the counts of what was removed.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.views.decorators.debug import sensitive_variables
from ninja import Field, Router, Schema
from ninja.responses import Status
from pydantic import ValidationError as PydanticValidationError

from inuk.accounts.scoping import may_erase
from inuk.api.auth import caller_name, principal
from inuk.api.errors import ApiError
from inuk.api.schemas import ErrorBody
from inuk.client import client_address
from inuk.intake.erasure import CASE_MISSING, ErasureRefused, erase_person

router = Router(tags=["identity"])


class ErasureRequest(Schema):
    personnummer: str = Field(description="12 digits, no dash; never answered back")
    case_number: str = Field(description="AF's case number (diarienummer) of the decision")
    reason: str


class ErasureDone(Schema):
    erased_at: str = Field(description="ISO 8601")
    personnummer: int = Field(description="how many numbers of the person left the vault")
    transactions: int
    interventions: int
    results: int
    files: int = Field(
        description="kept original delivery files written again without the person; each "
        "one's receipt says a person was erased from it"
    )


@router.post(
    "/identity/erasures",
    response={
        201: ErasureDone,
        400: ErrorBody,
        401: ErrorBody,
        403: ErrorBody,
        404: ErrorBody,
        429: ErrorBody,
    },
    url_name="identity-erasures",
    summary="Erase a person / Radera en person",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": ErasureRequest.model_json_schema()}},
        }
    },
)
@sensitive_variables()
def create_erasure(request: HttpRequest):
    """Remove a person from the identity vault and the statistics; audited without the number."""
    caller = principal(request)
    if not may_erase(caller):
        raise ApiError("NOT_ALLOWED")
    try:
        body = ErasureRequest.model_validate_json(request.body or b"{}")
    except PydanticValidationError:
        raise ApiError(CASE_MISSING.code) from None
    try:
        done = erase_person(
            body.personnummer,
            reason=body.reason,
            case_number=body.case_number,
            actor=caller_name(caller),
            remote_addr=client_address(request),
        )
    except ErasureRefused as refused:
        raise ApiError(refused.code) from None
    return Status(
        201,
        {
            "erased_at": done.at.isoformat(),
            "personnummer": done.personnummer,
            "transactions": done.transactions,
            "interventions": done.interventions,
            "results": done.results,
            "files": done.files,
        },
    )
