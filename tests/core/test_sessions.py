"""Sessions end after the idle timeout and after their absolute lifetime, and with the account.

Time is moved by rewriting the session's own stamps (core.sessions), not by sleeping.
"""

import os
import subprocess
import sys
import time

import pytest
from django.conf import settings as django_settings
from django.contrib.messages import get_messages
from django.contrib.sessions.backends import cached_db
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.urls import reverse
from django.utils import translation
from django.utils.translation import ngettext

from core.models import AuditAction, AuditEntry
from core.sessions import LAST_ACTIVITY_AT, SIGNED_IN_AT

pytestmark = pytest.mark.django_db

IDLE = 30 * 60
MAX_AGE = 10 * 3600


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.KIJUFAZ_IDLE_TIMEOUT = IDLE
    settings.KIJUFAZ_IDLE_WARNING = 120
    settings.KIJUFAZ_SESSION_MAX_AGE = MAX_AGE


@pytest.fixture
def signed_in(client, asd):
    client.force_login(asd)
    return client


def _set_stamps(client, *, signed_in_ago: float, idle_for: float) -> None:
    """Pretend the user signed in `signed_in_ago` seconds ago and was last active `idle_for` ago."""
    session = client.session
    now = time.time()
    session[SIGNED_IN_AT] = now - signed_in_ago
    session[LAST_ACTIVITY_AT] = now - idle_for
    session.save()


def idle_message(minutes: int) -> str:
    """The German sign-out message ("Sie wurden nach 30 Minuten ohne Aktivität abgemeldet.")."""
    with translation.override("de"):
        return ngettext(
            "You were signed out after %(minutes)d minute without activity. Please sign in again.",
            "You were signed out after %(minutes)d minutes without activity. Please sign in again.",
            minutes,
        ) % {"minutes": minutes}


def _is_signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def _last_logout(user) -> AuditEntry:
    return AuditEntry.objects.filter(user=user, action=AuditAction.LOGOUT).latest("id")


def test_signing_in_stamps_the_session(client, asd):
    before = time.time()
    client.post(reverse("login"), {"username": "asd", "password": "demo"})

    assert before <= client.session[SIGNED_IN_AT] <= time.time()
    assert client.session[LAST_ACTIVITY_AT] == client.session[SIGNED_IN_AT]


def test_a_request_after_the_idle_timeout_signs_out_and_asks_to_sign_in_again(signed_in, asd):
    _set_stamps(signed_in, signed_in_ago=IDLE + 60, idle_for=IDLE + 1)

    response = signed_in.get(reverse("cases:case_list") + "?status=open")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/cases/%3Fstatus%3Dopen"
    assert not _is_signed_in(signed_in)
    message = [str(m) for m in get_messages(response.wsgi_request)]
    assert message[0].startswith(idle_message(30))


def test_a_form_posted_after_the_timeout_continues_on_its_page_after_signing_in(signed_in, case):
    _set_stamps(signed_in, signed_in_ago=IDLE + 60, idle_for=IDLE + 1)
    case_page = reverse("cases:case_detail", args=[case.pk])

    response = signed_in.post(
        reverse("cases:note_add", args=[case.pk]),
        {"kind": "note", "text": "zu spät"},
        HTTP_REFERER=f"http://testserver{case_page}?tab=journal",
    )

    assert response["Location"] == f"/accounts/login/?next={case_page}%3Ftab%3Djournal"
    assert not case.notes.filter(text="zu spät").exists()


def test_a_foreign_referer_is_no_place_to_continue(signed_in, case):
    _set_stamps(signed_in, signed_in_ago=IDLE + 60, idle_for=IDLE + 1)

    response = signed_in.post(
        reverse("cases:note_add", args=[case.pk]),
        {"kind": "note", "text": "x"},
        HTTP_REFERER="https://evil.example/phish",
    )

    assert response["Location"] == "/accounts/login/?next=/"


def test_the_idle_timeout_is_audited_as_a_logout_with_its_reason(signed_in, asd):
    _set_stamps(signed_in, signed_in_ago=IDLE + 60, idle_for=IDLE + 1)

    signed_in.get(reverse("desk"))

    assert _last_logout(asd).changes == {"reason": "idle timeout"}


def test_the_login_page_after_a_timeout_shows_why(signed_in):
    _set_stamps(signed_in, signed_in_ago=IDLE + 60, idle_for=IDLE + 1)

    response = signed_in.get(reverse("desk"), follow=True)

    assert idle_message(30) in response.text


def test_activity_before_the_limit_keeps_the_session(signed_in):
    _set_stamps(signed_in, signed_in_ago=IDLE + 60, idle_for=IDLE - 60)

    assert signed_in.get(reverse("desk")).status_code == 200
    # The request counted as activity: the idle clock starts again.
    assert time.time() - signed_in.session[LAST_ACTIVITY_AT] < 5
    _set_stamps(signed_in, signed_in_ago=2 * IDLE, idle_for=IDLE - 60)
    assert signed_in.get(reverse("desk")).status_code == 200


def test_the_absolute_lifetime_ends_even_an_active_session(signed_in, asd):
    _set_stamps(signed_in, signed_in_ago=MAX_AGE + 1, idle_for=5)

    response = signed_in.get(reverse("desk"))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/")
    assert not _is_signed_in(signed_in)
    assert _last_logout(asd).changes == {"reason": "session lifetime reached"}


