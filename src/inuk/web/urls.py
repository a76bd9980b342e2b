from django.urls import path

from inuk.web import views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("format/", views.format_page, name="format"),
]
