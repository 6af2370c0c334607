from django.urls import path

from . import views

app_name = "budgets"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("export.csv", views.dashboard_export, {"fmt": "csv"}, name="export_csv"),
    path("export.xlsx", views.dashboard_export, {"fmt": "xlsx"}, name="export_xlsx"),
    path(
        "charts/<int:region_id>/<int:year>/<slug:kind>.svg",
        views.dashboard_chart,
        name="chart",
    ),
    path("<int:pk>/", views.contract_detail, name="contract_detail"),
    path("<int:pk>/postings/new/", views.posting_new, name="posting_new"),
    path("<int:pk>/reallocations/new/", views.reallocation_new, name="reallocation_new"),
    path("<int:pk>/close-month/", views.close_month, name="close_month"),
    path("reallocations/<int:pk>/decide/", views.reallocation_decide, name="reallocation_decide"),
    path(
        "reallocations/<int:pk>/reverse/", views.reallocation_reverse, name="reallocation_reverse"
    ),
]
