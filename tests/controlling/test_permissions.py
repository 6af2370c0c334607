"""Who may open which controlling page (DOMAIN.md "Roles and what each may see").

The matrix below is the contract: every URL of the `controlling` namespace, for every
persona, GET and (where the page takes one) POST. Reports are read by the ASD
caseworkers, the ASD team lead, the provider team lead (pseudonymised), the department
head and the controller; the team lead, the department head and the controller request
them; the department head alone configures the schedules. Workshops are read by the
department head, the controller and the provider team lead and edited by the first two.
Everyone else gets 403, and anonymous visitors the login page.
"""

import datetime
import importlib

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from controlling import urls as controlling_urls
from controlling.kpis import parse_period
from controlling.models import ActionItem, Decision, JobStatus, ReportJob, Workshop, report_key
from core.models import AuditAction, AuditEntry
from tests.pages import status_as

pytestmark = pytest.mark.django_db

PERSONAS = (
    "anonymous",
    "asd",
    "asd_colleague",
    "asd_other_team",
    "asdlead",
    "fachkraft",
    "traegerleitung",
    "fachkraft_other_provider",
    "leitung",
    "controlling",
    "datenschutz",
    "admin_user",
)

schedules_migration = importlib.import_module("controlling.migrations.0002_report_schedules")


@pytest.fixture(autouse=True)
def report_schedules(db):
    """The beat schedules as the data migration deploys them (a transactional test run
    earlier in the session empties every table, these rows included)."""
    schedules_migration.create(apps, None)


# Which object of the world each URL points at (None: no argument).
TARGET = {
    "report_list": None,
    "report_status": None,
    "report_subscription": None,
    "report_download": "job",
    "schedules": None,
    "workshop_list": None,
    "workshop_new": None,
    "workshop_detail": "workshop",
    "action_item_done": "item",
}

# What a POST sends: an invalid form where there is one (nothing can be saved), else the
# smallest valid body.
BODY = {
    "report_list": lambda world: {"period": ""},
    "report_subscription": lambda world: {},
    "schedules": lambda world: {"task": world["task"].pk},
    "workshop_new": lambda world: {"title": ""},
    "workshop_detail": lambda world: {"form": "decision", "decision-text": ""},
    "action_item_done": lambda world: {},
}

# fmt: off
# Columns in the order of PERSONAS (coll: the caseworker's team colleague, other: a
# caseworker of another team, plead: provider team lead, ostaf: staff of another provider):
#                anon asd  coll other alead staff plead ostaf leit ctrl dsb  admin
READ         = (302, 200, 200, 200,  200,  403,  200,  403,  200, 200, 403, 403)
REQUEST_BAD  = (302, 403, 403, 403,  400,  403,  403,  403,  400, 400, 403, 403)
READ_405     = (302, 405, 405, 405,  405,  403,  405,  403,  405, 405, 403, 403)
READ_POST    = (302, 302, 302, 302,  302,  403,  302,  403,  302, 302, 403, 403)
HEAD         = (302, 403, 403, 403,  403,  403,  403,  403,  200, 403, 403, 403)
HEAD_POST    = (302, 403, 403, 403,  403,  403,  403,  403,  302, 403, 403, 403)
WORKSHOP     = (302, 403, 403, 403,  403,  403,  200,  403,  200, 200, 403, 403)
EDIT         = (302, 403, 403, 403,  403,  403,  403,  403,  200, 200, 403, 403)
EDIT_BAD     = (302, 403, 403, 403,  403,  403,  403,  403,  400, 400, 403, 403)
EDIT_405     = (302, 403, 403, 403,  403,  403,  403,  403,  405, 405, 403, 403)
EDIT_POST    = (302, 403, 403, 403,  403,  403,  403,  403,  302, 302, 403, 403)

MATRIX = {
    ("report_list", "GET"):          READ,
    # Readers who may not request get 403 for any POST; requesters see the form's errors.
    ("report_list", "POST"):         REQUEST_BAD,
    ("report_status", "GET"):        READ,
    # POST only: the role check comes first, then 405 for GET.
    ("report_subscription", "GET"):  READ_405,
    ("report_subscription", "POST"): READ_POST,
    ("report_download", "GET"):      READ,
    ("schedules", "GET"):            HEAD,
    ("schedules", "POST"):           HEAD_POST,
    ("workshop_list", "GET"):        WORKSHOP,
    ("workshop_new", "GET"):         EDIT,
    ("workshop_new", "POST"):        EDIT_BAD,
    ("workshop_detail", "GET"):      WORKSHOP,
    # The provider team lead reads a workshop but may not add to it.
    ("workshop_detail", "POST"):     EDIT_BAD,
    ("action_item_done", "GET"):     EDIT_405,
    ("action_item_done", "POST"):    EDIT_POST,
}
# fmt: on


