from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from inuk.api.api import api
from inuk.intake.erasure_views import erase_page
from inuk.web.health import healthz

#: A database that cannot be reached is a 503 with a clear message, not a 500.
handler500 = "inuk.web.errors.server_error"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    # One login for the whole service, with its throttle and second factor.
    path("admin/login/", RedirectView.as_view(pattern_name="login", query_string=True)),
    path("admin/", admin.site.urls),
    path("konto/", include("inuk.accounts.urls")),
    path("avtal/", include("inuk.web.agreement_urls")),
    path("leveranser/", include("inuk.intake.urls")),
    path("identitet/", include("inuk.identity.urls")),
    path("statistik/", include("inuk.stats.urls")),
    path("identitet/radera/", erase_page, name="erasure"),
    path("api/v1/", api.urls),
    path("", include("inuk.web.urls")),
]
