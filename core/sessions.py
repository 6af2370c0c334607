"""Session lifetime: an idle timeout, an absolute lifetime and ending a disabled user's sessions.

The session keeps two stamps (seconds since the epoch): when the user signed in and
when they last did something. A request after `KIJUFAZ_IDLE_TIMEOUT` seconds without
activity, or `KIJUFAZ_SESSION_MAX_AGE` seconds after signing in, signs the user out
(audited as a logout with its reason) and sends them to the login page with `next`.

What counts as activity: every request the user makes, except the ones the browser
makes on its own (`BACKGROUND_URL_NAMES`): the autosave of drafts and the status poll
of the timeout warning. An open tab therefore never keeps a session alive by itself.
Typing in a page is activity too: static/js/session-timeout.js sends a keep-alive at
most once a minute while the user types (that request is not a background one).

The middleware also removes the draft of a form once that form was saved: a POST that
answers with a redirect is a successful save by convention (POST-redirect-GET).
"""

import math
import time
from importlib import import_module
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.contrib.sessions.models import Session
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.http import JsonResponse
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from .audit import log_action
from .drafts import discard_draft
from .models import AuditAction

SIGNED_IN_AT = "kijufaz_signed_in_at"
LAST_ACTIVITY_AT = "kijufaz_last_activity_at"
# Requests the browser makes by itself; they must not extend the idle time.
BACKGROUND_URL_NAMES = {"draft", "draft_discard", "session_status"}
IDLE_TIMEOUT = "idle timeout"
MAX_AGE_REACHED = "session lifetime reached"
ACCOUNT_DISABLED = "account disabled"


