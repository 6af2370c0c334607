"""Drafts of long forms: saved, loaded and discarded by their owner only, removed on save."""

import datetime
import importlib
import json

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases.models import CaseNote
from core import tasks
from core.drafts import DRAFTS_PER_USER, delete_stale_drafts
from core.models import Draft

pytestmark = pytest.mark.django_db

NOTE_TEXT = (
    "Gespräch mit Frau Yılmaz:\nDie Schule meldet Fehlzeiten – wir vereinbaren einen Termin."
)


def _save(client, key, data):
    return client.post(
        reverse("draft"), json.dumps({"key": key, "data": data}), content_type="application/json"
    )


def _load(client, key):
    return client.get(reverse("draft"), {"key": key})


def _discard(client, key):
    return client.post(
        reverse("draft_discard"), json.dumps({"key": key}), content_type="application/json"
    )


@pytest.fixture
def signed_in(client, asd):
    client.force_login(asd)
    return client


def _note_key(case) -> str:
    return reverse("cases:note_add", args=[case.pk])


def test_a_saved_draft_is_loaded_again(signed_in, asd, case):
    response = _save(signed_in, _note_key(case), {"kind": ["note"], "text": [NOTE_TEXT]})
    assert response.status_code == 200

    draft = _load(signed_in, _note_key(case)).json()["draft"]

    assert draft["data"] == {"kind": ["note"], "text": [NOTE_TEXT]}
    assert draft["key"] == _note_key(case)
    assert datetime.datetime.fromisoformat(draft["updated_at"]) <= timezone.now()
    assert Draft.objects.get(user=asd).data["text"] == [NOTE_TEXT]


def test_saving_again_replaces_the_draft(signed_in, asd, case):
    _save(signed_in, _note_key(case), {"text": ["erste Fassung"]})
    _save(signed_in, _note_key(case), {"text": ["zweite Fassung"]})

    assert Draft.objects.filter(user=asd).count() == 1
    assert _load(signed_in, _note_key(case)).json()["draft"]["data"] == {"text": ["zweite Fassung"]}


def test_a_form_without_a_draft_loads_null(signed_in, case):
    response = _load(signed_in, _note_key(case))

    assert response.status_code == 200
    assert response.json() == {"draft": None}


def test_a_discarded_draft_is_gone(signed_in, asd, case):
    _save(signed_in, _note_key(case), {"text": [NOTE_TEXT]})

    assert _discard(signed_in, _note_key(case)).status_code == 200

    assert not Draft.objects.filter(user=asd).exists()
    assert _load(signed_in, _note_key(case)).json() == {"draft": None}


def test_another_users_draft_is_never_returned_nor_discarded(client, asd, asd_colleague, case):
    client.force_login(asd)
    _save(client, _note_key(case), {"text": [NOTE_TEXT]})

    client.force_login(asd_colleague)
    assert _load(client, _note_key(case)).json() == {"draft": None}
    _discard(client, _note_key(case))
    _save(client, _note_key(case), {"text": ["Kollegin"]})

    assert Draft.objects.get(user=asd).data == {"text": [NOTE_TEXT]}
    assert Draft.objects.get(user=asd_colleague).data == {"text": ["Kollegin"]}


def test_signed_out_nobody_reads_or_writes_drafts(client, asd, case):
    Draft.objects.create(user=asd, key=_note_key(case), data={"text": [NOTE_TEXT]})

    assert _load(client, _note_key(case)).status_code == 401
    assert _save(client, _note_key(case), {"text": ["x"]}).status_code == 401
    assert _discard(client, _note_key(case)).status_code == 401
    assert Draft.objects.get(user=asd).data == {"text": [NOTE_TEXT]}


def test_an_oversized_draft_is_refused_with_a_message(signed_in, asd, settings):
    settings.KIJUFAZ_DRAFT_MAX_BYTES = 1000

    response = _save(signed_in, "/cases/1/notes/", {"text": ["x" * 1000]})

    assert response.status_code == 413
    assert response.json()["error"]
    assert not Draft.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        "",
        "kein JSON",
        "[]",
        "null",
        '{"key": "/cases/1/notes/"}',
        '{"key": "/cases/1/notes/", "data": []}',
        '{"key": "/cases/1/notes/", "data": {"text": "not a list"}}',
        '{"key": "/cases/1/notes/", "data": {"text": [1, 2]}}',
        '{"key": "/cases/1/notes/", "data": {"text": ["NUL \\u0000 inside"]}}',
        '{"key": "relative/path", "data": {}}',
        '{"key": 17, "data": {}}',
        '{"key": "/' + "x" * 400 + '", "data": {}}',
    ],
)
def test_garbage_is_refused_with_a_400_and_a_message(signed_in, body):
    response = signed_in.post(reverse("draft"), body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]
    assert not Draft.objects.exists()


def test_bytes_that_are_not_utf8_are_refused(signed_in):
    response = signed_in.post(reverse("draft"), b"\xff\xfe{", content_type="application/json")

    assert response.status_code == 400


