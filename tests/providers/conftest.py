"""Fixtures for the Hilfeleisterteam tests (the personas live in tests/conftest.py)."""

import datetime
import uuid
from zoneinfo import ZoneInfo

import pytest

from providers import services
from providers.models import Activity, HourKind
from tests import factories as f

# A Wednesday in the middle of a month: "yesterday", "last week" and "this month"
# all lie in November, whatever day the suite runs on.
TODAY = datetime.date(2026, 11, 18)
MONDAY = datetime.date(2026, 11, 16)


@pytest.fixture(autouse=True)
def fixed_today(time_machine):
    time_machine.move_to(datetime.datetime(2026, 11, 18, 10, 0, tzinfo=ZoneInfo("Europe/Berlin")))
    return TODAY


@pytest.fixture
def help(case):
    """The running help of `case`, delivered by `provider` (fachkraft's and traegerleitung's)."""
    return case.helps.get()


@pytest.fixture
def other_case(asd):
    case = f.make_case(asd, family_name="Becker")
    f.make_person(case.family, "Paul", birth_date=datetime.date(2015, 8, 1))
    return case


@pytest.fixture
def other_help(other_case, other_provider):
    """A running help of the *other* provider, on another family of asd."""
    return f.make_help(other_case, other_provider)


@pytest.fixture
def log():
    """Log an entry through the service with sensible defaults; returns the entry."""

    def log_entry(staff, **fields):
        data = {
            "idempotency_key": uuid.uuid4(),
            "date": TODAY,
            "minutes": 60,
            "kind": HourKind.CASE_SPECIFIC if fields.get("help") else HourKind.CASE_UNSPECIFIC,
            "activity": Activity.DIRECT_WORK if fields.get("help") else Activity.NETWORKING,
            **fields,
        }
        entry, created = services.log_hours(staff=staff, **data)
        assert created
        return entry

    return log_entry


@pytest.fixture
def staff_client(client, fachkraft):
    client.force_login(fachkraft)
    return client


@pytest.fixture
def lead_client(client, traegerleitung):
    client.force_login(traegerleitung)
    return client
