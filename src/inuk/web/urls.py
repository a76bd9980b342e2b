from django.urls import path

from inuk.web import start, views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("format/", views.format_page, name="format"),
    path("oversikt/", start.start, name="start"),
]
