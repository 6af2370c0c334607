from django.urls import path  # noqa: F401

from . import access_request_views, audit_views
from . import views as retention_views

app_name = "privacy"

urlpatterns = []

urlpatterns += [
    path("access-request/", access_request_views.access_request, name="access_request"),
    path(
        "access-request/<int:pk>/",
        access_request_views.access_request_preview,
        name="access_request_preview",
    ),
    path(
        "access-request/<int:pk>/json/",
        access_request_views.access_request_json,
        name="access_request_json",
    ),
    path(
        "access-request/<int:pk>/pdf/",
        access_request_views.access_request_pdf,
        name="access_request_pdf",
    ),
]

# Retention (Löschfristen) and restricted cases (§ 84 SGB X).
urlpatterns += [
    path("retention/", retention_views.retention_due, name="retention_due"),
    path("retention/rules/", retention_views.retention_rules, name="retention_rules"),
    path(
        "retention/rules/<int:pk>/",
        retention_views.retention_rule_edit,
        name="retention_rule_edit",
    ),
    path("retention/runs/", retention_views.retention_runs, name="retention_runs"),
    path("retention/runs/<int:pk>/", retention_views.retention_run, name="retention_run"),
    path(
        "retention/runs/<int:pk>/status/",
        retention_views.retention_run_status,
        name="retention_run_status",
    ),
    path(
        "retention/runs/<int:pk>/approve/",
        retention_views.retention_run_approve,
        name="retention_run_approve",
    ),
    path(
        "retention/runs/<int:pk>/reject/",
        retention_views.retention_run_reject,
        name="retention_run_reject",
    ),
    path("retention/holds/", retention_views.retention_holds, name="retention_holds"),
    path(
        "retention/holds/<int:pk>/lift/",
        retention_views.retention_hold_lift,
        name="retention_hold_lift",
    ),
    path("restricted/", retention_views.restricted_cases, name="restricted_cases"),
    path("restricted/<int:pk>/", retention_views.restricted_access, name="restricted_access"),
    path("restricted/<int:pk>/read/", retention_views.restricted_case, name="restricted_case"),
]

# The audit log viewer (data protection officer).
urlpatterns += [
    path("audit/", audit_views.audit_log, name="audit_log"),
    path("audit/export.csv", audit_views.audit_export, {"fmt": "csv"}, name="audit_export_csv"),
    path("audit/export.xlsx", audit_views.audit_export, {"fmt": "xlsx"}, name="audit_export_xlsx"),
    path("audit/verify/", audit_views.audit_verify, name="audit_verify"),
]
