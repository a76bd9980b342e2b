"""The file a ``POST /deliveries`` carries, taken from the request without reading it into memory.

Two ways to send it:

- as the raw body, ``Content-Type`` naming the format (``application/xml`` or
  ``text/xml``, ``text/csv``, ``application/json``), or
  ``application/octet-stream`` (or none) to have it told from the content;
- as ``multipart/form-data`` in the field ``file`` (as an HTML form sends it);
  the format is told from the content.

The raw body is read straight from the server's input stream as
``receive()`` copies it; Django's upload handlers spool a multipart file to a
temporary file. Either way a request whose ``Content-Length`` is over the
limit is refused before a byte is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO, cast

from django.conf import settings
from django.http import HttpRequest

from inuk.api.errors import ApiError

#: Content types of the raw body, and the format each names (None: told from the content).
RAW_TYPES: dict[str, str | None] = {
    "application/xml": "xml",
    "text/xml": "xml",
    "text/csv": "csv",
    "application/json": "json",
    "application/octet-stream": None,
    "": None,
}
MULTIPART = "multipart/form-data"
#: Room for the multipart boundaries and part headers around the file itself.
MULTIPART_OVERHEAD = 64 * 1024


@dataclass
class Upload:
    stream: BinaryIO
    filename: str
    format: str | None


def _content_length(request: HttpRequest) -> int:
    announced = request.META.get("CONTENT_LENGTH") or ""
    if not announced:
        # No length and no transfer coding is an empty body (RFC 9112 §6.3). Django reads
        # nothing without a length, so a chunked body that reached it would seem empty too.
        if request.META.get("HTTP_TRANSFER_ENCODING"):
            raise ApiError("LENGTH_REQUIRED")
        return 0
    try:
        length = int(announced)
    except ValueError:
        raise ApiError("LENGTH_REQUIRED") from None
    if length < 0:
        raise ApiError("LENGTH_REQUIRED")
    return length


def upload_from(request: HttpRequest) -> Upload:
    """The delivery file in ``request``; ``ApiError`` (400, 411, 413, 415) if there is none."""
    content_type = (request.content_type or "").strip().lower()
    if content_type != MULTIPART and content_type not in RAW_TYPES:
        raise ApiError("UNSUPPORTED_MEDIA_TYPE")
    length = _content_length(request)
    limit = settings.INUK_MAX_DELIVERY_BYTES
    if content_type == MULTIPART:
        if length > limit + MULTIPART_OVERHEAD:
            raise ApiError("FILE_TOO_LARGE")
        uploaded = request.FILES.get("file")
        if uploaded is None:
            raise ApiError("FILE_FIELD_MISSING")
        if uploaded.size == 0:
            raise ApiError("FILE_EMPTY")
        if uploaded.size is not None and uploaded.size > limit:
            raise ApiError("FILE_TOO_LARGE")
        return Upload(cast(BinaryIO, uploaded), uploaded.name or "", None)
    if length > limit:
        raise ApiError("FILE_TOO_LARGE")
    if length == 0:
        raise ApiError("FILE_EMPTY")
    # The request itself reads like a file: from the input stream, up to Content-Length.
    return Upload(cast(BinaryIO, request), "", RAW_TYPES[content_type])
