"""The audit log is tamper-evident (issue #6): each entry carries the hash of the one
before it, and `manage.py verify_audit_log` reports the first broken link."""

import importlib
import json
import threading
import time

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, connections, transaction
from django.db.migrations.loader import MigrationLoader
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django_celery_beat.models import PeriodicTask

from core import tasks
from core.audit import (
    CHAIN_LOCK_ID,
    anchor_chain,
    entry_digest,
    log_action,
    verify_anchors,
    verify_chain,
)
from core.models import AuditAction, AuditEntry
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """The break reasons are asserted in the source language."""
    with translation.override("en"):
        yield


def write_entries(user, count: int) -> list[AuditEntry]:
    return [
        log_action(
            user=user,
            action=AuditAction.VIEW,
            object_type="cases.case",
            object_id=n,
            changes={"filters": {"q": f"Suche {n}", "page": "1"}, "shown": [n, n + 1]},
        )
        for n in range(count)
    ]


def run_as_table_owner(sql: str, params=()) -> None:
    """What an attacker with database access could do: switch the append-only trigger
    off for this transaction and change history behind the application's back."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        cursor.execute("SET LOCAL session_replication_role = origin")


@pytest.fixture
def entries(asd):
    return write_entries(asd, 5)


def test_each_entry_links_to_the_hash_of_the_one_before(entries):
    stored = list(AuditEntry.objects.order_by("id"))

    assert stored[0].prev_hash == ""
    for before, after in zip(stored, stored[1:], strict=False):
        assert after.prev_hash == before.entry_hash
    assert all(entry.entry_hash == entry_digest(entry) for entry in stored)


def test_an_untouched_log_verifies(entries):
    report = verify_chain()

    assert report.ok
    assert report.checked == 5


def test_the_command_reports_ok_with_the_count(entries, capsys):
    call_command("verify_audit_log")

    assert "OK: 5 audit entries" in capsys.readouterr().out


def test_the_chain_survives_what_the_database_gives_back(asd):
    """Values the database normalises (IPv6 addresses, JSON key order, unicode, a NUL)
    still hash the same when read back."""
    request = type("Request", (), {"META": {"REMOTE_ADDR": "2001:DB8:0:0::1"}, "path": "/ä"})
    log_action(
        user=asd,
        action=AuditAction.LIST,
        changes={"zeta": 1, "alpha": [1.5, None, True], "größe": "x\x00y", "b": {"y": 1, "x": 2}},
        request=request,
    )
    log_action(user=None, action=AuditAction.LOGIN_FAILED, changes={"username": "nobody"})

    assert verify_chain().ok


@pytest.mark.postgres
def test_an_edited_row_is_found(entries):
    tampered = entries[2]
    run_as_table_owner("UPDATE core_auditentry SET action = 'list' WHERE id = %s", [tampered.pk])

    report = verify_chain()

    assert not report.ok
    assert report.first_break.entry_id == tampered.pk
    assert "content does not match its hash" in report.first_break.reason
    assert report.checked == 2


@pytest.mark.postgres
def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(entries):
    tampered = AuditEntry.objects.get(pk=entries[1].pk)
    tampered.changes = {"shown": []}
    run_as_table_owner(
        "UPDATE core_auditentry SET changes = '{\"shown\": []}', entry_hash = %s WHERE id = %s",
        [entry_digest(tampered), tampered.pk],
    )

    report = verify_chain()

    assert report.first_break.entry_id == entries[2].pk
    assert f"the entry before it (#{tampered.pk})" in report.first_break.reason


@pytest.mark.postgres
def test_a_row_deleted_in_the_middle_is_found(entries):
    run_as_table_owner("DELETE FROM core_auditentry WHERE id = %s", [entries[2].pk])

    report = verify_chain()

    assert report.first_break.entry_id == entries[3].pk
    assert "link does not match" in report.first_break.reason


@pytest.mark.postgres
def test_removing_the_first_rows_is_found(entries):
    run_as_table_owner("DELETE FROM core_auditentry WHERE id <= %s", [entries[1].pk])

    report = verify_chain()

    assert report.first_break.entry_id == entries[2].pk
    assert "first entry of the log" in report.first_break.reason


@pytest.mark.postgres
def test_the_command_names_the_first_broken_entry_and_fails(entries):
    for tampered in (entries[1], entries[3]):
        run_as_table_owner(
            "UPDATE core_auditentry SET username = 'someone' WHERE id = %s", [tampered.pk]
        )

    with pytest.raises(CommandError) as failure:
        call_command("verify_audit_log")

    assert failure.value.returncode == 1
    message = str(failure.value)
    assert f"entry #{entries[1].pk} ({entries[1].at.isoformat()})" in message
    assert f"#{entries[3].pk}" not in message


def test_entries_carry_the_case_and_family_they_concern(asd, case):
    help = case.helps.get()
    plan = help.plans.get()
    person = case.family.members.get()

    for obj in (case, case.family, person, help, plan, case.notes.get()):
        log_action(user=asd, action=AuditAction.VIEW, obj=obj)

    stored = AuditEntry.objects.order_by("id")
    assert [(e.object_type, e.case_id, e.family_id) for e in stored] == [
        ("cases.case", case.pk, case.family_id),
        ("cases.family", None, case.family_id),
        ("cases.person", None, case.family_id),
        ("cases.help", case.pk, None),
        ("cases.helpplan", case.pk, None),
        ("cases.casenote", case.pk, None),
    ]


def chain_lock_held() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND pid = pg_backend_pid() AND classid = %s AND objid = %s AND objsubid = 1",
            [CHAIN_LOCK_ID >> 32, CHAIN_LOCK_ID & 0xFFFFFFFF],
        )
        return cursor.fetchone()[0] == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_audited_read_holds_the_chain_lock_for_one_statement_only():
    """Outside a transaction the entry is chained in a single statement: the lock never
    waits on a round trip to the application (under load it did, and queued readers)."""
    user = f.make_user("reader")

    with CaptureQueriesContext(connection) as queries:
        entry = log_action(user=user, action=AuditAction.VIEW, object_type="cases.case")

    assert len(queries) == 1
    assert not chain_lock_held()
    assert AuditEntry.objects.get() == entry
    assert (entry.prev_hash, entry.entry_hash) == ("", entry_digest(entry))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_inside_a_service_transaction_the_chain_lock_is_held_until_it_commits():
    user = f.make_user("service")

    with transaction.atomic():
        log_action(user=user, action=AuditAction.CHANGE, object_type="cases.case")
        assert chain_lock_held()

    assert not chain_lock_held()
    assert verify_chain().ok


# --- Parallel writers -----------------------------------------------------------------

WRITERS = 8
ENTRIES_EACH = 25


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_writers_form_one_unbroken_chain():
    user = f.make_user("parallel")
    start = threading.Barrier(WRITERS)
    errors = []

    def writer():
        try:
            start.wait()
            write_entries(user, ENTRIES_EACH)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer) for __ in range(WRITERS)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began

    assert errors == []
    report = verify_chain()
    assert report.ok, report.first_break
    assert report.checked == WRITERS * ENTRIES_EACH
    print(f"{report.checked / seconds:.0f} audit writes/s with {WRITERS} parallel writers")


def historical_apps():
    """The models as migration core/0004 sees them (plain managers, no append-only guard)."""
    loader = MigrationLoader(connection)
    return loader.project_state(("core", "0004_audit_chain_case_and_family")).apps


@pytest.mark.postgres
def test_entries_from_before_the_chain_are_chained_by_the_migration(asd):
    """core/0004 chains what was written before the hash chain existed, in id order."""
    migration = importlib.import_module("core.migrations.0004_audit_chain_case_and_family")
    for object_type, object_id in (("cases.case", "12"), ("cases.family", "7"), ("", "")):
        AuditEntry(
            username="asd", action=AuditAction.VIEW, object_type=object_type, object_id=object_id
        ).save()
    log_action(user=asd, action=AuditAction.VIEW)
    assert not verify_chain().ok

    with connection.cursor() as cursor:
        # The test's own inserts left deferred foreign-key checks pending, which ALTER
        # TABLE refuses to run beside; in `migrate` the migration has its own transaction.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with connection.schema_editor() as editor:
        migration.chain_existing_entries(historical_apps(), editor)

    assert verify_chain().checked == 4
    chained = list(AuditEntry.objects.order_by("id").values_list("case_id", "family_id"))
    assert chained == [(12, None), (None, 7), (None, None), (None, None)]
    # The append-only trigger is back on.
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditentry SET username = 'x'")


# --- Anchors outside the database --------------------------------------------------------


def test_an_anchor_records_the_head_of_the_chain_outside_the_database(entries, settings):
    anchor = anchor_chain()

    head = AuditEntry.objects.order_by("-id").first()
    assert (anchor["id"], anchor["hash"]) == (head.pk, head.entry_hash)
    lines = settings.KIJUFAZ_AUDIT_ANCHOR_FILE.read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == [head.pk]


def test_an_empty_log_has_no_anchor_and_verifies(settings):
    assert anchor_chain() is None
    assert verify_anchors().ok
    assert not settings.KIJUFAZ_AUDIT_ANCHOR_FILE.exists()


def test_the_command_counts_the_anchors(entries, capsys):
    anchor_chain()
    write_entries(entries[0].user, 2)
    anchor_chain()

    call_command("verify_audit_log")

    assert "OK: 7 audit entries, chain intact; 2 anchors found in the log." in (
        capsys.readouterr().out
    )


@pytest.mark.postgres
def test_removing_the_newest_entries_is_found_by_their_anchor(entries):
    """The chain alone cannot show it: no entry follows the removed ones."""
    anchor_chain()
    run_as_table_owner("DELETE FROM core_auditentry WHERE id >= %s", [entries[3].pk])
    assert verify_chain().ok

    with pytest.raises(CommandError) as failure:
        call_command("verify_audit_log")

    assert failure.value.returncode == 1
    assert f"anchored entry #{entries[4].pk} is missing" in str(failure.value)


@pytest.mark.postgres
def test_an_anchored_entry_rewritten_with_a_new_hash_is_found(entries):
    anchor_chain()
    head = entries[4]
    run_as_table_owner(
        "UPDATE core_auditentry SET entry_hash = %s WHERE id = %s", ["0" * 64, head.pk]
    )

    report = verify_anchors()

    assert not report.ok
    assert f"#{head.pk} has another hash" in report.problem


def test_a_damaged_anchor_file_is_reported(entries, settings):
    settings.KIJUFAZ_AUDIT_ANCHOR_FILE.write_text("not json\n")

    report = verify_anchors()

    assert "line 1 of the anchor file is not an anchor" in report.problem


def test_the_beat_task_anchors_the_chain_every_hour(entries, settings):
    schedule = importlib.import_module("core.migrations.0010_audit_anchor_schedule")
    schedule.create(apps, None)
    entry = PeriodicTask.objects.get(name=schedule.NAME)
    assert (entry.task, entry.interval.every, entry.interval.period) == (
        "core.tasks.anchor_audit_log",
        1,
        "hours",
    )

    tasks.anchor_audit_log.apply().get()

    assert settings.KIJUFAZ_AUDIT_ANCHOR_FILE.exists()
    assert verify_anchors().checked == 1