class SessionTimeoutMiddleware:
    """Signs out after the idle timeout or the absolute lifetime; forgets saved drafts."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = time.time()
            reason = expiry_reason(request.session, now)
            if reason is not None:
                return _sign_out(request, reason)
            if not is_background(request) and now - request.session[LAST_ACTIVITY_AT] >= _step():
                request.session[LAST_ACTIVITY_AT] = now
        response = self.get_response(request)
        if request.method == "POST" and response.status_code in (302, 303):
            forget_draft_after_save(request)
        return response


def _step() -> float:
    """The activity stamp is rewritten at most this often (a session write per minute, not
    per request). The server's idle clock may run this much ahead of the browser's, so it
    is kept well below the warning time; the warning asks the server for the time left."""
    return min(60, settings.KIJUFAZ_IDLE_TIMEOUT / 10, settings.KIJUFAZ_IDLE_WARNING / 2)


def expiry_reason(session, now: float) -> str | None:
    """Why this session has ended, or None while it is valid."""
    # A session from before these stamps existed: its clocks start now.
    session.setdefault(SIGNED_IN_AT, now)
    session.setdefault(LAST_ACTIVITY_AT, now)
    if now - session[SIGNED_IN_AT] > settings.KIJUFAZ_SESSION_MAX_AGE:
        return MAX_AGE_REACHED
    if now - session[LAST_ACTIVITY_AT] > settings.KIJUFAZ_IDLE_TIMEOUT:
        return IDLE_TIMEOUT
    return None


def seconds_left(session, now: float) -> dict[str, int]:
    idle = settings.KIJUFAZ_IDLE_TIMEOUT - (now - session.get(LAST_ACTIVITY_AT, now))
    lifetime = settings.KIJUFAZ_SESSION_MAX_AGE - (now - session.get(SIGNED_IN_AT, now))
    return {"idle": max(0, math.floor(idle)), "lifetime": max(0, math.floor(lifetime))}


def is_background(request) -> bool:
    try:
        return resolve(request.path_info).url_name in BACKGROUND_URL_NAMES
    except Resolver404:
        return False


def _sign_out(request, reason: str):
    request.kijufaz_logout_reason = reason  # read by core.signals.audit_logout
    logout(request)
    messages.warning(request, _signed_out_message(reason))
    if _wants_json(request):
        return JsonResponse({"error": "session_expired", "login_url": reverse("login")}, status=401)
    return redirect_to_login(_next_url(request))


def _next_url(request) -> str:
    """Where to continue after signing in again. A POST URL cannot be opened with GET:
    then the page the form was on (the draft waits there), else the desk."""
    if request.method == "GET":
        return request.get_full_path()
    referer = request.headers.get("Referer", "")
    if url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        parts = urlsplit(referer)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return reverse(settings.LOGIN_REDIRECT_URL)


def _signed_out_message(reason: str) -> str:
    if reason == IDLE_TIMEOUT:
        minutes = max(1, round(settings.KIJUFAZ_IDLE_TIMEOUT / 60))
        return (
            ngettext(
                "You were signed out after %(minutes)d minute without activity. "
                "Please sign in again.",
                "You were signed out after %(minutes)d minutes without activity. "
                "Please sign in again.",
                minutes,
            )
            % {"minutes": minutes}
            + " "
            + _("Text you typed into a long form is kept as a draft there.")
        )
    hours = max(1, round(settings.KIJUFAZ_SESSION_MAX_AGE / 3600))
    return ngettext(
        "Your session ended after the longest allowed time of %(hours)d hour. "
        "Please sign in again.",
        "Your session ended after the longest allowed time of %(hours)d hours. "
        "Please sign in again.",
        hours,
    ) % {"hours": hours}


def _wants_json(request) -> bool:
    return is_background(request) or "application/json" in request.headers.get("Accept", "")


def forget_draft_after_save(request) -> None:
    if request.user.is_authenticated:
        discard_draft(user=request.user, key=request.path)


# --- Endpoints for the warning dialog ---------------------------------------------------


def _session_json(request, status: int = 200) -> JsonResponse:
    if not request.user.is_authenticated:
        return JsonResponse({"error": "signed_out", "login_url": reverse("login")}, status=401)
    left = seconds_left(request.session, time.time())
    return JsonResponse({**left, "warning": settings.KIJUFAZ_IDLE_WARNING}, status=status)


@never_cache
@require_GET
def session_status(request):
    """Seconds left until the idle timeout and the end of the lifetime (not activity)."""
    return _session_json(request)


@never_cache
@require_POST
def session_keepalive(request):
    """'Stay signed in': the middleware already counted this request as activity."""
    return _session_json(request)


def session_context(request) -> dict:
    """Template context for the timeout warning (templates/base.html, signed-in users)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "session_idle_timeout": settings.KIJUFAZ_IDLE_TIMEOUT,
        "session_idle_warning": settings.KIJUFAZ_IDLE_WARNING,
        "session_lifetime_left": seconds_left(request.session, time.time())["lifetime"],
    }


# --- Receivers ---------------------------------------------------------------------------


@receiver(user_logged_in, dispatch_uid="kijufaz_stamp_session")
def stamp_new_session(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        now = time.time()
        request.session[SIGNED_IN_AT] = request.session[LAST_ACTIVITY_AT] = now


@receiver(post_save, sender=get_user_model(), dispatch_uid="kijufaz_end_sessions_of_disabled")
def end_sessions_of_disabled_user(sender, instance, update_fields=None, **kwargs):
    if instance.is_active or (update_fields is not None and "is_active" not in update_fields):
        return
    ended = end_sessions_of(instance)
    if ended:
        log_action(
            user=instance,
            action=AuditAction.LOGOUT,
            changes={"reason": ACCOUNT_DISABLED, "sessions": ended},
        )


def end_sessions_of(user) -> int:
    """Delete every unexpired session of `user`; returns how many there were.

    Sessions are stored encoded, so each one is decoded: fine for a few hundred staff.
    """
    user_id = str(user.pk)
    ended = [
        session.pk
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.get_decoded().get("_auth_user_id") == user_id
    ]
    store = import_module(settings.SESSION_ENGINE).SessionStore
    for session_key in ended:
        store(session_key).delete()  # from the database and from the cache
    return len(ended)
