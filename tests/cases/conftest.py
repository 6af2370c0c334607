"""Fixtures shared by the case-file tests (the personas live in tests/conftest.py)."""

import datetime
from decimal import Decimal

import pytest

from cases import services
from cases.models import Help, LegalBasis, Setting
from tests import factories as f


@pytest.fixture
def english(settings):
    """Pages in English, so that tests can quote messages exactly as the code writes them."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def running_help(case):
    """The approved, running help of `case` (delivered by `provider`)."""
    return case.helps.get()


@pytest.fixture
def pending_help(case, provider):
    """A second help of `case`, requested by its owner and waiting for the team lead."""
    help = Help(
        case=case,
        provider=provider,
        legal_basis=LegalBasis.EDUCATIONAL_ASSISTANT,
        setting=Setting.AMBULANT,
        start=f.today(),
        planned_end=f.today() + datetime.timedelta(days=90),
        planned_hours_per_month=Decimal("8"),
    )
    return services.request_help(help=help, by=case.owner, reason="Schulprobleme")


@pytest.fixture
def pending_approval(pending_help):
    return pending_help.approvals.get()