def test_a_form_body_instead_of_json_is_refused(signed_in):
    response = signed_in.post(reverse("draft"), {"key": "/cases/1/notes/", "text": "x"})

    assert response.status_code == 400


@pytest.mark.parametrize("key", ["", "relative", "/a\x00b", "/" + "x" * 400])
def test_loading_with_a_bad_key_is_refused(signed_in, key):
    response = _load(signed_in, key)

    assert response.status_code == 400
    assert response.json()["error"]


def test_one_user_cannot_pile_up_drafts_without_end(signed_in, asd):
    Draft.objects.bulk_create(
        Draft(user=asd, key=f"/form/{i}/", data={}) for i in range(DRAFTS_PER_USER)
    )

    assert _save(signed_in, "/form/new/", {"text": ["x"]}).status_code == 400
    # An existing draft can still be updated.
    assert _save(signed_in, "/form/0/", {"text": ["x"]}).status_code == 200


def test_a_successful_form_post_removes_its_draft(signed_in, asd, case):
    _save(signed_in, _note_key(case), {"text": [NOTE_TEXT]})
    Draft.objects.create(user=asd, key="/some/other/form/", data={"text": ["bleibt"]})

    response = signed_in.post(_note_key(case), {"kind": "note", "text": NOTE_TEXT})

    assert response.status_code == 302
    assert CaseNote.objects.filter(case=case, text=NOTE_TEXT).exists()
    assert list(Draft.objects.filter(user=asd).values_list("key", flat=True)) == [
        "/some/other/form/"
    ]


def test_a_form_post_with_errors_keeps_the_draft(signed_in, asd, case):
    _save(signed_in, _note_key(case), {"text": [NOTE_TEXT]})

    response = signed_in.post(_note_key(case), {"kind": "note", "text": ""})

    assert response.status_code == 400
    assert Draft.objects.filter(user=asd, key=_note_key(case)).exists()


def test_a_colleagues_successful_post_leaves_my_draft_alone(client, asd, asd_colleague, case):
    Draft.objects.create(user=asd_colleague, key=_note_key(case), data={"text": ["meins"]})
    client.force_login(asd)

    client.post(_note_key(case), {"kind": "note", "text": NOTE_TEXT})

    assert Draft.objects.filter(user=asd_colleague).exists()


def test_drafts_older_than_30_days_are_deleted(asd):
    old = Draft.objects.create(user=asd, key="/old/", data={})
    fresh = Draft.objects.create(user=asd, key="/fresh/", data={})
    Draft.objects.filter(pk=old.pk).update(updated_at=timezone.now() - datetime.timedelta(days=31))

    assert delete_stale_drafts() == 1

    assert list(Draft.objects.all()) == [fresh]


def test_a_nightly_beat_task_deletes_stale_drafts(asd):
    schedule = importlib.import_module("core.migrations.0009_stale_drafts_schedule")
    schedule.create(apps, None)  # as deployed (a transactional test may have emptied it)
    entry = PeriodicTask.objects.get(name=schedule.NAME)
    assert (entry.task, entry.crontab.hour, entry.crontab.minute) == (
        "core.tasks.delete_stale_drafts",
        "2",
        "50",
    )
    draft = Draft.objects.create(user=asd, key="/old/", data={})
    Draft.objects.filter(pk=draft.pk).update(
        updated_at=timezone.now() - datetime.timedelta(days=31)
    )

    assert tasks.delete_stale_drafts.apply().get() == 1
    assert not Draft.objects.exists()


def test_the_management_command_deletes_stale_drafts(asd, capsys):
    draft = Draft.objects.create(user=asd, key="/old/", data={})
    Draft.objects.filter(pk=draft.pk).update(
        updated_at=timezone.now() - datetime.timedelta(days=40)
    )

    call_command("delete_stale_drafts")

    assert not Draft.objects.exists()
    assert "1 stale drafts deleted" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("template_url", "marker"),
    [
        ("case_detail", 'class="mb-3" data-draft>'),
        ("risk_add", "data-draft>"),
    ],
)
def test_the_long_forms_are_marked_for_drafts(signed_in, case, template_url, marker):
    html = signed_in.get(reverse(f"cases:{template_url}", args=[case.pk])).text

    assert marker in html


def test_the_help_plan_form_is_marked_for_drafts(signed_in, case):
    help = case.helps.get()

    html = signed_in.get(reverse("cases:plan_new", args=[help.pk])).text

    assert "novalidate data-draft>" in html


def test_saving_a_draft_needs_the_csrf_token(asd):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(asd)

    response = _save(browser, "/cases/1/notes/", {"text": ["x"]})

    assert response.status_code == 403
    assert not Draft.objects.exists()


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(key=JSON_VALUES | st.text().map(lambda t: "/" + t), data=JSON_VALUES)
def test_any_json_is_stored_or_refused_with_a_message_never_a_500(signed_in, key, data):
    with transaction.atomic():
        response = _save(signed_in, key, data)
        transaction.set_rollback(True)

    assert response.status_code in (200, 400), response.status_code
    if response.status_code == 400:
        assert response.json()["error"]
