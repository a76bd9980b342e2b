"""Every error the API answers with: a stable code, an HTTP status, messages in Swedish and English.

The body is always ``{"error": {"code", "message_sv", "message_en"}}`` (with
``details`` for a malformed request), whatever went wrong, so that a client
needs one way to read failures. Codes are published in the OpenAPI
description and never renamed; the delivery format's own codes
(``FILE_EMPTY``, ``FILE_TOO_LARGE``) keep their meaning and messages here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from inuk.format.errors import RULES
from inuk.intake import erasure, withdrawal
from inuk.intake.receive import StorageFull

log = logging.getLogger(__name__)

#: Seconds a client is asked to wait while a database is unreachable.
RETRY_AFTER = "30"


@dataclass(frozen=True, slots=True)
class ErrorKind:
    status: int
    sv: str
    en: str


ERRORS: dict[str, ErrorKind] = {
    "AUTHENTICATION_REQUIRED": ErrorKind(
        401,
        "Inloggning krävs: skicka en API-nyckel som Authorization: Bearer <nyckel>.",
        "Authentication required: send an API token as Authorization: Bearer <token>.",
    ),
    "TOKEN_INVALID": ErrorKind(
        401,
        "API-nyckeln är okänd, har gått ut eller har återkallats.",
        "The API token is unknown, has expired or has been revoked.",
    ),
    "NOT_ALLOWED_TO_DELIVER": ErrorKind(
        403,
        "Bara en API-nyckel med behörigheten Leverera filer, eller en inrapportör, "
        "får skicka leveranser för organisationen.",
        "Only an API token with the permission Deliver files, or a reporter, "
        "may send deliveries for the organisation.",
    ),
    "NOT_ALLOWED": ErrorKind(
        403,
        "Du har inte behörighet till detta.",
        "You are not allowed to do this.",
    ),
    "NOT_ALLOWED_STATISTICS": ErrorKind(
        403,
        "Bara analytiker och API-nycklar med behörigheten Läsa får hämta statistik.",
        "Only analysts and API tokens with the permission Read may fetch statistics.",
    ),
    "NOT_ALLOWED_FOLLOW_UP": ErrorKind(
        403,
        "Leveransuppföljningen är till för Arbetsförmedlingens förvaltare och analytiker.",
        "The delivery follow-up is for Arbetsförmedlingen's administrators and analysts.",
    ),
    "IDENTITY_OFFICER_ONLY": ErrorKind(
        403,
        "Bara en identitetshandläggare, inloggad med tvåstegsverifiering, får se personnummer.",
        "Only an identity officer, logged in with two-step verification, may see personnummer.",
    ),
    "CSRF_FAILED": ErrorKind(
        403,
        "CSRF-kontrollen misslyckades: skicka sidans CSRF-token i huvudet X-CSRFToken.",
        "The CSRF check failed: send the page's CSRF token in the X-CSRFToken header.",
    ),
    "NOT_FOUND": ErrorKind(404, "Finns inte.", "Not found."),
    "DELIVERY_NOT_FOUND": ErrorKind(
        404,
        "Det finns ingen sådan leverans som du får se.",
        "There is no such delivery that you may see.",
    ),
    **{
        refused.code: ErrorKind(status, refused.message_sv, refused.message_en)
        for refused, status in (
            (withdrawal.NOT_APPLIED, 409),
            (withdrawal.ALREADY_WITHDRAWN, 409),
            (withdrawal.REASON_MISSING, 400),
            (erasure.INVALID_NUMBER, 400),
            (erasure.CASE_MISSING, 400),
            (erasure.UNKNOWN_PERSON, 404),
        )
    },
    "LENGTH_REQUIRED": ErrorKind(
        411,
        "Ange filens storlek i huvudet Content-Length.",
        "Give the file's size in the Content-Length header.",
    ),
    "FILE_TOO_LARGE": ErrorKind(413, RULES["FILE_TOO_LARGE"].sv, RULES["FILE_TOO_LARGE"].en),
    "REQUEST_TOO_LARGE": ErrorKind(
        413,
        "Begäran är för stor. Stora filer tas bara emot som leveranser, från en inloggad "
        "användare eller med en giltig API-nyckel.",
        "The request is too large. Large files are accepted only as deliveries, from a "
        "logged-in user or with a valid API token.",
    ),
    "FILE_EMPTY": ErrorKind(400, RULES["FILE_EMPTY"].sv, RULES["FILE_EMPTY"].en),
    "FILE_FIELD_MISSING": ErrorKind(
        400,
        "Skicka filen i formulärfältet file.",
        "Send the file in the form field file.",
    ),
    "UNSUPPORTED_MEDIA_TYPE": ErrorKind(
        415,
        "Skicka filen med Content-Type application/xml, text/csv, application/json eller "
        "application/octet-stream, eller som multipart/form-data i fältet file.",
        "Send the file with Content-Type application/xml, text/csv, application/json or "
        "application/octet-stream, or as multipart/form-data in the field file.",
    ),
    "INVALID_REQUEST": ErrorKind(
        400,
        "Begäran har ogiltiga parametrar; se details.",
        "The request has invalid parameters; see details.",
    ),
    "PERSONNUMMER_INVALID": ErrorKind(
        400,
        "Personnumret är inte giltigt; se details.",
        "The personnummer is not valid; see details.",
    ),
    "PSEUDONYM_INVALID": ErrorKind(
        400,
        "En pseudonym är 32 tecken, siffrorna 0–9 och bokstäverna a–f.",
        "A pseudonym is 32 characters, the digits 0–9 and the letters a–f.",
    ),
    "PURPOSE_REQUIRED": ErrorKind(
        400,
        "Ange diarienummer och skäl: de skrivs i granskningsloggen.",
        "Give the case number and the reason: they are written to the audit log.",
    ),
    "LINK_SAME_NUMBER": ErrorKind(
        400,
        "Det gamla och det nya numret är samma.",
        "The old and the new number are the same.",
    ),
    "LINK_CONFLICT": ErrorKind(
        409,
        "Numren ändrades medan de kopplades. Ingenting ändrades; försök igen.",
        "The numbers changed while they were being linked. Nothing was changed; try again.",
    ),
    "IDENTITY_THROTTLED": ErrorKind(
        429,
        "För många uppslag på kort tid. Vänta det antal sekunder som Retry-After anger. "
        "Pausen är noterad i granskningsloggen.",
        "Too many look-ups in a short time. Wait the number of seconds Retry-After gives. "
        "The pause is noted in the audit log.",
    ),
    "RATE_LIMITED": ErrorKind(
        429,
        "För många anrop. Vänta det antal sekunder som Retry-After anger.",
        "Too many requests. Wait the number of seconds Retry-After gives.",
    ),
    "SERVICE_UNAVAILABLE": ErrorKind(
        503,
        "Tjänsten når inte sin databas just nu. Inget av begäran har sparats. Försök igen om "
        "en stund; Retry-After anger hur många sekunder.",
        "The service cannot reach its database just now. Nothing of the request was stored. "
        "Try again shortly; Retry-After gives the number of seconds.",
    ),
    "STORAGE_FULL": ErrorKind(
        507,
        "Tjänsten har inte utrymme att ta emot filen just nu. Inget av den har sparats. "
        "Försök igen senare; upprepas felet, kontakta tjänstens förvaltning.",
        "The service has no room to receive the file just now. Nothing of it was stored. "
        "Try again later; if the fault recurs, contact the service's administrators.",
    ),
    "INTERNAL_ERROR": ErrorKind(
        500,
        "Ett oväntat fel inträffade i tjänsten. Försök igen senare.",
        "An unexpected error occurred in the service. Try again later.",
    ),
}


class ApiError(Exception):
    """Raised anywhere in the API to answer with one of ``ERRORS``."""

    def __init__(
        self,
        code: str,
        *,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        kind: ErrorKind | None = None,
    ) -> None:
        super().__init__(code)
        self.code = code
        self.kind = kind or ERRORS[code]
        self.details = details
        self.headers = headers or {}

    @classmethod
    def bad_question(cls, code: str, sv: str, en: str) -> ApiError:
        """A 400 with a question's own code and messages (``inuk.stats.query.QueryError``).

        Those codes are the statistics app's, listed in its endpoints' descriptions.
        """
        return cls(code, kind=ErrorKind(400, sv, en))

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "code": self.code,
            "message_sv": self.kind.sv,
            "message_en": self.kind.en,
        }
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


def _validation_details(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Which parameter was wrong and why, without echoing the value (it could be anything)."""
    return [
        {"where": ".".join(str(part) for part in error.get("loc", ())), "message": error["msg"]}
        for error in errors
    ]


