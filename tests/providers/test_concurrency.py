"""Two requests at the same moment cannot break the hour rules (real PostgreSQL, real threads).

`log_hours` takes a row lock on the staff member before it checks anything, so a
double click or two open tabs are serialised; the exclusion constraint of
migration 0003 is the last line of defence for writes that bypass the service.
"""

import datetime
import threading
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection

from providers import services
from providers.models import Activity, HourEntry, HourKind

from .conftest import TODAY

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

OVERLAP_MESSAGE = "Sie haben zu dieser Uhrzeit bereits einen anderen Eintrag erfasst."


def run_at_once(*calls) -> list:
    """Run each call in its own thread (own DB connection), released together.

    Returns what each call returned or raised, in the order of `calls`.
    """
    barrier = threading.Barrier(len(calls), timeout=10)
    outcomes: list = [None] * len(calls)

    def worker(i, call):
        try:
            barrier.wait()
            outcomes[i] = call()
        except Exception as error:  # noqa: BLE001 - the test inspects it
            outcomes[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return outcomes


def submit(staff, key, **fields):
    data = {
        "date": TODAY,
        "minutes": 60,
        "kind": HourKind.CASE_UNSPECIFIC,
        "activity": Activity.NETWORKING,
        **fields,
    }
    return lambda: services.log_hours(staff=staff, idempotency_key=key, **data)


def test_same_form_submitted_twice_at_once_saves_one_entry(fachkraft):
    key = uuid.uuid4()

    outcomes = run_at_once(submit(fachkraft, key), submit(fachkraft, key))

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    entry = HourEntry.objects.get()
    assert [returned.pk for returned, __ in outcomes] == [entry.pk, entry.pk]
    assert sorted(created for __, created in outcomes) == [False, True]


def test_two_overlapping_entries_at_once_one_is_refused(fachkraft):
    nine_to_ten = submit(
        fachkraft, uuid.uuid4(), start_time=datetime.time(9), end_time=datetime.time(10)
    )
    half_past_nine = submit(
        fachkraft,
        uuid.uuid4(),
        start_time=datetime.time(9, 30),
        end_time=datetime.time(10, 30),
    )

    outcomes = run_at_once(nine_to_ten, half_past_nine)

    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    saved = [o for o in outcomes if isinstance(o, tuple)]
    assert len(refused) == 1 and len(saved) == 1, outcomes
    assert refused[0].message_dict == {"start_time": [OVERLAP_MESSAGE]}
    assert HourEntry.objects.count() == 1


def test_two_long_entries_at_once_cannot_pass_14_hours_together(fachkraft):
    """No database constraint covers the daily sum: only the row lock keeps this rule."""
    outcomes = run_at_once(
        submit(fachkraft, uuid.uuid4(), minutes=480), submit(fachkraft, uuid.uuid4(), minutes=480)
    )

    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    assert len(refused) == 1, outcomes
    assert refused[0].message_dict == {
        "minutes": ["Höchstens 14 Stunden pro Tag: An diesem Tag sind bereits 480 Minuten erfasst."]
    }
    assert HourEntry.objects.get().minutes == 480


def test_different_people_at_the_same_time_are_both_saved(fachkraft, traegerleitung):
    times = {"start_time": datetime.time(9), "end_time": datetime.time(10)}

    outcomes = run_at_once(
        submit(fachkraft, uuid.uuid4(), **times), submit(traegerleitung, uuid.uuid4(), **times)
    )

    assert [created for __, created in outcomes] == [True, True]
    assert HourEntry.objects.count() == 2


def test_database_refuses_an_overlap_that_bypasses_the_service(fachkraft, provider):
    def insert(start: datetime.time, end: datetime.time) -> HourEntry:
        return HourEntry.objects.create(
            staff=fachkraft,
            provider=provider,
            date=TODAY,
            start_time=start,
            end_time=end,
            minutes=60,
            kind=HourKind.CASE_UNSPECIFIC,
            activity=Activity.NETWORKING,
        )

    insert(datetime.time(9), datetime.time(10))

    with pytest.raises(IntegrityError, match="hour_entry_no_overlap"):
        insert(datetime.time(9, 30), datetime.time(10, 30))

    assert HourEntry.objects.count() == 1
    insert(datetime.time(10), datetime.time(11))  # touching is not overlapping
