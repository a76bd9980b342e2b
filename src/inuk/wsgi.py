"""The WSGI application, ready before its first request.

The URLconf (and with it the API's schemas, about a second's work) is loaded
here rather than by the first visitor, so that no request pays for it.
"""

import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inuk.settings")
application = get_wsgi_application()
get_resolver().url_patterns  # noqa: B018 - imports every view
