from django.urls import path

from . import views

app_name = "providers"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("hours/", views.hour_sheet, name="hour_sheet"),
    path("hours/<int:pk>/edit/", views.entry_edit, name="entry_edit"),
    path("hours/<int:pk>/delete/", views.entry_delete, name="entry_delete"),
    path("hours/<int:pk>/correct/", views.entry_correct, name="entry_correct"),
    path("hours/copy-last-week/", views.copy_last_week, name="copy_last_week"),
    path("hours/group-session/", views.group_split, name="group_split"),
    path(
        "approvals/<int:staff_id>/<int:year>-<int:month>/",
        views.month_review,
        name="month_review",
    ),
    path("export.csv", views.export_month, {"fmt": "csv"}, name="export_csv"),
    path("export.xlsx", views.export_month, {"fmt": "xlsx"}, name="export_xlsx"),
    path(
        "helps/<int:pk>/proof/<int:year>-<int:month>.pdf",
        views.proof_of_service,
        name="proof_of_service",
    ),
    path("summary/", views.summary, name="summary"),
    path("groups/", views.group_offer_list, name="group_offer_list"),
    path("groups/new/", views.group_offer_new, name="group_offer_new"),
    path("groups/<int:pk>/", views.group_offer_detail, name="group_offer_detail"),
]
