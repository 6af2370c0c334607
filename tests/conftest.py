import datetime
import os

import pytest
from hypothesis import settings as hypothesis_settings

from core import figures
from core.models import Role
from providers.models import ProviderKind
from tests import factories as f

ON_SQLITE = os.environ.get("KIJUFAZ_TEST_DB") == "sqlite"

# Fixtures `broker_url` and `workers`: real Celery worker processes on Redis.
pytest_plugins = ["tests.celery_worker"]

# Generated inputs are the same on every run (CI must not turn red by chance); set
# HYPOTHESIS_PROFILE=explore locally to let hypothesis search new examples.
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
hypothesis_settings.register_profile("explore", derandomize=False)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_collection_modifyitems(config, items):
    if not ON_SQLITE:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (none was reachable; ran on SQLite)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fast_tests(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Each test anchors the audit log into a file of its own.
    settings.KIJUFAZ_AUDIT_ANCHOR_FILE = tmp_path / "audit-anchors.jsonl"
    # Two-factor sign-in is tested on its own (tests/core/test_two_factor.py).
    settings.KIJUFAZ_REQUIRE_2FA = False
    # Sessions as in production (with CACHE_URL); the tests' one process shares its
    # memory cache.
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fresh_process_memory():
    # Every test starts as a new process would: without figures kept from another
    # test's database (core.figures keeps the current ones in the process).
    figures.forget_in_process()


# --- The world the personas live in ----------------------------------------------


@pytest.fixture
def region(db):
    return f.make_region("Modellregion Siegen-Nord", "modellregion")


@pytest.fixture
def other_region(db):
    return f.make_region("Sozialraum Siegen-Mitte", "siegen-mitte")


@pytest.fixture
def team(region):
    return f.make_team(region, "ASD-Team Nord")


@pytest.fixture
def other_team(other_region):
    return f.make_team(other_region, "ASD-Team Mitte")


@pytest.fixture
def provider(db):
    return f.make_provider("Evangelische Jugendhilfe Friedenshort")


@pytest.fixture
def other_provider(db):
    return f.make_provider("Sozialdienst katholischer Frauen")


@pytest.fixture
def stationary_provider(db):
    return f.make_provider("Kinderheim Sonnenhof", kind=ProviderKind.STATIONARY)


# --- Personas (DOMAIN.md roles) -----------------------------------------------------


@pytest.fixture
def asd(team):
    return f.make_user("asd", Role.ASD, team=team, first_name="Anna", last_name="Schmidt")


@pytest.fixture
def asd_colleague(team):
    return f.make_user("asd_kollege", Role.ASD, team=team, first_name="Ben", last_name="Weber")


@pytest.fixture
def asd_other_team(other_team):
    return f.make_user("asd2", Role.ASD, team=other_team, first_name="Clara", last_name="Klein")


@pytest.fixture
def asdlead(team):
    return f.make_user("asdlead", Role.ASD_LEAD, team=team, first_name="Doris", last_name="Lange")


@pytest.fixture
def fachkraft(provider):
    return f.make_user(
        "fachkraft", Role.PROVIDER_STAFF, provider=provider, first_name="Eva", last_name="Fuchs"
    )


@pytest.fixture
def traegerleitung(provider):
    return f.make_user(
        "traegerleitung",
        Role.PROVIDER_LEAD,
        provider=provider,
        first_name="Frank",
        last_name="Berg",
    )


@pytest.fixture
def fachkraft_other_provider(other_provider):
    return f.make_user("fachkraft_skf", Role.PROVIDER_STAFF, provider=other_provider)


@pytest.fixture
def leitung(db):
    return f.make_user("leitung", Role.DEPARTMENT_HEAD)


@pytest.fixture
def controlling(db):
    return f.make_user("controlling", Role.CONTROLLER)


@pytest.fixture
def datenschutz(db):
    return f.make_user("datenschutz", Role.DATA_PROTECTION)


@pytest.fixture
def admin_user(db):
    return f.make_user("admin", Role.ADMIN, is_staff=True, is_superuser=True)


# --- A case with everything on it ----------------------------------------------------


@pytest.fixture
def case(asd, provider):
    """asd's open case with a running help by `provider`, a plan, a note and a § 8a record."""
    case = f.make_case(asd, family_name="Yilmaz")
    f.make_person(case.family, "Mehmet", birth_date=datetime.date(2017, 3, 1))
    help = f.make_help(case, provider)
    f.make_plan(help)
    f.make_note(case)
    f.make_risk_assessment(case)
    return case
