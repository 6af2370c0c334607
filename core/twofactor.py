"""Two-factor sign-in: an authenticator app (TOTP) plus one-time backup codes.

After the password, every account confirms a six-digit code from its app (or one of its
backup codes). With KIJUFAZ_REQUIRE_2FA on, RequireTwoFactorMiddleware sends a signed-in
but unverified user to the verification page, or to the enrolment page while the
account has no authenticator yet.
"""

from base64 import b32encode

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .audit import log_action
from .forms import OTPTokenForm
from .models import AuditAction
from .reauth import safe_next, sensitive_action

BACKUP_CODE_COUNT = 10
# Freshly issued backup codes wait here for exactly one page view.
NEW_CODES_SESSION_KEY = "two_factor_new_backup_codes"
AUTHENTICATOR_NAME = "Authenticator-App"
BACKUP_DEVICE_NAME = "Backup-Codes"


# --- Services ---------------------------------------------------------------------


def confirmed_authenticator(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def pending_authenticator(user) -> TOTPDevice:
    """The not yet confirmed authenticator the enrolment page shows as a QR code."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)


def remaining_backup_codes(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


@transaction.atomic
def issue_backup_codes(user) -> list[str]:
    """Replace all backup codes of `user` with new ones. The device itself stays, so a
    session verified by a backup code remains verified."""
    device = StaticDevice.objects.filter(user=user).first() or StaticDevice.objects.create(
        user=user, name=BACKUP_DEVICE_NAME, confirmed=True
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for __ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic
def confirm_authenticator(user, device: TOTPDevice) -> list[str]:
    """Make `device` the user's one authenticator and hand out fresh backup codes."""
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return issue_backup_codes(user)


@transaction.atomic
def reset_two_factor(user) -> int:
    """Remove every second factor of `user` (lost phone): the next sign-in enrols anew."""
    totp_count, __ = TOTPDevice.objects.filter(user=user).delete()
    StaticToken.objects.filter(device__user=user).delete()
    static_count, __ = StaticDevice.objects.filter(user=user).delete()
    return totp_count + static_count


def verify_code(user, token: str):
    """The device that accepts `token`, or None. Six digits go to the authenticator app,
    anything else is tried as a backup code (which is then used up).

    Returns (device, throttled): throttled is True when the device refuses to check
    because of recent wrong codes (django-otp's growing delay)."""
    token = "".join(token.split()).lower()
    if token.isdigit() and len(token) == 6:
        devices = TOTPDevice.objects.filter(user=user, confirmed=True)
    else:
        devices = StaticDevice.objects.filter(user=user, confirmed=True)
    throttled = False
    with transaction.atomic():
        for device in devices.select_for_update():
            allowed, __ = device.verify_is_allowed()
            if not allowed:
                throttled = True
                continue
            if device.verify_token(token):
                return device, False
    return None, throttled


def qr_code_data_uri(device: TOTPDevice) -> str:
    # Rendered here as an SVG data: URI: no script and no third-party QR service.
    return segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2)


def manual_key(device: TOTPDevice) -> str:
    key = b32encode(device.bin_key).decode()
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


# --- Enforcement --------------------------------------------------------------------


def two_factor_required() -> bool:
    return settings.KIJUFAZ_REQUIRE_2FA