def test_keepalive_extends_the_idle_time_but_not_the_lifetime(signed_in):
    _set_stamps(signed_in, signed_in_ago=MAX_AGE - 100, idle_for=IDLE - 10)

    response = signed_in.post(reverse("session_keepalive"))

    assert response.status_code == 200
    assert response.json()["idle"] >= IDLE - 1
    assert 95 <= response.json()["lifetime"] <= 100
    assert MAX_AGE - 100 <= time.time() - signed_in.session[SIGNED_IN_AT] < MAX_AGE - 95


def test_keepalive_after_the_lifetime_is_refused(signed_in):
    _set_stamps(signed_in, signed_in_ago=MAX_AGE + 1, idle_for=1)

    response = signed_in.post(reverse("session_keepalive"), HTTP_ACCEPT="application/json")

    assert response.status_code == 401
    assert response.json()["login_url"] == reverse("login")
    assert not _is_signed_in(signed_in)


def test_keepalive_is_post_only(signed_in):
    assert signed_in.get(reverse("session_keepalive")).status_code == 405


def test_the_status_poll_and_draft_autosave_do_not_count_as_activity(signed_in):
    _set_stamps(signed_in, signed_in_ago=600, idle_for=500)
    before = signed_in.session[LAST_ACTIVITY_AT]

    status = signed_in.get(reverse("session_status"))
    signed_in.post(
        reverse("draft"),
        {"key": "/cases/1/notes/", "data": {"text": ["Notiz"]}},
        content_type="application/json",
    )

    assert status.json()["idle"] in (IDLE - 501, IDLE - 500)
    assert signed_in.session[LAST_ACTIVITY_AT] == before


def test_autosave_after_the_idle_timeout_answers_401_in_json(signed_in):
    _set_stamps(signed_in, signed_in_ago=IDLE + 60, idle_for=IDLE + 1)

    response = signed_in.post(
        reverse("draft"), {"key": "/x/", "data": {}}, content_type="application/json"
    )

    assert response.status_code == 401
    assert not _is_signed_in(signed_in)


def test_a_session_without_stamps_starts_its_clock_at_the_next_request(signed_in):
    session = signed_in.session
    del session[SIGNED_IN_AT], session[LAST_ACTIVITY_AT]
    session.save()

    assert signed_in.get(reverse("desk")).status_code == 200
    assert time.time() - signed_in.session[SIGNED_IN_AT] < 5


def test_the_body_tells_the_warning_script_the_timeout(signed_in, settings):
    settings.KIJUFAZ_IDLE_TIMEOUT = 900
    settings.KIJUFAZ_IDLE_WARNING = 60

    html = signed_in.get(reverse("desk")).text

    assert 'data-session-timeout="900" data-session-warning="60"' in html
    assert f'data-session-lifetime-left="{MAX_AGE}"' in html or (
        f'data-session-lifetime-left="{MAX_AGE - 1}"' in html
    )
    assert 'role="alertdialog"' in html
    assert "js/session-timeout.js" in html


def test_anonymous_pages_carry_no_timeout(client):
    html = client.get(reverse("login")).text

    assert "data-session-timeout" not in html
    assert "session-timeout.js" not in html


# --- Disabling a user ends their sessions -------------------------------------------------


def _sessions_of(user) -> list[Session]:
    return [
        s for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(user.pk)
    ]


def test_disabling_a_user_ends_their_sessions(client, asd, asd_colleague, django_user_model):
    client.force_login(asd)
    other_browser = client.__class__()
    other_browser.force_login(asd_colleague)
    assert len(_sessions_of(asd)) == 1
    cached = cached_db.KEY_PREFIX + client.session.session_key
    assert cache.get(cached) is not None

    asd.is_active = False
    asd.save()

    assert _sessions_of(asd) == []
    assert cache.get(cached) is None, "the session is read from the cache first"
    assert len(_sessions_of(asd_colleague)) == 1
    response = client.get(reverse("desk"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert _last_logout(asd).changes == {"reason": "account disabled", "sessions": 1}


def test_the_disabled_users_next_request_is_anonymous(client, asd):
    client.force_login(asd)

    asd.is_active = False
    asd.save(update_fields=["is_active"])

    response = client.get(reverse("session_status"))
    assert response.status_code == 401
    assert response.wsgi_request.user.is_anonymous


def test_saving_an_active_user_keeps_their_sessions(client, asd):
    client.force_login(asd)

    asd.first_name = "Anna"
    asd.save()

    assert len(_sessions_of(asd)) == 1
    assert client.get(reverse("desk")).status_code == 200


# --- Where sessions are read from -------------------------------------------------------


def _session_engine(**environ: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "CACHE_URL"}
    result = subprocess.run(  # noqa: S603 (fixed command line)
        [
            sys.executable,
            "-c",
            "import django; django.setup(); "
            "from django.conf import settings; print(settings.SESSION_ENGINE)",
        ],
        cwd=django_settings.BASE_DIR,
        env={**env, **environ, "DJANGO_SETTINGS_MODULE": "kijufaz.settings"},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_sessions_are_read_from_the_shared_cache_only():
    # A cache of each process's own would keep a session that another process ended.
    assert _session_engine() == "django.contrib.sessions.backends.db"
    assert _session_engine(CACHE_URL="redis://127.0.0.1:6379/9") == (
        "django.contrib.sessions.backends.cached_db"
    )
