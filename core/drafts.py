"""Drafts: what a user typed into a long form, kept on the server until the form is saved.

static/js/drafts.js saves the fields of every `<form data-draft>` here every few
seconds and before the session ends; the key is the path the form posts to. A user
only ever reads and writes their own drafts. core.sessions removes a draft once its
form was saved; `delete_stale_drafts` removes forgotten ones (they are personal data),
every night from the beat task `core.tasks.delete_stale_drafts` (migration core 0009)
or by hand with `manage.py delete_stale_drafts`.
"""

import datetime
import json

from django.conf import settings
from django.http import JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from .models import Draft

MAX_KEY_LENGTH = Draft._meta.get_field("key").max_length
DRAFTS_PER_USER = 100
STALE_AFTER = datetime.timedelta(days=30)


class DraftRefused(ValueError):
    """The draft cannot be stored; the message says why (shown to the user)."""


# --- Services ----------------------------------------------------------------------------


def save_draft(*, user, key: str, data: dict) -> Draft:
    _check_key(key)
    _check_data(data)
    has_room = Draft.objects.filter(user=user).count() < DRAFTS_PER_USER
    if not has_room and not Draft.objects.filter(user=user, key=key).exists():
        raise DraftRefused(_("Too many unsaved drafts. Please save or discard some forms first."))
    draft, __ = Draft.objects.update_or_create(user=user, key=key, defaults={"data": data})
    return draft


def discard_draft(*, user, key: str) -> None:
    Draft.objects.filter(user=user, key=key).delete()


def delete_stale_drafts(*, now: datetime.datetime | None = None) -> int:
    """Delete drafts nobody touched for STALE_AFTER; returns how many."""
    cutoff = (now or timezone.now()) - STALE_AFTER
    deleted, __ = Draft.objects.filter(updated_at__lt=cutoff).delete()
    return deleted


def _check_key(key) -> None:
    if not isinstance(key, str) or not key.startswith("/") or len(key) > MAX_KEY_LENGTH:
        raise DraftRefused(_("This form cannot keep a draft."))
    if "\x00" in key:
        raise DraftRefused(_("This form cannot keep a draft."))


def _check_data(data) -> None:
    """Field name → list of values, all strings (that is what drafts.js sends)."""
    if not isinstance(data, dict):
        raise DraftRefused(_("The draft could not be read."))
    for name, values in data.items():
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise DraftRefused(_("The draft could not be read."))
        # PostgreSQL's jsonb cannot store NUL characters.
        if "\x00" in name or any("\x00" in v for v in values):
            raise DraftRefused(_("The draft could not be read."))


# --- Endpoints -----------------------------------------------------------------------------


def _signed_out():
    return JsonResponse(
        {"error": _("You are signed out."), "login_url": reverse("login")}, status=401
    )


def _refused(message: str, status: int = 400):
    return JsonResponse({"error": message}, status=status)


def _as_json(draft: Draft | None) -> dict:
    if draft is None:
        return {"draft": None}
    return {"draft": {"key": draft.key, "data": draft.data, "updated_at": draft.updated_at}}


@never_cache
@require_http_methods(["GET", "POST"])
def draft(request):
    """GET ?key=/path/: the user's draft for that form (or null). POST JSON: save it."""
    if not request.user.is_authenticated:
        return _signed_out()
    if request.method == "GET":
        return _load(request)
    return _save(request)


def _load(request):
    key = request.GET.get("key", "")
    try:
        _check_key(key)
    except DraftRefused as refused:
        return _refused(str(refused))
    return JsonResponse(_as_json(Draft.objects.filter(user=request.user, key=key).first()))


def _save(request):
    if len(request.body) > settings.KIJUFAZ_DRAFT_MAX_BYTES:
        return _refused(_("The draft is too long to be kept. Please save the form."), status=413)
    payload = _json_object(request)
    if payload is None:
        return _refused(_("The draft could not be read."))
    try:
        saved = save_draft(user=request.user, key=payload.get("key"), data=payload.get("data"))
    except DraftRefused as refused:
        return _refused(str(refused))
    return JsonResponse(_as_json(saved))


def _json_object(request) -> dict | None:
    """The request's JSON object body, or None for anything else (forms, garbage, lists)."""
    if request.content_type != "application/json":
        return None  # a form body may already be consumed by the CSRF check
    try:
        payload = json.loads(request.body)
    except ValueError:  # also JSONDecodeError and bytes that are not UTF-8
        return None
    return payload if isinstance(payload, dict) else None


@never_cache
@require_POST
def draft_discard(request):
    """POST JSON {"key": "/path/"}: forget the user's draft for that form."""
    if not request.user.is_authenticated:
        return _signed_out()
    payload = _json_object(request)
    if payload is None:
        return _refused(_("The draft could not be read."))
    try:
        _check_key(payload.get("key"))
    except DraftRefused as refused:
        return _refused(str(refused))
    discard_draft(user=request.user, key=payload["key"])
    return JsonResponse({"draft": None})
