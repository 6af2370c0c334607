from django.urls import path

from . import views

app_name = "resources"

urlpatterns = [
    path("", views.resource_list, name="resource_list"),
    path("new/", views.resource_edit, name="resource_new"),
    path("<int:pk>/edit/", views.resource_edit, name="resource_edit"),
    path("export.csv", views.resource_export, name="resource_export"),
    path("print.pdf", views.resource_print, name="resource_print"),
    path("import/", views.resource_import, name="resource_import"),
]