def install(api: NinjaAPI) -> None:
    """Answer every failure in ``api`` with the error body above."""

    def respond(request: HttpRequest, error: ApiError) -> HttpResponse:
        response = api.create_response(request, error.body(), status=error.kind.status)
        for name, value in error.headers.items():
            response[name] = value
        return response

    @api.exception_handler(ApiError)
    def api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
        return respond(request, exc)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return respond(
            request,
            ApiError(
                "AUTHENTICATION_REQUIRED", headers={"WWW-Authenticate": 'Bearer realm="inuk"'}
            ),
        )

    @api.exception_handler(ValidationError)
    def invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        return respond(
            request, ApiError("INVALID_REQUEST", details=_validation_details(exc.errors))
        )

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        # ninja's own: the session cookie's CSRF check (403) and throttling (429).
        code = {403: "CSRF_FAILED", 429: "RATE_LIMITED", 404: "NOT_FOUND"}.get(exc.status_code)
        if code is None:
            return respond(request, ApiError("INVALID_REQUEST", details=[]))
        return respond(request, ApiError(code))

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return respond(request, ApiError("NOT_FOUND"))

    @api.exception_handler(RequestDataTooBig)
    def too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return respond(request, ApiError("FILE_TOO_LARGE"))

    def bad_multipart(request: HttpRequest) -> HttpResponse:
        details = [{"where": "body", "message": "not readable as multipart/form-data"}]
        return respond(request, ApiError("INVALID_REQUEST", details=details))

    @api.exception_handler(MultiPartParserError)
    def unreadable_multipart(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
        return bad_multipart(request)

    @api.exception_handler(TooManyFieldsSent)
    def too_many_fields(request: HttpRequest, exc: TooManyFieldsSent) -> HttpResponse:
        return bad_multipart(request)

    @api.exception_handler(DatabaseError)
    def database_unavailable(request: HttpRequest, exc: DatabaseError) -> HttpResponse:
        # The error's text may name the host and the role: logged, not answered.
        log.exception("API request %s %s: a database failed", request.method, request.path)
        return respond(
            request, ApiError("SERVICE_UNAVAILABLE", headers={"Retry-After": RETRY_AFTER})
        )

    @api.exception_handler(StorageFull)
    def storage_full(request: HttpRequest, exc: StorageFull) -> HttpResponse:
        return respond(request, ApiError("STORAGE_FULL"))

    @api.exception_handler(Exception)
    def unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        # Names code, never data; log lines pass the personnummer filter besides.
        log.exception("API request %s %s failed", request.method, request.path)
        return respond(request, ApiError("INTERNAL_ERROR"))
