from django.urls import path

from inuk.stats import views

app_name = "stats"
urlpatterns = [
    path("", views.explorer_page, name="explorer"),
    path("metod/", views.methods_page, name="methods"),
]
