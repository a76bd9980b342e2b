from django.urls import path

from inuk.web import agreements as views

app_name = "organisations"
urlpatterns = [
    path("", views.agreements, name="agreements"),
    path("<str:kommunkod>/", views.agreement_detail, name="agreement"),
]