class RequireTwoFactorMiddleware:
    """A signed-in user without a verified second factor only reaches the 2FA pages,
    the login and logout, static files, the health probe and the language switch."""

    EXEMPT_URL_NAMES = (
        "two_factor_verify",
        "two_factor_setup",
        "login",
        "logout",
        "set_language",
        "healthz",
        # The idle-timeout script asks these on every page, the 2FA pages included.
        "session_status",
        "session_keepalive",
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if two_factor_required() and self._needs_second_factor(request):
            return self._send_to_second_factor(request)
        return self.get_response(request)

    def _needs_second_factor(self, request) -> bool:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or user.is_verified():
            return False
        if request.path.startswith(settings.STATIC_URL):
            return False
        try:
            return resolve(request.path_info).url_name not in self.EXEMPT_URL_NAMES
        except Resolver404:
            return True

    def _send_to_second_factor(self, request):
        name = "two_factor_verify" if user_has_device(request.user) else "two_factor_setup"
        target = f"{reverse(name)}?{urlencode({'next': request.get_full_path()})}"
        if request.headers.get("HX-Request"):
            # htmx would follow a 302 silently and swap the page into a fragment.
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return redirect(target)


# --- Views --------------------------------------------------------------------------


def _next_param(request) -> str:
    return request.POST.get("next") or request.GET.get("next") or ""


@never_cache
@login_required
def two_factor_verify(request):
    """The second step of the sign-in: a code from the app or a backup code."""
    user = request.user
    next_url = _next_param(request)
    if user.is_verified():
        return redirect(safe_next(request, next_url))
    if not user_has_device(user):
        return redirect(f"{reverse('two_factor_setup')}?{urlencode({'next': next_url})}")
    form = OTPTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device, throttled = verify_code(user, form.cleaned_data["token"])
        if device is not None:
            otp_login(request, device)
            used_backup_code = isinstance(device, StaticDevice)
            log_action(
                user=user,
                action=AuditAction.LOGIN,
                changes={
                    "step": "two_factor_verified",
                    "factor": "backup_code" if used_backup_code else "authenticator",
                },
                request=request,
            )
            if used_backup_code:
                left = remaining_backup_codes(user)
                messages.warning(
                    request,
                    ngettext(
                        "You signed in with a backup code; %(count)d code is left. "
                        "You can issue new ones on the two-factor page.",
                        "You signed in with a backup code; %(count)d codes are left. "
                        "You can issue new ones on the two-factor page.",
                        left,
                    )
                    % {"count": left},
                )
            return redirect(safe_next(request, next_url))
        log_action(
            user=user,
            action=AuditAction.LOGIN_FAILED,
            changes={"step": "two_factor", "username": user.get_username()},
            request=request,
        )
        if throttled:
            form.add_error("token", _("Too many wrong codes. Please wait a moment and try again."))
        else:
            form.add_error("token", _("This code is not valid. Please check it and try again."))
    return render(
        request,
        "registration/two_factor_verify.html",
        {"form": form, "next": _safe_or_empty(request, next_url)},
    )


def _safe_or_empty(request, next_url: str) -> str:
    return next_url if next_url and safe_next(request, next_url) == next_url else ""


@never_cache
@login_required
def two_factor_setup(request):
    """Enrol an authenticator app: scan the QR code, type the first code."""
    user = request.user
    if confirmed_authenticator(user) is not None:
        if not user.is_verified():
            return redirect(
                f"{reverse('two_factor_verify')}?{urlencode({'next': _next_param(request)})}"
            )
        # Replacing a working authenticator (new phone) needs the password again.
        return _replace_authenticator(request)
    return _enrol(request)


@sensitive_action
def _replace_authenticator(request):
    return _enrol(request)


def _enrol(request):
    user = request.user
    device = pending_authenticator(user)
    form = OTPTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token = "".join(form.cleaned_data["token"].split())
        if device.verify_token(token):
            codes = confirm_authenticator(user, device)
            otp_login(request, device)
            request.session[NEW_CODES_SESSION_KEY] = codes
            log_action(user=user, action=AuditAction.CREATE, obj=device, request=request)
            messages.success(request, _("Two-factor sign-in is set up."))
            next_url = _safe_or_empty(request, _next_param(request))
            target = reverse("two_factor")
            if next_url:
                target += f"?{urlencode({'next': next_url})}"
            return redirect(target)
        form.add_error("token", _("This code is not valid. Please check it and try again."))
    return render(
        request,
        "registration/two_factor_setup.html",
        {
            "form": form,
            "qr_code": qr_code_data_uri(device),
            "manual_key": manual_key(device),
            "next": _safe_or_empty(request, _next_param(request)),
            "replacing": confirmed_authenticator(user) is not None,
        },
    )


@never_cache
@login_required
def two_factor(request):
    """The account's two-factor page: state, fresh backup codes (shown once), renewal."""
    if request.method == "POST":
        return _renew_backup_codes(request)
    user = request.user
    return render(
        request,
        "registration/two_factor.html",
        {
            "authenticator": confirmed_authenticator(user),
            "remaining_codes": remaining_backup_codes(user),
            "new_codes": request.session.pop(NEW_CODES_SESSION_KEY, None),
            "next": _safe_or_empty(request, _next_param(request)),
        },
    )


@sensitive_action
def _renew_backup_codes(request):
    user = request.user
    if confirmed_authenticator(user) is None:
        messages.error(request, _("Set up an authenticator app first."))
        return redirect("two_factor_setup")
    request.session[NEW_CODES_SESSION_KEY] = issue_backup_codes(user)
    log_action(
        user=user,
        action=AuditAction.CHANGE,
        object_type="otp_static.staticdevice",
        changes={"backup_codes": "renewed"},
        request=request,
    )
    messages.success(request, _("New backup codes were issued; the old ones no longer work."))
    return redirect("two_factor")
