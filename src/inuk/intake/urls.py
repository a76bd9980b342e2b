"""The delivery pages, under /leveranser/."""

from django.urls import path

from inuk.intake import views

app_name = "intake"
urlpatterns = [
    path("", views.delivery_list, name="deliveries"),
    path("skicka/", views.upload, name="upload"),
    path("<uuid:public_id>/", views.receipt_page, name="receipt"),
    path("<uuid:public_id>/status.json", views.receipt_status, name="status"),
    path("<uuid:public_id>/fel.csv", views.receipt_messages_csv, name="messages_csv"),
    path("<uuid:public_id>/aterkalla/", views.withdraw_page, name="withdraw"),
]