def make_done_job(region, media_root, period_key="2026-Q2") -> ReportJob:
    """An archived report as render_and_archive leaves it (without rendering a PDF)."""
    period = parse_period(period_key)
    key = report_key(region.slug, period.key)
    (media_root / "reports").mkdir(parents=True, exist_ok=True)
    (media_root / "reports" / f"{key}.pdf").write_bytes(b"%PDF-1.7 test")
    return ReportJob.objects.create(
        key=key,
        region=region,
        period_key=period.key,
        period_start=period.start,
        period_end=period.end,
        status=JobStatus.DONE,
        file=f"reports/{key}.pdf",
        checksum="0" * 64,
        size=13,
    )


def make_workshop(region, by, date="2026-03-10", title="Controllingworkshop Q1") -> Workshop:
    return Workshop.objects.create(
        region=region,
        date=date,
        title=title,
        participants_office="Amtsleitung, Controlling",
        participants_providers="Teamleitung Hilfeleisterteam",
        created_by=by,
    )


@pytest.fixture
def world(region, leitung, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    workshop = make_workshop(region, leitung)
    item = ActionItem.objects.create(
        workshop=workshop, text="Gruppenangebot planen", owner="Träger", due_on="2026-05-01"
    )
    return {
        "job": make_done_job(region, tmp_path),
        "workshop": workshop,
        "item": item,
        "task": PeriodicTask.objects.filter(task__startswith="controlling.").first(),
    }


def _url(name: str, world: dict) -> str:
    target = TARGET[name]
    return reverse(f"controlling:{name}", args=[world[target].pk] if target else [])


@pytest.mark.parametrize(("name", "method"), list(MATRIX), ids=[f"{n}-{m}" for n, m in MATRIX])
def test_each_persona_gets_the_status_the_access_table_says(client, request, world, name, method):
    url = _url(name, world)
    body = BODY[name](world) if method == "POST" else {}
    expected = dict(zip(PERSONAS, MATRIX[name, method], strict=True))

    actual = {
        persona: status_as(client, request, persona, method, url, body) for persona in PERSONAS
    }

    assert actual == expected


def test_every_controlling_url_is_in_the_permission_matrix():
    names = {pattern.name for pattern in controlling_urls.urlpatterns}
    assert names == {name for name, __ in MATRIX}
    assert names == set(TARGET)
    assert {name for name, method in MATRIX if method == "POST"} == set(BODY)


# --- Focused rules -------------------------------------------------------------------


def test_provider_staff_cannot_reach_the_reports(client, fachkraft):
    client.force_login(fachkraft)

    assert client.get("/controlling/reports/").status_code == 403


def test_asd_caseworker_reads_reports_but_cannot_request_one(client, asd, region):
    client.force_login(asd)

    page = client.get(reverse("controlling:report_list"))
    posted = client.post(
        reverse("controlling:report_list"), {"region": region.pk, "period": "2026-Q2"}
    )

    assert page.status_code == 200
    assert page.context["can_request"] is False
    assert 'name="period"' not in page.text
    assert posted.status_code == 403
    assert not ReportJob.objects.exists()


def test_asd_team_lead_may_request_a_report(
    client, asdlead, region, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr("controlling.tasks.render_report.delay", queued.append)
    client.force_login(asdlead)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("controlling:report_list"), {"region": region.pk, "period": "2026-Q2"}
        )

    assert response.status_code == 302
    job = ReportJob.objects.get()
    assert (job.region, job.period_key, job.requested_by) == (region, "2026-Q2", asdlead)
    assert queued == [job.pk]


@pytest.mark.parametrize("persona", ["asd", "asdlead", "traegerleitung", "controlling"])
def test_only_the_department_head_is_offered_the_schedules(client, request, persona, leitung):
    schedules_url = reverse("controlling:schedules")
    client.force_login(request.getfixturevalue(persona))
    others_page = client.get(reverse("controlling:report_list")).text
    client.force_login(leitung)
    heads_page = client.get(reverse("controlling:report_list")).text

    assert schedules_url not in others_page
    assert schedules_url in heads_page


def test_department_head_switches_a_schedule_off_and_on(client, leitung):
    task = PeriodicTask.objects.get(name="Controllingbericht quartalsweise (alle Regionen)")
    assert task.enabled
    client.force_login(leitung)

    page = client.get(reverse("controlling:schedules"))
    off = client.post(reverse("controlling:schedules"), {"task": task.pk})
    task.refresh_from_db()
    enabled_after_off = task.enabled
    client.post(reverse("controlling:schedules"), {"task": task.pk, "enabled": "on"})
    task.refresh_from_db()

    assert task.name in page.text
    assert off.status_code == 302
    assert enabled_after_off is False
    assert task.enabled is True
    changes = AuditEntry.objects.filter(
        action=AuditAction.CHANGE, object_type="django_celery_beat.periodictask"
    )
    assert sorted(e.changes["enabled"] for e in changes) == [False, True]
    assert {e.user for e in changes} == {leitung}


def test_disabling_a_schedule_forgets_its_last_run(client, leitung):
    """Beat takes date_changed as the last run of a task without one: both must be written,
    or switching a schedule on again fires the run it missed at once."""
    long_ago = timezone.now() - datetime.timedelta(days=90)
    task = PeriodicTask.objects.filter(task__startswith="controlling.").first()
    PeriodicTask.objects.filter(pk=task.pk).update(last_run_at=long_ago, date_changed=long_ago)
    client.force_login(leitung)
    before = timezone.now()

    client.post(reverse("controlling:schedules"), {"task": task.pk})

    task.refresh_from_db()
    assert (task.enabled, task.last_run_at) == (False, None)
    assert task.date_changed >= before


def test_controller_cannot_toggle_a_schedule(client, controlling):
    task = PeriodicTask.objects.filter(task__startswith="controlling.").first()
    client.force_login(controlling)

    response = client.post(reverse("controlling:schedules"), {"task": task.pk})

    task.refresh_from_db()
    assert response.status_code == 403
    assert task.enabled is True


def test_schedules_page_lists_only_the_controlling_tasks(client, leitung):
    from django_celery_beat.models import IntervalSchedule

    every_day, __ = IntervalSchedule.objects.get_or_create(every=1, period="days")
    other = PeriodicTask.objects.create(
        name="Fremde Aufgabe", task="budgets.tasks.something", interval=every_day
    )
    client.force_login(leitung)

    page = client.get(reverse("controlling:schedules"))
    toggled = client.post(reverse("controlling:schedules"), {"task": other.pk})

    assert "Fremde Aufgabe" not in page.text
    assert toggled.status_code == 404


@pytest.mark.parametrize("persona", ["leitung", "controlling", "traegerleitung"])
def test_workshops_are_readable_by_head_controller_and_provider_lead(
    client, request, persona, region, leitung
):
    workshop = make_workshop(region, leitung)
    client.force_login(request.getfixturevalue(persona))

    listed = client.get(reverse("controlling:workshop_list"))
    shown = client.get(workshop.get_absolute_url())

    assert listed.status_code == shown.status_code == 200
    assert workshop.title in listed.text
    assert workshop.participants_providers in shown.text


def test_provider_lead_sees_a_workshop_without_forms_and_cannot_add_to_it(
    client, traegerleitung, region, leitung
):
    workshop = make_workshop(region, leitung)
    item = ActionItem.objects.create(
        workshop=workshop, text="Netzwerktreffen", owner="Träger", due_on="2026-05-01"
    )
    client.force_login(traegerleitung)

    listed = client.get(reverse("controlling:workshop_list"))
    page = client.get(workshop.get_absolute_url())
    added = client.post(
        workshop.get_absolute_url(), {"form": "decision", "decision-text": "Mehr Gruppen"}
    )
    done = client.post(reverse("controlling:action_item_done", args=[item.pk]))

    assert page.context["forms"] is None
    assert 'name="form"' not in page.text
    assert reverse("controlling:action_item_done", args=[item.pk]) not in page.text
    assert reverse("controlling:workshop_new") not in listed.text
    assert (added.status_code, done.status_code) == (403, 403)
    assert not Decision.objects.exists()
    item.refresh_from_db()
    assert item.done_on is None


@pytest.mark.parametrize("persona", ["leitung", "controlling"])
def test_department_head_and_controller_edit_workshops(client, request, persona, region, leitung):
    workshop = make_workshop(region, leitung)
    client.force_login(request.getfixturevalue(persona))

    response = client.post(
        workshop.get_absolute_url(), {"form": "decision", "decision-text": "Mehr Gruppen"}
    )

    assert response.status_code == 302
    assert workshop.decisions.get().text == "Mehr Gruppen"
