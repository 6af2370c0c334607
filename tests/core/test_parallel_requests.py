"""Two real requests at the same moment (issue #6): bookings, hour entries and help-plan
saves stay consistent on PostgreSQL, and a control run with the row lock switched off
shows the race the lock prevents.

Each request runs in its own thread with its own test client and so its own database
connection, POSTing to the real view. To make the race happen every time and not only
by chance, the function each service calls between its check and its write is wrapped
so that it waits for the other request there (`meet_after_the_check`). With the lock on,
the second request never gets that far while the first one runs: it waits for the lock,
the meeting times out, the first request commits, and the second one checks against its
result. With `KIJUFAZ_ROW_LOCKS = False` both requests pass the check together.
"""

import datetime
import threading
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from budgets import services as budget_services
from budgets.models import Posting
from cases.models import HelpPlan
from providers import services as provider_services
from providers.models import MAX_MINUTES_PER_DAY, HourEntry
from tests.budgets.conftest import make_contract

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

# How long a request waits for the other one after its check. With the lock on, the
# first request waits this long in vain (the other one waits for the lock).
MEETING_SECONDS = 5


class Meeting:
    """Both requests meet once, right after their check, if both get there."""

    def __init__(self):
        self.barrier = threading.Barrier(2, timeout=MEETING_SECONDS)
        self.local = threading.local()
        self.both_passed_the_check_together = False

    def wrap(self, function):
        def after_the_check(*args, **kwargs):
            result = function(*args, **kwargs)
            self.wait()
            return result

        return after_the_check

    def wait(self) -> None:
        if getattr(self.local, "met", False):
            return
        self.local.met = True
        try:
            self.barrier.wait()
            self.both_passed_the_check_together = True
        except threading.BrokenBarrierError:
            pass  # the other request was held back by the lock


def post_at_once(*requests: tuple[object, str, dict]) -> list[int]:
    """POST each (user, url, data) from its own client and thread, released together;
    returns the status codes in order."""
    clients = []
    for user, __, __ in requests:
        client = Client()
        client.force_login(user)
        clients.append(client)
    start = threading.Barrier(len(requests), timeout=10)
    statuses: list = [None] * len(requests)

    def send(i):
        try:
            __, url, data = requests[i]
            start.wait()
            statuses[i] = clients[i].post(url, data).status_code
        except Exception as error:  # noqa: BLE001 - the test shows it
            statuses[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a request hung"
    return statuses


@pytest.fixture(params=[True, False], ids=["locked", "control-without-lock"])
def row_locks(request, settings):
    settings.KIJUFAZ_ROW_LOCKS = request.param
    return request.param


# --- Bookings (budgets) ---------------------------------------------------------------


@pytest.fixture
def contract(region, provider):
    return make_contract(region, timezone.localdate().year, flexible=Decimal("1000"))


def booking(amount: str) -> dict:
    return {
        "booked_on": timezone.localdate().isoformat(),
        "amount": amount,
        "category": "rent",
        "text": "Miete Beratungsstelle",
        "corrects": "",
        "override_reason": "",
    }


def test_two_bookings_at_once_cannot_overdraw_the_flexible_budget(
    row_locks, monkeypatch, controlling, leitung, contract
):
    meeting = Meeting()
    monkeypatch.setattr(budget_services, "available", meeting.wrap(budget_services.available))
    url = reverse("budgets:posting_new", args=[contract.pk])

    statuses = post_at_once(
        (controlling, url, booking("600,00")), (leitung, url, booking("600,00"))
    )

    booked = sum(p.amount for p in Posting.objects.filter(sub_budget__contract=contract))
    if row_locks:
        assert sorted(statuses) == [302, 400]
        assert booked == Decimal("600.00")
        assert not meeting.both_passed_the_check_together
    else:
        # The race the lock prevents: both saw 1000 € left, both booked 600 €.
        assert statuses == [302, 302]
        assert booked == Decimal("1200.00")
        assert meeting.both_passed_the_check_together


# --- Hour entries (providers) ---------------------------------------------------------


def eight_hours() -> dict:
    return {
        "idempotency_key": str(uuid.uuid4()),
        "date": (timezone.localdate() - datetime.timedelta(days=1)).isoformat(),
        "start_time": "",
        "end_time": "",
        "minutes": "480",
        "kind": "case_unspecific",
        "help": "",
        "activity": "networking",
        "note": "",
    }


def test_two_hour_entries_at_once_cannot_pass_the_14_hour_day(row_locks, monkeypatch, fachkraft):
    meeting = Meeting()
    monkeypatch.setattr(provider_services, "_check_day", meeting.wrap(provider_services._check_day))
    url = reverse("providers:hour_sheet")

    statuses = post_at_once((fachkraft, url, eight_hours()), (fachkraft, url, eight_hours()))

    minutes = sum(HourEntry.objects.filter(staff=fachkraft).values_list("minutes", flat=True))
    if row_locks:
        assert sorted(statuses) == [302, 400]
        assert minutes == 480
        assert not meeting.both_passed_the_check_together
    else:
        # The race the lock prevents: 16 hours on one day.
        assert statuses == [302, 302]
        assert minutes == 960 > MAX_MINUTES_PER_DAY
        assert meeting.both_passed_the_check_together


# --- Help-plan saves (cases) ----------------------------------------------------------


def plan_version_2() -> dict:
    return {
        "based_on_version": "1",
        "meeting_date": timezone.localdate().isoformat(),
        "participants": "Mutter, Mehmet, ASD, Fachkraft",
        "agreed_steps": "Zweimal pro Woche Hausbesuch",
        "next_review_due": "",
        "goals-TOTAL_FORMS": "1",
        "goals-INITIAL_FORMS": "1",
        "goals-MIN_NUM_FORMS": "0",
        "goals-MAX_NUM_FORMS": "20",
        "goals-0-description": "Mehmet geht jeden Tag zur Schule",
        "goals-0-status": "in_progress",
    }


def test_two_saves_of_the_same_plan_version_at_once_make_one_new_version(
    row_locks, monkeypatch, asd, asdlead, case
):
    help = case.helps.get()
    meeting = Meeting()
    original_save = HelpPlan.save

    def save(plan, *args, **kwargs):
        # The first write after the version check retires the current version.
        if kwargs.get("update_fields") == ["is_current"]:
            meeting.wait()
        return original_save(plan, *args, **kwargs)

    monkeypatch.setattr(HelpPlan, "save", save)
    url = reverse("cases:plan_new", args=[help.pk])

    statuses = post_at_once((asd, url, plan_version_2()), (asdlead, url, plan_version_2()))

    # Either way one save wins and the other is told of the conflict (409)...
    assert sorted(statuses) == [302, 409]
    assert sorted(help.plans.values_list("version", "is_current")) == [(1, False), (2, True)]
    # ...but only the lock stops the second save before its version check passes. Without
    # it both pass the check together and the unique (help, version) constraint is what
    # refuses the second version 2.
    assert meeting.both_passed_the_check_together is not row_locks
