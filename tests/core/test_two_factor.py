"""Two-factor sign-in: with KIJUFAZ_REQUIRE_2FA on, a password alone opens nothing."""

import time

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.models import AuditAction, AuditEntry
from core.reauth import SESSION_KEY
from core.twofactor import BACKUP_CODE_COUNT, issue_backup_codes

pytestmark = pytest.mark.django_db

with translation.override("de"):
    INVALID_CODE = gettext("This code is not valid. Please check it and try again.")
    THROTTLED = gettext("Too many wrong codes. Please wait a moment and try again.")
    EMPTY_CODE = gettext("Please enter the code.")

VERIFY = reverse("two_factor_verify")
SETUP = reverse("two_factor_setup")
DESK = reverse("desk")


@pytest.fixture(autouse=True)
def _two_factor_on(settings):
    settings.KIJUFAZ_REQUIRE_2FA = True


def _authenticator(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Authenticator-App", confirmed=True)


def _current_code(device: TOTPDevice) -> str:
    device.refresh_from_db()
    return str(totp(device.bin_key, device.step, device.t0, device.digits, device.drift)).zfill(
        device.digits
    )


def _password_login(client, user) -> None:
    response = client.post(reverse("login"), {"username": user.username, "password": "demo"})
    assert response.status_code == 302


def _sign_in_with_second_factor(client, user) -> TOTPDevice:
    device = _authenticator(user)
    _password_login(client, user)
    response = client.post(VERIFY, {"token": _current_code(device)})
    assert response.status_code == 302
    return device


# --- Enforcement ----------------------------------------------------------------------


def test_a_password_only_session_cannot_open_the_desk(client, asd):
    _authenticator(asd)
    _password_login(client, asd)

    response = client.get(DESK)

    assert response.status_code == 302
    assert response["Location"] == f"{VERIFY}?next=%2F"


def test_an_account_without_authenticator_is_sent_to_the_enrolment(client, asd):
    _password_login(client, asd)

    response = client.get(reverse("cases:case_list"))

    assert response.status_code == 302
    assert response["Location"] == f"{SETUP}?next=%2Fcases%2F"


def test_unverified_users_still_reach_logout_health_probe_and_static_files(client, asd):
    _authenticator(asd)
    _password_login(client, asd)

    assert client.get(reverse("healthz")).status_code == 200
    assert client.get(VERIFY).status_code == 200
    assert client.get("/static/css/app.css").status_code != 302
    assert client.post(reverse("logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_an_htmx_request_of_an_unverified_user_is_redirected_by_htmx(client, asd):
    _authenticator(asd)
    _password_login(client, asd)

    response = client.get(DESK, headers={"HX-Request": "true"})

    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(VERIFY)


def test_the_admin_needs_the_second_factor_too(client, admin_user):
    _authenticator(admin_user)
    _password_login(client, admin_user)

    response = client.get(reverse("admin:index"))

    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY)


def test_with_the_setting_off_nothing_is_asked(client, asd, settings):
    settings.KIJUFAZ_REQUIRE_2FA = False
    _authenticator(asd)
    _password_login(client, asd)

    assert client.get(DESK).status_code == 200


# --- Verification ---------------------------------------------------------------------


def test_a_wrong_code_gives_a_german_error_and_lets_nobody_in(client, asd):
    _authenticator(asd)
    _password_login(client, asd)

    response = client.post(VERIFY, {"token": "000000", "next": DESK})

    assert response.status_code == 200
    assert response.context["form"].errors["token"] == [INVALID_CODE]
    assert client.get(DESK).status_code == 302
    failure = AuditEntry.objects.filter(action=AuditAction.LOGIN_FAILED).latest("at")
    assert failure.user == asd
    assert failure.changes["step"] == "two_factor"


def test_an_empty_code_gives_a_german_error(client, asd):
    _authenticator(asd)
    _password_login(client, asd)

    response = client.post(VERIFY, {"token": ""})

    assert response.context["form"].errors["token"] == [EMPTY_CODE]


def test_the_right_code_lets_in_and_is_audited(client, asd):
    device = _authenticator(asd)
    _password_login(client, asd)

    response = client.post(VERIFY, {"token": _current_code(device), "next": "/cases/"})

    assert response.status_code == 302
    assert response["Location"] == "/cases/"
    assert client.get(DESK).status_code == 200
    entry = AuditEntry.objects.filter(user=asd, action=AuditAction.LOGIN).latest("at")
    assert entry.changes == {"step": "two_factor_verified", "factor": "authenticator"}


def test_the_code_app_shows_with_spaces_is_accepted(client, asd):
    device = _authenticator(asd)
    _password_login(client, asd)
    code = _current_code(device)

    client.post(VERIFY, {"token": f"{code[:3]} {code[3:]}"})

    assert client.get(DESK).status_code == 200


def test_the_same_code_does_not_work_twice(client, asd):
    device = _authenticator(asd)
    _password_login(client, asd)
    code = _current_code(device)
    client.post(VERIFY, {"token": code})
    client.post(reverse("logout"))
    _password_login(client, asd)

    response = client.post(VERIFY, {"token": code})

    assert response.status_code == 200
    assert client.get(DESK).status_code == 302


def test_repeated_wrong_codes_are_throttled(client, asd):
    device = _authenticator(asd)
    _password_login(client, asd)
    client.post(VERIFY, {"token": "000000"})

    # Within the growing delay even the right code is not checked.
    response = client.post(VERIFY, {"token": _current_code(device)})

    assert response.context["form"].errors["token"] == [THROTTLED]
    assert client.get(DESK).status_code == 302


def test_an_open_redirect_after_verification_is_refused(client, asd):
    device = _authenticator(asd)
    _password_login(client, asd)

    response = client.post(
        VERIFY, {"token": _current_code(device), "next": "https://evil.example/"}
    )

    assert response["Location"] == DESK


# --- Backup codes ---------------------------------------------------------------------


def test_a_backup_code_works_once_and_only_once(client, asd):
    _authenticator(asd)
    code = issue_backup_codes(asd)[0]
    _password_login(client, asd)

    first = client.post(VERIFY, {"token": code.upper()})

    assert first.status_code == 302
    assert client.get(DESK).status_code == 200
    assert StaticToken.objects.filter(device__user=asd).count() == BACKUP_CODE_COUNT - 1
    entry = AuditEntry.objects.filter(user=asd, action=AuditAction.LOGIN).latest("at")
    assert entry.changes["factor"] == "backup_code"

    client.post(reverse("logout"))
    _password_login(client, asd)
    second = client.post(VERIFY, {"token": code})

    assert second.status_code == 200
    assert second.context["form"].errors["token"] == [INVALID_CODE]
    assert client.get(DESK).status_code == 302


def test_backup_codes_are_renewed_only_after_the_password_again(client, asd):
    _sign_in_with_second_factor(client, asd)
    old_codes = set(issue_backup_codes(asd))
    session = client.session
    session[SESSION_KEY] = int(time.time()) - 3600
    session.save()

    stale = client.post(reverse("two_factor"))

    assert stale.status_code == 302
    assert stale["Location"].startswith(reverse("confirm_password"))
    client.post(reverse("confirm_password"), {"password": "demo"})
    renewed = client.post(reverse("two_factor"))
    assert renewed["Location"] == reverse("two_factor")
    page = client.get(reverse("two_factor"))
    new_codes = page.context["new_codes"]
    assert len(new_codes) == BACKUP_CODE_COUNT
    assert not old_codes & set(new_codes)
    assert set(StaticToken.objects.filter(device__user=asd).values_list("token", flat=True)) == (
        set(new_codes)
    )
    # Shown once only.
    assert client.get(reverse("two_factor")).context["new_codes"] is None
    # The session stays verified with the same backup device.
    assert client.get(DESK).status_code == 200


# --- Enrolment ------------------------------------------------------------------------


def test_enrolment_shows_a_server_rendered_qr_code_and_activates_with_the_first_code(client, asd):
    _password_login(client, asd)

    page = client.get(SETUP + "?next=/cases/")

    html = page.content.decode()
    assert page.status_code == 200
    assert 'src="data:image/svg+xml' in html
    assert "<script>" not in html
    device = TOTPDevice.objects.get(user=asd, confirmed=False)
    assert page.context["manual_key"].replace(" ", "")

    wrong = client.post(SETUP, {"token": "000000"})
    assert wrong.context["form"].errors["token"] == [INVALID_CODE]
    device.throttle_reset()

    response = client.post(SETUP, {"token": _current_code(device), "next": "/cases/"})

    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    overview = client.get(response["Location"])
    assert len(overview.context["new_codes"]) == BACKUP_CODE_COUNT
    assert overview.context["next"] == "/cases/"
    assert client.get(DESK).status_code == 200
    assert AuditEntry.objects.filter(
        user=asd, action=AuditAction.CREATE, object_type="otp_totp.totpdevice"
    ).exists()


def test_an_unverified_user_cannot_replace_the_authenticator(client, asd):
    _authenticator(asd)
    _password_login(client, asd)

    response = client.get(SETUP)

    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY)
    assert TOTPDevice.objects.filter(user=asd).count() == 1


# --- The admin's reset ----------------------------------------------------------------


def test_the_admin_resets_a_users_second_factor_and_it_is_audited(client, admin_user, asd):
    _authenticator(asd)
    issue_backup_codes(asd)
    _sign_in_with_second_factor(client, admin_user)

    response = client.post(
        reverse("admin:core_user_changelist"),
        {"action": "reset_two_factor", "_selected_action": [asd.pk]},
    )

    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=asd).exists()
    assert not StaticDevice.objects.filter(user=asd).exists()
    assert TOTPDevice.objects.filter(user=admin_user).exists()
    entry = AuditEntry.objects.filter(action=AuditAction.DELETE, object_id=str(asd.pk)).get()
    assert entry.user == admin_user
    assert entry.object_type == "core.user"
    assert entry.changes == {"two_factor": "reset", "devices": 2}


def test_after_a_reset_the_user_enrols_again(client, asd):
    _authenticator(asd)
    TOTPDevice.objects.filter(user=asd).delete()
    _password_login(client, asd)

    assert client.get(DESK)["Location"].startswith(SETUP)


def test_a_verified_user_replaces_the_authenticator_after_the_password_again(client, asd):
    old = _sign_in_with_second_factor(client, asd)
    session = client.session
    session[SESSION_KEY] = int(time.time()) - 3600
    session.save()

    stale = client.get(SETUP)

    assert stale["Location"].startswith(reverse("confirm_password"))
    client.post(reverse("confirm_password"), {"password": "demo", "next": SETUP})
    page = client.get(SETUP)
    assert page.context["replacing"] is True
    new = TOTPDevice.objects.get(user=asd, confirmed=False)

    client.post(SETUP, {"token": _current_code(new)})

    assert list(TOTPDevice.objects.filter(user=asd)) == [new]
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()
    assert client.get(DESK).status_code == 200


def test_the_admin_never_sees_authenticator_secrets_or_backup_codes():
    assert not admin.site.is_registered(TOTPDevice)
    assert not admin.site.is_registered(StaticDevice)
