from django.urls import path

from . import views

app_name = "cases"

urlpatterns = [
    path("", views.case_list, name="case_list"),
    path("export.csv", views.case_export, {"fmt": "csv"}, name="case_export_csv"),
    path("export.xlsx", views.case_export, {"fmt": "xlsx"}, name="case_export_xlsx"),
    path("new/", views.case_open, name="case_open"),
    path("<int:pk>/", views.case_detail, name="case_detail"),
    path("<int:pk>/close/", views.case_close, name="case_close"),
    path("<int:pk>/reassign/", views.case_reassign, name="case_reassign"),
    path("<int:pk>/notes/", views.note_add, name="note_add"),
    path("<int:pk>/helps/new/", views.help_add, name="help_add"),
    path("<int:pk>/risk/new/", views.risk_assessment_add, name="risk_add"),
    path("<int:pk>/consultations/new/", views.consultation_add, name="consultation_add"),
    path("families/<int:pk>/", views.family_detail, name="family_detail"),
    path("families/<int:pk>/edit/", views.family_edit, name="family_edit"),
    path("families/<int:pk>/persons/new/", views.person_add, name="person_add"),
    path("families/<int:pk>/cases/new/", views.family_case_open, name="family_case_open"),
    path("persons/<int:pk>/edit/", views.person_edit, name="person_edit"),
    path("helps/<int:pk>/end/", views.help_end, name="help_end"),
    path("helps/<int:pk>/hours/", views.help_hours_change, name="help_hours"),
    path("helps/<int:pk>/plans/new/", views.plan_new, name="plan_new"),
    path("plans/<int:pk>/", views.plan_detail, name="plan_detail"),
    path("plans/<int:pk>/pdf/", views.plan_pdf, name="plan_pdf"),
    path("approvals/<int:pk>/", views.approval_decide, name="approval_decide"),
    path("risk/<int:pk>/", views.risk_assessment_edit, name="risk_edit"),
    path("<int:pk>/access/", views.case_access, name="case_access"),
    path("<int:pk>/confidential/", views.case_confidential, name="case_confidential"),
    path("access/<int:pk>/revoke/", views.grant_revoke, name="grant_revoke"),
    path("deputies/", views.deputy_list, name="deputy_list"),
    path("deputies/<int:pk>/revoke/", views.deputy_revoke, name="deputy_revoke"),
    path("notes/<int:pk>/readers/", views.note_readers, name="note_readers"),
]
