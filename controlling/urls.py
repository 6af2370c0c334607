from django.urls import path

from . import views

app_name = "controlling"

urlpatterns = [
    path("reports/", views.report_list, name="report_list"),
    path("reports/status/", views.report_status, name="report_status"),
    path("reports/subscription/", views.report_subscription, name="report_subscription"),
    path("reports/<int:pk>/download/", views.report_download, name="report_download"),
    path("schedules/", views.schedules, name="schedules"),
    path("workshops/", views.workshop_list, name="workshop_list"),
    path("workshops/new/", views.workshop_new, name="workshop_new"),
    path("workshops/<int:pk>/", views.workshop_detail, name="workshop_detail"),
    path("actions/<int:pk>/done/", views.action_item_done, name="action_item_done"),
]
