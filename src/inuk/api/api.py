"""The REST API, version 1, assembled from its routers: ``/api/v1/``.

Its OpenAPI description is at ``/api/v1/openapi.json`` and a readable page at
``/api/v1/docs``. The page's Swagger UI is served from django-ninja's own
static files (``ninja`` is an installed app for that), never from a CDN: the
service works without internet access.
"""

from __future__ import annotations

from ninja import NinjaAPI
from ninja.renderers import JSONRenderer

from inuk.api import deliveries, erasures, errors, identity, reference, stats
from inuk.api.auth import SessionUserAuth, TokenAuth

DESCRIPTION = """\
INUK tar emot kommunernas leveranser av insatser och resultat och lämnar kvittenser.
INUK receives the municipalities' deliveries of interventions and results and answers with
receipts.

**Autentisering / Authentication:** `Authorization: Bearer inuk_<id>_<secret>`, an API token
created on the service's token page (permissions *deliver* and *read*); or the web pages'
session cookie, with the CSRF token in `X-CSRFToken` on POST.

**Fel / Errors:** every error is `{"error": {"code", "message_sv", "message_en"}}` with a
stable code. **Gränser / Limits:** a number of requests per minute per token or user
(`INUK_API_RATE_PER_MINUTE`, 60 by default); over it the answer is 429 with `Retry-After`.

**Statistik / Statistics:** `GET /api/v1/stats` lists the indicators and their
definitions; `GET /api/v1/stats/{indicator}` gives their figures as JSON rows, CSV, Excel or
JSON-stat 2.0, protected by disclosure control for everyone but AF's national analysts (the
answer names the method). Tokens need the permission *read*.

The delivery format, its error codes and `inuk submit` are described in the format
documentation (`/format/` on the service).
"""


class Renderer(JSONRenderer):
    # Swedish messages stay readable: å, ä and ö as themselves, not \\u escapes.
    json_dumps_params = {"ensure_ascii": False}


api = NinjaAPI(
    title="INUK API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api-1",
    auth=[TokenAuth(), SessionUserAuth()],
    renderer=Renderer(),
)
errors.install(api)
api.add_router("/", deliveries.router)
api.add_router("/", reference.router)
api.add_router("/", stats.router)
api.add_router("/", erasures.router)
api.add_router("/", identity.router)
