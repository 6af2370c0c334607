"""Backups (docs/BACKUP.md): scripts/backup.sh dumps the database and the media files,
scripts/restore.sh brings them back into an empty database, and every row is there
again: the same number of rows and the same content in every table."""

import datetime
import subprocess
import uuid
from contextlib import closing
from pathlib import Path
from urllib.parse import quote

import psycopg2
import pytest
from django.conf import settings
from django.db import connection

from cases.models import CaseNote, GoalRating, RatingOccasion
from core.audit import log_action
from core.models import AuditAction
from providers import services as provider_services
from providers.models import Activity, HourKind
from tests import factories as f

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SCRIPTS = Path(settings.BASE_DIR) / "scripts"


def database_url(name: str) -> str:
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    host = db["HOST"] or "localhost"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgresql://{user}{password}@{host}{port}/{name}"


def on_server(*statements: str) -> None:
    """Run statements in the server's `postgres` database, outside a transaction."""
    db = connection.settings_dict
    conn = psycopg2.connect(
        dbname="postgres",
        user=db["USER"] or None,
        password=db["PASSWORD"] or None,
        host=db["HOST"] or None,
        port=db["PORT"] or None,
    )
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for statement in statements:
                cur.execute(statement)
    finally:
        conn.close()


@pytest.fixture
def empty_database():
    """A new, empty database beside the test database; dropped afterwards."""
    name = f"{connection.settings_dict['NAME']}_restored"
    on_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    yield name
    on_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def table_fingerprints(url: str) -> dict[str, tuple[int, str]]:
    """Row count and an md5 over all rows (in a fixed order) of every table."""
    with closing(psycopg2.connect(url)) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1"
        )
        tables = [row[0] for row in cur.fetchall()]
        result = {}
        for table in tables:
            cur.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) "
                f'FROM "{table}" t'
            )
            result[table] = cur.fetchone()
        return result


def generation_epochs(url: str) -> dict[int, str]:
    with closing(psycopg2.connect(url)) as conn, conn.cursor() as cur:
        cur.execute("SELECT id, epoch FROM core_figuresgeneration")
        return dict(cur.fetchall())


def sequence_values(url: str) -> dict[str, int | None]:
    with closing(psycopg2.connect(url)) as conn, conn.cursor() as cur:
        cur.execute("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'")
        return dict(cur.fetchall())


def run(script: str, *args, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(SCRIPTS / script), *map(str, args)],
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def office_data(asd, asdlead, fachkraft, traegerleitung, provider, region, datenschutz):
    """A bit of everything: a family with a case, help, plan, rating, notes (one
    entrusted), a § 8a assessment, approved hours and audit entries."""
    case = f.make_case(asd, family_name="Yilmaz")
    child = f.make_person(case.family, "Mehmet", birth_date=datetime.date(2017, 3, 1))
    help = f.make_help(case, provider)
    help.recipient = child
    help.save(update_fields=["recipient"])
    plan = f.make_plan(help, goals=("Schulbesuch regelmäßig", "Freizeit im Verein"))
    GoalRating.objects.create(
        goal=plan.goals.first(),
        occasion=RatingOccasion.START,
        rated_on=help.start,
        professional=2,
        own=3,
    )
    f.make_note(case, text="Hausbesuch mit Umlauten: äöüß – „Zitat“")
    CaseNote.objects.create(case=case, author=asd, text="Anvertraut", entrusted=True)
    f.make_risk_assessment(case)
    entry, __ = provider_services.log_hours(
        staff=fachkraft,
        idempotency_key=uuid.uuid4(),
        help=help,
        date=f.today() - datetime.timedelta(days=3),
        minutes=75,
        kind=HourKind.CASE_SPECIFIC,
        activity=Activity.DIRECT_WORK,
        note="Gespräch\nmit Zeilenumbruch",
    )
    provider_services.approve_month(staff=fachkraft, month=entry.date, by=traegerleitung)
    log_action(user=asd, action=AuditAction.VIEW, obj=case)
    log_action(user=datenschutz, action=AuditAction.EXPORT, obj=child, changes={"format": "json"})
    return case


def test_backup_restores_every_row_into_an_empty_database(office_data, empty_database, tmp_path):
    source = database_url(connection.settings_dict["NAME"])
    restored = database_url(empty_database)
    media = tmp_path / "media"
    (media / "reports").mkdir(parents=True)
    (media / "reports" / "bericht-2026-Q1.pdf").write_bytes(b"%PDF-1.7 report")
    (media / "audit").mkdir()
    (media / "audit" / "anchors.jsonl").write_text('{"id": 1, "hash": "x"}\n')

    backup = run(
        "backup.sh", tmp_path / "backups", env={"DATABASE_URL": source, "MEDIA_ROOT": media}
    )
    assert backup.returncode == 0, backup.stderr
    dump, media_tar, checksums = backup.stdout.split()
    restore = run(
        "restore.sh",
        dump,
        media_tar,
        env={"DATABASE_URL": restored, "MEDIA_ROOT": tmp_path / "restored-media"},
    )
    assert restore.returncode == 0, restore.stderr

    before, after = table_fingerprints(source), table_fingerprints(restored)
    # The figures cache's generations get new epochs (nothing cached for the source
    # database is read for the restored one); every other row is the same.
    assert generation_epochs(restored).keys() == {1, 2}
    assert not set(generation_epochs(restored).values()) & set(generation_epochs(source).values())
    del before["core_figuresgeneration"], after["core_figuresgeneration"]
    assert after == before
    assert before["cases_casenote"][0] == 2
    assert before["core_auditentry"][0] >= 2
    assert sequence_values(restored) == sequence_values(source)
    restored_report = tmp_path / "restored-media" / "reports" / "bericht-2026-Q1.pdf"
    assert restored_report.read_bytes() == b"%PDF-1.7 report"
    # The audit anchors of the old system are kept aside; the restored one starts anew.
    anchors = tmp_path / "restored-media" / "audit"
    assert not (anchors / "anchors.jsonl").exists()
    assert [p.name.startswith("anchors-before-restore-") for p in anchors.iterdir()] == [True]
    assert Path(checksums).read_text().count("kijufaz-") == 2


def test_restore_refuses_a_database_that_is_not_empty(office_data, tmp_path):
    source = database_url(connection.settings_dict["NAME"])
    backup = run(
        "backup.sh", tmp_path, env={"DATABASE_URL": source, "MEDIA_ROOT": tmp_path / "none"}
    )
    assert backup.returncode == 0, backup.stderr
    dump = backup.stdout.split()[0]

    restore = run("restore.sh", dump, env={"DATABASE_URL": source})

    assert restore.returncode != 0
    assert "not empty" in restore.stderr


def test_restore_refuses_a_damaged_dump(office_data, empty_database, tmp_path):
    source = database_url(connection.settings_dict["NAME"])
    backup = run(
        "backup.sh", tmp_path, env={"DATABASE_URL": source, "MEDIA_ROOT": tmp_path / "none"}
    )
    dump = Path(backup.stdout.split()[0])
    dump.write_bytes(dump.read_bytes()[:-100])

    restore = run("restore.sh", dump, env={"DATABASE_URL": database_url(empty_database)})

    assert restore.returncode != 0
    assert "damaged" in restore.stderr
