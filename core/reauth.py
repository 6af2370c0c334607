"""Re-authentication for sensitive actions.

Exports of personal data and far-reaching decisions ask for the password again when the
last confirmation (or login) is older than KIJUFAZ_REAUTH_MAX_AGE seconds. A stolen,
still-open session alone is then not enough to carry data out of the office.
"""

import time
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from .audit import log_action
from .forms import PasswordConfirmForm
from .models import AuditAction

SESSION_KEY = "auth_confirmed_at"


def mark_confirmed(request) -> None:
    request.session[SESSION_KEY] = int(time.time())


def is_recently_confirmed(request) -> bool:
    confirmed_at = request.session.get(SESSION_KEY)
    if not isinstance(confirmed_at, int | float):
        return False
    return time.time() - confirmed_at <= settings.KIJUFAZ_REAUTH_MAX_AGE


@receiver(user_logged_in)
def stamp_login(sender, request, user, **kwargs):
    # A password just typed at the login counts as a confirmation.
    if request is not None and hasattr(request, "session"):
        mark_confirmed(request)


def confirm_password_url(next_path: str) -> str:
    return f"{reverse('confirm_password')}?{urlencode({'next': next_path})}"


def sensitive_action(view):
    """Ask for the password again before `view` runs when the last confirmation is stale.

    Put it below `roles_required`, so that a forbidden user still gets 403 instead of a
    password prompt. A POST is not replayed: after confirming, the user lands on the
    same page as a GET and submits again.
    """

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.user.is_authenticated and not is_recently_confirmed(request):
            next_path = request.get_full_path() if request.method == "GET" else request.path
            return redirect(confirm_password_url(next_path))
        return view(request, *args, **kwargs)

    return wrapped


def safe_next(request, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate,
        allowed_hosts={request.get_host()},
        require_https=request.is_secure(),
    ):
        return candidate
    return reverse("desk")


@never_cache
@sensitive_post_parameters("password")
@login_required
def confirm_password(request):
    """The password prompt of `sensitive_action`. Failures count towards the login lockout
    (django-axes), because they go through authenticate() like a login."""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if request.method == "POST":
        form = PasswordConfirmForm(request.POST)
        if form.is_valid():
            user = authenticate(
                request,
                username=request.user.get_username(),
                password=form.cleaned_data["password"],
            )
            if user is not None and user.pk == request.user.pk:
                mark_confirmed(request)
                log_action(
                    user=request.user,
                    action=AuditAction.LOGIN,
                    changes={"step": "password_confirmed"},
                    request=request,
                )
                messages.success(request, _("Password confirmed."))
                return redirect(safe_next(request, next_url))
            form.add_error("password", _("The password is not correct. Please try again."))
    else:
        form = PasswordConfirmForm()
    return render(
        request,
        "registration/confirm_password.html",
        {"form": form, "next": next_url if safe_next(request, next_url) == next_url else ""},
    )
