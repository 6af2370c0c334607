"""KiJuFaZ settings: one module, driven by environment variables.

The defaults make `make run` work on a laptop (SQLite, Celery eager, DEBUG on).
Production sets DEBUG=false plus SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL and
CELERY_BROKER_URL; a missing value then fails loudly at start-up.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from kijufaz.release import code_digest

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise ImproperlyConfigured(f"Environment variable {name} must be set")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true/false)")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

if DEBUG:
    SECRET_KEY = env_str("SECRET_KEY", "insecure-development-key-only-for-make-run")
else:
    SECRET_KEY = env_str("SECRET_KEY")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_filters",
    "django_htmx",
    "django_celery_beat",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "core",
    "cases",
    "providers",
    "budgets",
    "controlling",
    "privacy",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After the messages middleware: it tells the user why they were signed out.
    "core.sessions.SessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "core.middleware.NoStoreForPersonalDataMiddleware",
    "core.middleware.PermissionsPolicyMiddleware",
    "core.twofactor.RequireTwoFactorMiddleware",
    "axes.middleware.AxesMiddleware",
]

# Widgets render through the project's template engine (cached loader, and the
# project's own widget templates in templates/django/forms/ override Django's); select
# boxes are drawn in Python with the same markup (core/renderers.py).
FORM_RENDERER = "core.renderers.FormRenderer"

ROOT_URLCONF = "kijufaz.urls"
WSGI_APPLICATION = "kijufaz.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            # {% url %} remembers what it reversed (core/templatetags/remembered_urls.py).
            "builtins": ["core.templatetags.remembered_urls"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.sessions.session_context",
            ],
        },
    },
]

# Connections are kept (and checked before reuse): a new PostgreSQL connection per request
# costs a server process and, worse, cold catalogue caches that made planning the
# first queries of each request several times dearer than running them.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 600),
        conn_health_checks=True,
    )
}
# The planner's default cost of a random read (4) assumes spinning disks; with the data
# in memory or on SSD it hash-joined all 40,000 families where an index lookup of a few
# hundred was ten times faster. 1.1 is the usual value for SSDs. Empty: not set (e.g.
# behind a connection pooler that refuses the startup option; set it on the server).
DB_RANDOM_PAGE_COST = env_str("DB_RANDOM_PAGE_COST", "1.1")
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and DB_RANDOM_PAGE_COST:
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        f"-c random_page_cost={float(DB_RANDOM_PAGE_COST)}"
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "desk"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes): lock a username+IP pair after 5 failures.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

LANGUAGE_CODE = "de"
LANGUAGES = [("de", _("German")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["kijufaz.formats"]
USE_I18N = True
# Grouping only where a template asks for it (|euro, |intcomma): ids in HTML attributes
# and form values must stay plain digits ("2307", never "2.307").
USE_THOUSAND_SEPARATOR = False
TIME_ZONE = "Europe/Berlin"
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", BASE_DIR / "node_modules" / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", BASE_DIR / "node_modules" / "bootstrap-icons" / "font"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_MANIFEST_STRICT = False
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
# Outside the database, the head of the audit log's hash chain is written here every
# hour (core.audit.anchor_chain): entries removed from the end of the log are found by
# `verify_audit_log`. Best on storage the database's administrators cannot rewrite.
KIJUFAZ_AUDIT_ANCHOR_FILE = Path(
    env_str("KIJUFAZ_AUDIT_ANCHOR_FILE", str(MEDIA_ROOT / "audit" / "anchors.jsonl"))
)

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# One cache for all worker processes (Redis, e.g. redis://redis:6379/1) in production,
# so rendered dashboard charts are drawn once, not once per gunicorn worker; without
# CACHE_URL (`make run`, the tests) each process keeps its own in memory.
CACHE_URL = os.environ.get("CACHE_URL", "")
# Everything cached is derived (figures, page fragments, charts): a release that changes
# the code, templates or translations reads none of what an earlier one wrote.
CACHES = {
    "default": {
        **(
            {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
            if CACHE_URL
            else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
        ),
        "KEY_PREFIX": code_digest(BASE_DIR),
    }
}

# Celery: without a broker every task runs eagerly in-process (the embedded default).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Reports: the hard time limit of a report task; a claim older than this belongs
# to a dead worker. Redis must not redeliver a message while its task may still run.
KIJUFAZ_REPORT_TIME_LIMIT = env_int("KIJUFAZ_REPORT_TIME_LIMIT", 600)
KIJUFAZ_REPORT_RETRY_SECONDS = env_int("KIJUFAZ_REPORT_RETRY_SECONDS", 30)
KIJUFAZ_REPORT_MAX_ATTEMPTS = env_int("KIJUFAZ_REPORT_MAX_ATTEMPTS", 3)
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 3600)
if CELERY_VISIBILITY_TIMEOUT <= KIJUFAZ_REPORT_TIME_LIMIT:
    raise ImproperlyConfigured("CELERY_VISIBILITY_TIMEOUT must exceed KIJUFAZ_REPORT_TIME_LIMIT")
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "kijufaz@localhost")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)

# Sessions: short-lived, never Django's two weeks (core.sessions enforces both limits).
# Idle timeout: no activity for this long signs the user out; the warning comes
# KIJUFAZ_IDLE_WARNING seconds before. The absolute lifetime counts from signing in
# and is not extended by activity.
KIJUFAZ_IDLE_TIMEOUT = env_int("KIJUFAZ_IDLE_TIMEOUT", 30 * 60)
KIJUFAZ_IDLE_WARNING = env_int("KIJUFAZ_IDLE_WARNING", 120)
KIJUFAZ_SESSION_MAX_AGE = env_int("KIJUFAZ_SESSION_MAX_AGE", 10 * 3600)
if not 0 < KIJUFAZ_IDLE_WARNING < KIJUFAZ_IDLE_TIMEOUT <= KIJUFAZ_SESSION_MAX_AGE:
    raise ImproperlyConfigured(
        "Need 0 < KIJUFAZ_IDLE_WARNING < KIJUFAZ_IDLE_TIMEOUT <= KIJUFAZ_SESSION_MAX_AGE"
    )
SESSION_COOKIE_AGE = KIJUFAZ_SESSION_MAX_AGE
# Sessions are written to the database; with the shared cache (CACHE_URL) they are read
# from it, one query less on every request. Not without it: each process would keep its
# own copies, and a session ended in one (logout, a disabled account) would live on in
# the others.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db"
    if CACHE_URL
    else "django.contrib.sessions.backends.db"
)
# Largest draft (core.drafts) accepted, in bytes of JSON.
KIJUFAZ_DRAFT_MAX_BYTES = env_int("KIJUFAZ_DRAFT_MAX_BYTES", 256 * 1024)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# Security headers. Scripts and styles come only from our own static files.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Domain settings.
KIJUFAZ_SUPPRESSION_THRESHOLD = env_int("KIJUFAZ_SUPPRESSION_THRESHOLD", 3)
KIJUFAZ_REVIEW_INTERVAL_MONTHS = env_int("KIJUFAZ_REVIEW_INTERVAL_MONTHS", 6)
# § 36 (2) SGB VIII: helps planned longer than this need a team consultation.
KIJUFAZ_TEAM_DECISION_MONTHS = env_int("KIJUFAZ_TEAM_DECISION_MONTHS", 6)
KIJUFAZ_ALLOW_DEMO_SEED = env_bool("KIJUFAZ_ALLOW_DEMO_SEED", DEBUG)
# Row locks (select_for_update) serialise bookings, hour entries and help-plan saves.
# Not read from the environment: only the concurrency tests switch them off, to show the
# race they prevent (tests/core/test_parallel_requests.py).
KIJUFAZ_ROW_LOCKS = True
KIJUFAZ_BASE_URL = env_str("KIJUFAZ_BASE_URL", "http://127.0.0.1:8000")
# Exports and far-reaching decisions ask for the password again after this many seconds.
KIJUFAZ_REAUTH_MAX_AGE = env_int("KIJUFAZ_REAUTH_MAX_AGE", 900)
# Two-factor sign-in (core.twofactor): on in production; the demo and the tests turn it off.
KIJUFAZ_REQUIRE_2FA = env_bool("KIJUFAZ_REQUIRE_2FA", True)
OTP_TOTP_ISSUER = "KiJuFaZ"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
