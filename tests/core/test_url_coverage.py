"""Every URL the project serves is checked by exactly one permission table.

The apps' matrices (tests/<app>/test_permissions.py, tests/cases/test_resources.py)
cover their namespaces; the project-level pages (sign-in, password, language,
health probe) have their table here, and the Django admin is covered by one rule:
only the superuser gets in (DOMAIN.md: the admin keeps users and master data), and
not even she reads the audit log. A view added without a row in one of the tables
fails `test_every_url_pattern_is_in_exactly_one_permission_table`.
"""

import pytest
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from core.models import AuditEntry
from tests.budgets import test_permissions as budgets_permissions
from tests.cases import test_permissions as cases_permissions
from tests.cases import test_resources as resources_permissions
from tests.controlling import test_permissions as controlling_permissions
from tests.pages import sign_in_as
from tests.privacy import test_permissions as privacy_permissions
from tests.providers import test_permissions as providers_permissions

pytestmark = pytest.mark.django_db

PERSONAS = (
    "anonymous",
    "asd",
    "asd_colleague",
    "asdlead",
    "asd_other_team",
    "fachkraft",
    "traegerleitung",
    "fachkraft_other_provider",
    "leitung",
    "controlling",
    "datenschutz",
    "admin_user",
)

# fmt: off
# Columns in the order of PERSONAS:
#                anon asd  coll lead oteam staff plead oprov leit ctrl dsb  admin
EVERYONE     = (200, 200, 200, 200, 200,  200,  200,  200,  200, 200, 200, 200)
REDIRECTED   = (302, 302, 302, 302, 302,  302,  302,  302,  302, 302, 302, 302)
NOT_ALLOWED  = (405, 405, 405, 405, 405,  405,  405,  405,  405, 405, 405, 405)
SIGNED_IN    = (302, 200, 200, 200, 200,  200,  200,  200,  200, 200, 200, 200)
SUPERUSER    = (302, 302, 302, 302, 302,  302,  302,  302,  302, 302, 302, 200)
# JSON endpoints of the session warning and the drafts (core.sessions, core.drafts):
# signed out they answer 401 (the script then reloads the page instead of following a
# redirect to the login page); an empty or non-JSON body is a 400 for everybody.
JSON_SIGNED_IN = (401, 200, 200, 200, 200,  200,  200,  200,  200, 200, 200, 200)
JSON_NO_BODY   = (401, 400, 400, 400, 400,  400,  400,  400,  400, 400, 400, 400)

PROJECT_MATRIX = {
    ("login", "GET"):                EVERYONE,
    # Signing out is POST only (no logout by a forged link).
    ("logout", "GET"):               NOT_ALLOWED,
    ("logout", "POST"):              REDIRECTED,
    ("password_change", "GET"):      SIGNED_IN,
    # An empty form is shown again with its errors; nothing changes.
    ("password_change", "POST"):     SIGNED_IN,
    ("password_change_done", "GET"): SIGNED_IN,
    ("set_language", "GET"):         REDIRECTED,
    ("set_language", "POST"):        REDIRECTED,
    ("healthz", "GET"):              EVERYONE,
    # Re-authentication before sensitive actions; an empty form is shown again.
    ("confirm_password", "GET"):     SIGNED_IN,
    ("confirm_password", "POST"):    SIGNED_IN,
    # Two-factor sign-in (off in the suite: the personas have no authenticator yet).
    ("two_factor", "GET"):           SIGNED_IN,
    # Renewing backup codes without an authenticator sends to the enrolment.
    ("two_factor", "POST"):          REDIRECTED,
    ("two_factor_setup", "GET"):     SIGNED_IN,
    ("two_factor_setup", "POST"):    SIGNED_IN,
    # Without an authenticator there is nothing to verify: on to the enrolment.
    ("two_factor_verify", "GET"):    REDIRECTED,
    ("two_factor_verify", "POST"):   REDIRECTED,
    # Seconds left of the session; a background poll that is no activity.
    ("session_status", "GET"):       JSON_SIGNED_IN,
    # "Stay signed in" (POST only).
    ("session_keepalive", "GET"):    NOT_ALLOWED,
    ("session_keepalive", "POST"):   JSON_SIGNED_IN,
    # Each user reads and writes only their own drafts; a key (GET) or a JSON body is needed.
    ("draft", "GET"):                JSON_NO_BODY,
    ("draft", "POST"):               JSON_NO_BODY,
    ("draft_discard", "GET"):        NOT_ALLOWED,
    ("draft_discard", "POST"):       JSON_NO_BODY,
}
# fmt: on

# Anonymous visitors of these pages are sent to the login page (not the admin login).
LOGIN_REQUIRED = {
    "password_change",
    "password_change_done",
    "confirm_password",
    "two_factor",
    "two_factor_setup",
    "two_factor_verify",
}

# The whole `admin` namespace is one rule; it is asserted on the index and on the
# changelist of every registered model below.
ADMIN_NAMESPACE = "admin"


def _app_table(namespace: str, matrix: dict) -> set[str]:
    return {f"{namespace}:{name}" for name, __ in matrix}


