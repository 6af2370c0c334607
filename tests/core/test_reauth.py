"""Sensitive actions ask for the password again when the last confirmation is stale."""

import time

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from core.models import AuditAction, AuditEntry
from core.reauth import SESSION_KEY

pytestmark = pytest.mark.django_db

CASE_EXPORT = "/cases/export.csv"
# The messages as the German UI shows them (gettext, LANGUAGE_CODE = "de").
with translation.override("de"):
    WRONG_PASSWORD = gettext("The password is not correct. Please try again.")
    EMPTY_PASSWORD = gettext("Please enter your password.")


def _make_stale(client) -> None:
    session = client.session
    session[SESSION_KEY] = int(time.time()) - 3600
    session.save()


def _confirm_url(next_path: str) -> str:
    return reverse("confirm_password") + "?next=" + next_path


def test_a_fresh_login_counts_as_confirmed(client, asd):
    client.force_login(asd)

    response = client.get(CASE_EXPORT)

    assert response.status_code == 200
    assert SESSION_KEY in client.session


def test_a_stale_session_is_sent_to_confirm_the_password(client, asd):
    client.force_login(asd)
    _make_stale(client)

    response = client.get(CASE_EXPORT + "?status=open")

    assert response.status_code == 302
    assert (
        response["Location"]
        == reverse("confirm_password") + "?next=%2Fcases%2Fexport.csv%3Fstatus%3Dopen"
    )
    assert not AuditEntry.objects.filter(action=AuditAction.EXPORT).exists()


def test_a_stale_post_is_sent_back_to_the_same_page_after_confirming(client, leitung):
    client.force_login(leitung)
    _make_stale(client)
    path = reverse("budgets:reallocation_decide", args=[999999])

    response = client.post(path, {"decision": "approve"})

    assert response.status_code == 302
    assert response["Location"] == reverse("confirm_password") + "?next=" + path.replace("/", "%2F")


def test_a_forbidden_user_still_gets_403_not_a_password_prompt(client, asd):
    client.force_login(asd)
    _make_stale(client)

    response = client.get(reverse("budgets:reallocation_decide", args=[1]))

    assert response.status_code == 403


def test_the_correct_password_confirms_refreshes_and_returns_to_next(client, asd):
    client.force_login(asd)
    _make_stale(client)
    before = time.time()

    response = client.post(reverse("confirm_password"), {"password": "demo", "next": CASE_EXPORT})

    assert response.status_code == 302
    assert response["Location"] == CASE_EXPORT
    assert client.session[SESSION_KEY] >= int(before)
    assert client.get(CASE_EXPORT).status_code == 200
    entry = AuditEntry.objects.filter(user=asd, action=AuditAction.LOGIN).latest("at")
    assert entry.changes == {"step": "password_confirmed"}


def test_a_wrong_password_shows_a_german_error_and_stays(client, asd):
    client.force_login(asd)
    _make_stale(client)

    response = client.post(reverse("confirm_password"), {"password": "falsch", "next": CASE_EXPORT})

    assert response.status_code == 200
    assert response.context["form"].errors["password"] == [WRONG_PASSWORD]
    assert client.session[SESSION_KEY] < time.time() - 1000
    assert client.get(CASE_EXPORT).status_code == 302


def test_an_empty_password_shows_a_german_error(client, asd):
    client.force_login(asd)

    response = client.post(reverse("confirm_password"), {"password": ""})

    assert response.status_code == 200
    assert response.context["form"].errors["password"] == [EMPTY_PASSWORD]


@pytest.mark.parametrize(
    "evil",
    ["https://evil.example/", "//evil.example/steal", "http://testserver.evil.example/"],
)
def test_an_open_redirect_in_next_is_refused(client, asd, evil):
    client.force_login(asd)

    response = client.post(reverse("confirm_password"), {"password": "demo", "next": evil})

    assert response.status_code == 302
    assert response["Location"] == reverse("desk")


def test_the_form_does_not_echo_a_foreign_next(client, asd):
    client.force_login(asd)

    response = client.get(reverse("confirm_password") + "?next=https://evil.example/")

    assert response.context["next"] == ""


def test_repeated_wrong_passwords_lock_the_account_like_failed_logins(client, asd, settings):
    client.force_login(asd)
    for __ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("confirm_password"), {"password": "falsch"})

    response = client.post(reverse("confirm_password"), {"password": "demo"})

    assert response.status_code == 429
    assert SESSION_KEY in client.session
