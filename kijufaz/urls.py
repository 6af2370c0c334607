from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from cases import views as cases_views
from core import reauth
from core import views as core_views

urlpatterns = [
    path("", cases_views.desk, name="desk"),
    path("cases/", include("cases.urls")),
    path("resources/", include("cases.resource_urls")),
    path("providers/", include("providers.urls")),
    path("budgets/", include("budgets.urls")),
    path("controlling/", include("controlling.urls")),
    path("privacy/", include("privacy.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/confirm-password/", reauth.confirm_password, name="confirm_password"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", core_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]

handler404 = "core.views.page_not_found"
handler403 = "core.views.permission_denied"
handler500 = "core.views.server_error"