def _cases_table() -> set[str]:
    # The desk ("/") is a project URL but lives in the cases matrix.
    return {name if name == "desk" else f"cases:{name}" for name, __ in cases_permissions.MATRIX}


# Table name → the qualified URL names it covers.
TABLES = {
    "tests/cases/test_permissions.py": _cases_table(),
    "tests/cases/test_resources.py": _app_table("resources", resources_permissions.MATRIX),
    "tests/providers/test_permissions.py": _app_table("providers", providers_permissions.MATRIX),
    "tests/budgets/test_permissions.py": _app_table("budgets", budgets_permissions.MATRIX),
    "tests/controlling/test_permissions.py": _app_table(
        "controlling", controlling_permissions.MATRIX
    ),
    "tests/privacy/test_permissions.py": _app_table("privacy", privacy_permissions.MATRIX),
    "tests/core/test_url_coverage.py (project)": {name for name, __ in PROJECT_MATRIX},
}


def _walk(patterns, namespaces=(), prefix=""):
    """Qualified names ("cases:case_detail") of all patterns; unnamed ones by route."""
    for pattern in patterns:
        route = f"{prefix}{pattern.pattern}"
        if isinstance(pattern, URLResolver):
            inner = (*namespaces, pattern.namespace) if pattern.namespace else namespaces
            yield from _walk(pattern.url_patterns, inner, route)
        else:
            assert isinstance(pattern, URLPattern)
            yield ":".join((*namespaces, pattern.name or f"<unnamed {route}>"))


def all_url_names() -> set[str]:
    return set(_walk(get_resolver().url_patterns))


def _tables_covering(name: str) -> list[str]:
    tables = [table for table, names in TABLES.items() if name in names]
    if name.split(":", 1)[0] == ADMIN_NAMESPACE:
        tables.append("admin rule (tests/core/test_url_coverage.py)")
    return tables


def test_every_url_pattern_is_in_exactly_one_permission_table():
    coverage = {name: _tables_covering(name) for name in all_url_names()}

    unchecked = sorted(name for name, tables in coverage.items() if not tables)
    twice = {name: tables for name, tables in coverage.items() if len(tables) > 1}

    assert unchecked == [], f"URLs in no permission table: {unchecked}"
    assert twice == {}, f"URLs in more than one permission table: {twice}"


def test_permission_tables_name_no_url_that_does_not_exist():
    stale = {table: names - all_url_names() for table, names in TABLES.items()}

    assert stale == dict.fromkeys(TABLES, set())


def test_the_walk_sees_nested_namespaces_and_unnamed_patterns():
    """Guards the walk itself: a broken walk would make the coverage test pass vacuously."""
    names = all_url_names()

    assert {"desk", "healthz", "set_language", "cases:case_detail", "admin:index"} <= names
    assert any(name.startswith("admin:<unnamed ") for name in names)


# --- The project-level table -------------------------------------------------------


def _project_status(client, request, persona: str, name: str, method: str) -> int:
    sign_in_as(client, request, persona)
    url = reverse(name)
    response = client.post(url, {}) if method == "POST" else client.get(url)
    if persona == "anonymous" and name in LOGIN_REQUIRED:
        assert response["Location"].startswith("/accounts/login/")
    return response.status_code


@pytest.mark.parametrize(
    ("name", "method"), list(PROJECT_MATRIX), ids=[f"{n}-{m}" for n, m in PROJECT_MATRIX]
)
def test_each_persona_gets_the_status_the_project_table_says(client, request, name, method):
    expected = dict(zip(PERSONAS, PROJECT_MATRIX[name, method], strict=True))

    actual = {p: _project_status(client, request, p, name, method) for p in PERSONAS}

    assert actual == expected


# --- The admin rule ---------------------------------------------------------------


def _admin_status(client, request, persona: str, url: str) -> int:
    sign_in_as(client, request, persona)
    response = client.get(url)
    if response.status_code == 302:
        assert response["Location"].startswith(reverse("admin:login"))
    return response.status_code


def _changelist_url(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


REGISTERED_MODELS = sorted(admin.site._registry, key=lambda model: model._meta.label)


def test_only_the_superuser_gets_into_the_admin(client, request):
    url = reverse("admin:index")

    actual = {p: _admin_status(client, request, p, url) for p in PERSONAS}

    assert actual == dict(zip(PERSONAS, SUPERUSER, strict=True))


@pytest.mark.parametrize("model", REGISTERED_MODELS, ids=lambda model: model._meta.label)
def test_each_admin_changelist_is_for_the_superuser_only(client, request, model):
    actual = {p: _admin_status(client, request, p, _changelist_url(model)) for p in PERSONAS}

    assert actual == dict(zip(PERSONAS, SUPERUSER, strict=True))


def test_the_audit_log_has_no_admin_page():
    """Not even the superuser reads the audit log; the data protection officer reads it
    in the privacy app's viewer (tests/privacy/test_audit_viewer.py)."""
    assert AuditEntry not in admin.site._registry
