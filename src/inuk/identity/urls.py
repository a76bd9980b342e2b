"""The identity officer's pages, under /identitet/."""

from django.urls import path

from inuk.identity import views

app_name = "identity"
urlpatterns = [
    path("", views.lookup, name="lookup"),
    path("byte-av-nummer/", views.link, name="link"),
    path("registerutdrag/", views.extract, name="extract"),
]
