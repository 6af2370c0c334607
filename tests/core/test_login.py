import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_login_with_right_password_lands_on_desk(client, asd):
    response = _login(client, "asd", "demo")
    assert response.status_code == 302
    assert response.url == reverse("desk")


def test_wrong_password_shows_a_german_message(client, asd):
    response = _login(client, "asd", "falsch")
    assert response.status_code == 200
    assert "Bitte Benutzername und Passwort eingeben" in response.text


def test_login_is_throttled_after_repeated_failures(client, asd, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "asd", "falsch")
    response = _login(client, "asd", "demo")
    # Locked out: even the right password is refused for the cool-off time.
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_passwords_are_hashed_with_argon2_in_production_settings():
    from kijufaz import settings as project_settings

    assert project_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
