from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from cases import views as cases_views
from core import drafts as core_drafts
from core import reauth, twofactor
from core import sessions as core_sessions
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
    path("accounts/two-factor/", twofactor.two_factor, name="two_factor"),
    path("accounts/two-factor/setup/", twofactor.two_factor_setup, name="two_factor_setup"),
    path("accounts/two-factor/verify/", twofactor.two_factor_verify, name="two_factor_verify"),
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
    path("accounts/session/", core_sessions.session_status, name="session_status"),
    path(
        "accounts/session/keepalive/",
        core_sessions.session_keepalive,
        name="session_keepalive",
    ),
    path("accounts/drafts/", core_drafts.draft, name="draft"),
    path("accounts/drafts/discard/", core_drafts.draft_discard, name="draft_discard"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", core_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]

handler404 = "core.views.page_not_found"
handler403 = "core.views.permission_denied"
handler500 = "core.views.server_error"
