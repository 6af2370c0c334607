"""Controlling reports: requested once per region and period, rendered in the background,
archived with checksum, announced to subscribers, downloaded with an audit entry.

Tests that need the whole way through run the eager Celery task inside
`django_capture_on_commit_callbacks(execute=True)`, as the request's transaction would
on commit; the others record what would be queued.
"""

import datetime
import hashlib
import importlib
import io
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext
from pypdf import PdfReader

from budgets.models import Posting
from controlling import services
from controlling.kpis import parse_period
from controlling.models import JobStatus, ReportJob, ReportSubscription
from core.models import AuditAction, AuditEntry
from core.templatetags.kijufaz import euro
from tests import factories as f
from tests.budgets.conftest import make_ambulant_help, make_contract

pytestmark = pytest.mark.django_db

Q2 = parse_period("2026-Q2")
FAMILY_NAMES = ("Zwackelmann", "Quastenbrink", "Oppermeyer", "Würfelbaum")
FIRST_NAMES = ("Kunigunde", "Wendelin", "Philippa", "Leberecht")
FLEXIBLE_POSTING = Decimal("12345.67")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def queued(monkeypatch):
    """The job ids handed to the render task (nothing is rendered)."""
    calls = []
    monkeypatch.setattr("controlling.tasks.render_report.delay", calls.append)
    return calls


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run what is queued on commit at the end of the block: the eager task renders."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def archived_files(media) -> list[str]:
    folder = media / "reports"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def pdf_text(pdf: bytes) -> str:
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return text.replace("\xa0", " ")


def make_job(region, period=Q2, **fields) -> ReportJob:
    """A job row as request_report writes it, in any state."""
    job = services.request_report(region=region, period=period)
    ReportJob.objects.filter(pk=job.pk).update(**fields)
    job.refresh_from_db()
    return job


def with_email(user, address=None):
    user.email = address or f"{user.username}@jugendamt.example"
    user.save(update_fields=["email"])
    return user


# --- One report per region and period -----------------------------------------------


def test_requesting_the_same_region_and_period_twice_yields_one_report(
    client, leitung, region, media, run_on_commit
):
    client.force_login(leitung)
    form = {"region": region.pk, "period": "2026-Q2"}

    with run_on_commit():
        first = client.post(reverse("controlling:report_list"), form)
    with run_on_commit():
        second = client.post(reverse("controlling:report_list"), form)

    job = ReportJob.objects.get()
    assert (first.status_code, second.status_code) == (302, 302)
    assert (job.status, job.attempts, job.requested_by) == (JobStatus.DONE, 1, leitung), job.error
    assert archived_files(media) == [f"{job.key}.pdf"]
    actions = AuditEntry.objects.filter(object_type="controlling.reportjob").values_list(
        "action", flat=True
    )
    assert sorted(actions) == [AuditAction.CREATE, AuditAction.VIEW]


def test_a_pending_report_asked_for_again_is_not_queued_twice(region, queued, run_on_commit):
    with run_on_commit():
        first = services.request_report(region=region, period=Q2)
    with run_on_commit():
        second = services.request_report(region=region, period=Q2)

    assert first.pk == second.pk
    assert queued == [first.pk]


def test_a_failed_report_is_queued_again_on_a_new_request(region, queued, run_on_commit):
    with run_on_commit():
        job = services.request_report(region=region, period=Q2)
    services.mark_failed(job.pk, "RuntimeError: boom")

    with run_on_commit():
        again = services.request_report(region=region, period=Q2)

    again.refresh_from_db()
    assert again.pk == job.pk
    assert (again.status, again.error) == (JobStatus.PENDING, "")
    assert queued == [job.pk, job.pk]


def test_a_region_report_and_the_all_regions_report_are_different_reports(region, queued):
    one = services.request_report(region=region, period=Q2)
    everything = services.request_report(region=None, period=Q2)

    assert one.pk != everything.pk
    assert everything.region is None


# --- The archived PDF ---------------------------------------------------------------


@pytest.fixture
def named_region(region, asd, provider, leitung):
    """Four running family helps and one flexible posting in Q2 2026, under names that
    appear nowhere else."""
    contract = make_contract(region, 2026, providers=[provider])
    Posting.objects.create(
        sub_budget=contract.sub_budgets.get(kind="flexible"),
        booked_on=datetime.date(2026, 5, 15),
        amount=FLEXIBLE_POSTING,
        category="personnel",
        text="Personalkosten Mai",
        created_by=leitung,
    )
    for family_name, first_name in zip(FAMILY_NAMES, FIRST_NAMES, strict=True):
        help = make_ambulant_help(
            asd, region, provider, start=datetime.date(2026, 1, 1), family_name=family_name
        )
        f.make_person(help.case.family, first_name)
    return region


@pytest.fixture
def archived(named_region, media, run_on_commit):
    with run_on_commit():
        job = services.request_report(region=named_region, period=Q2)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    return job


def test_archived_report_shows_region_period_and_figures(archived, media):
    text = pdf_text((media / archived.file).read_bytes())

    assert "Modellregion Siegen-Nord" in text
    assert "Q2 2026" in text
    assert "01.04.2026 – 30.06.2026" in text
    assert euro(FLEXIBLE_POSTING).replace("\xa0", " ") == "12.345,67 €"
    assert f"{gettext('Flexible spent')} 12.345,67 €" in text
    assert f"{gettext('Active helps')} 4" in text


def test_archived_report_names_no_family_and_no_person(archived, media):
    text = pdf_text((media / archived.file).read_bytes())

    for name in (*FAMILY_NAMES, *FIRST_NAMES):
        assert name not in text


def test_checksum_and_size_describe_the_archived_file(archived, media):
    pdf = (media / archived.file).read_bytes()

    assert pdf.startswith(b"%PDF")
    assert archived.checksum == hashlib.sha256(pdf).hexdigest()
    assert archived.size == len(pdf)
    assert archived.file == f"reports/{archived.key}.pdf"


# --- Writing the archive ------------------------------------------------------------


def failing_replace(*args, **kwargs):
    raise OSError("disk full")


def test_write_atomically_leaves_no_file_and_no_temp_file_when_writing_fails(media, monkeypatch):
    path = services.report_dir() / "report.pdf"
    monkeypatch.setattr("controlling.services.os.replace", failing_replace)

    with pytest.raises(OSError, match="disk full"):
        services.write_atomically(path, b"%PDF-1.7 new")

    assert archived_files(media) == []


def test_write_atomically_keeps_the_old_file_when_rewriting_fails(media, monkeypatch):
    path = services.report_dir() / "report.pdf"
    services.write_atomically(path, b"%PDF-1.7 old")
    monkeypatch.setattr("controlling.services.os.replace", failing_replace)

    with pytest.raises(OSError):
        services.write_atomically(path, b"%PDF-1.7 new")

    assert archived_files(media) == ["report.pdf"]
    assert path.read_bytes() == b"%PDF-1.7 old"


def test_a_report_that_cannot_be_written_fails_visibly_without_a_file(
    region, media, monkeypatch, run_on_commit
):
    monkeypatch.setattr("controlling.services.os.replace", failing_replace)

    with run_on_commit():
        job = services.request_report(region=region, period=Q2)

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error == "OSError: disk full"
    assert (job.file, job.checksum, job.size) == ("", "", None)
    assert archived_files(media) == []


# --- E-mail to subscribers ----------------------------------------------------------


def test_subscribers_get_an_email_with_the_download_link(
    region, leitung, controlling, asdlead, media, run_on_commit, settings
):
    settings.KIJUFAZ_BASE_URL = "https://kijufaz.siegen.example"
    ReportSubscription.objects.create(user=with_email(leitung), region=region)
    ReportSubscription.objects.create(user=with_email(controlling), region=None)
    ReportSubscription.objects.create(user=asdlead, region=region)  # no e-mail address

    with run_on_commit():
        job = services.request_report(region=region, period=Q2)

    message = mail.outbox[0]
    link = f"https://kijufaz.siegen.example/controlling/reports/{job.pk}/download/"
    assert len(mail.outbox) == 1
    # Blind copies: subscribers do not see each other's addresses.
    assert sorted(message.bcc) == [
        "controlling@jugendamt.example",
        "leitung@jugendamt.example",
    ]
    assert link in message.body
    assert "Modellregion Siegen-Nord Q2 2026" in message.subject


@pytest.mark.django_db(transaction=True)
def test_a_mail_server_failure_does_not_fail_the_archived_report(
    region, leitung, media, monkeypatch, caplog
):
    """In the worker there is no outer transaction: the on-commit e-mail runs at once,
    inside the task's error handling."""

    def mail_server_down(self, *args, **kwargs):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr("controlling.services.EmailMessage.send", mail_server_down)
    ReportSubscription.objects.create(user=with_email(leitung), region=region)

    job = services.request_report(region=region, period=Q2)

    job.refresh_from_db()
    assert (job.status, job.error) == (JobStatus.DONE, "")
    assert archived_files(media) == [f"{job.key}.pdf"]
    assert "Connection refused" in caplog.text


def test_a_region_report_reaches_its_region_and_all_regions_subscribers_only(
    region, other_region, leitung, controlling, asdlead, media
):
    ReportSubscription.objects.create(user=with_email(leitung), region=region)
    ReportSubscription.objects.create(user=with_email(controlling), region=None)
    ReportSubscription.objects.create(user=with_email(asdlead), region=other_region)
    job = make_job(region)

    sent = services.notify_subscribers(job)

    assert sent == 2
    assert sorted(mail.outbox[0].bcc) == [
        "controlling@jugendamt.example",
        "leitung@jugendamt.example",
    ]


def test_the_all_regions_report_reaches_the_all_regions_subscribers(
    region, leitung, controlling, media
):
    ReportSubscription.objects.create(user=with_email(leitung), region=region)
    ReportSubscription.objects.create(user=with_email(controlling), region=None)
    job = make_job(None)

    services.notify_subscribers(job)

    assert mail.outbox[0].bcc == ["controlling@jugendamt.example"]


def test_no_email_is_sent_when_no_subscriber_has_an_address(region, asdlead, media):
    ReportSubscription.objects.create(user=asdlead, region=region)
    job = make_job(region)

    assert services.notify_subscribers(job) == 0
    assert mail.outbox == []


# --- The subscription toggle ---------------------------------------------------------


def test_subscribing_to_a_region_and_unsubscribing_again(client, leitung, region):
    with_email(leitung)
    client.force_login(leitung)
    url = reverse("controlling:report_subscription")

    on = client.post(url, {"region": region.pk})
    subscribed = list(ReportSubscription.objects.values_list("user", "region"))
    page = client.get(reverse("controlling:report_list"))
    off = client.post(url, {"region": region.pk})

    assert on["Location"] == off["Location"] == reverse("controlling:report_list")
    assert subscribed == [(leitung.pk, region.pk)]
    assert [r["subscribed"] for r in page.context["regions"]] == [True]
    assert page.context["all_subscribed"] is False
    assert not ReportSubscription.objects.exists()


def test_subscribing_to_all_regions(client, controlling, region):
    with_email(controlling)
    client.force_login(controlling)

    client.post(reverse("controlling:report_subscription"))

    assert ReportSubscription.objects.get().region is None
    assert client.get(reverse("controlling:report_list")).context["all_subscribed"] is True


def test_a_user_subscribes_to_all_regions_only_once(leitung):
    ReportSubscription.objects.create(user=leitung, region=None)

    with pytest.raises(IntegrityError), transaction.atomic():
        ReportSubscription.objects.create(user=leitung, region=None)


def test_a_user_without_email_address_cannot_subscribe(client, asd, region):
    client.force_login(asd)

    response = client.post(
        reverse("controlling:report_subscription"), {"region": region.pk}, follow=True
    )

    assert not ReportSubscription.objects.exists()
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


def test_subscribing_to_an_unknown_region_is_refused(client, leitung, region):
    with_email(leitung)
    client.force_login(leitung)

    response = client.post(reverse("controlling:report_subscription"), {"region": region.pk + 999})

    assert response.status_code == 404
    assert not ReportSubscription.objects.exists()


# --- Claiming and the sweeper --------------------------------------------------------


def test_a_fresh_claim_is_refused_and_a_stale_one_taken_over(region, settings):
    job = make_job(region)
    claimed_at = timezone.now()
    limit = datetime.timedelta(seconds=settings.KIJUFAZ_REPORT_TIME_LIMIT)

    first = services.claim_job(job.pk, now=claimed_at)
    while_fresh = services.claim_job(job.pk, now=claimed_at + limit - datetime.timedelta(seconds=1))
    takeover_at = claimed_at + limit + datetime.timedelta(seconds=1)
    taken_over = services.claim_job(job.pk, now=takeover_at)

    assert (first.status, first.attempts, first.started_at) == (JobStatus.RUNNING, 1, claimed_at)
    assert while_fresh is None
    assert (taken_over.attempts, taken_over.started_at) == (2, takeover_at)


@pytest.mark.parametrize("status", [JobStatus.DONE, JobStatus.FAILED])
def test_a_finished_report_cannot_be_claimed(region, status):
    job = make_job(region, status=status, file="reports/x.pdf", checksum="0" * 64)

    assert services.claim_job(job.pk) is None
    job.refresh_from_db()
    assert job.status == status


def test_the_sweeper_requeues_old_pending_and_stale_running_reports_only(
    region, other_region, settings, queued
):
    now = timezone.now()
    limit = datetime.timedelta(seconds=settings.KIJUFAZ_REPORT_TIME_LIMIT)

    def ago(**delta):
        return now - datetime.timedelta(**delta)

    periods = iter(parse_period(p) for p in ("2026-01", "2026-02", "2026-03", "2026-04"))

    def job(**fields):
        return make_job(region, next(periods), **fields).pk

    old_pending = job(requested_at=ago(minutes=5))
    job(requested_at=ago(seconds=30))  # just queued
    stale = job(status=JobStatus.RUNNING, started_at=now - limit - datetime.timedelta(seconds=1))
    job(status=JobStatus.RUNNING, started_at=ago(seconds=10))  # being rendered
    make_job(other_region, status=JobStatus.DONE, file="r.pdf", checksum="0" * 64)
    make_job(None, status=JobStatus.FAILED, requested_at=ago(days=1))
    queued.clear()

    count = services.requeue_stuck_jobs(pending_after=120, now=now)

    assert count == 2
    assert sorted(queued) == sorted([old_pending, stale])


# --- Download and live status --------------------------------------------------------


def test_download_sends_the_archived_pdf_and_is_audited(client, controlling, archived, media):
    client.force_login(controlling)

    response = client.get(reverse("controlling:report_download", args=[archived.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "controllingbericht-2026-Q2.pdf" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == (media / archived.file).read_bytes()
    entry = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert (entry.user, entry.object_type, entry.object_id) == (
        controlling,
        "controlling.reportjob",
        str(archived.pk),
    )
    assert entry.path == reverse("controlling:report_download", args=[archived.pk])


@pytest.mark.parametrize("status", [JobStatus.PENDING, JobStatus.RUNNING, JobStatus.FAILED])
def test_a_report_that_is_not_done_cannot_be_downloaded(client, leitung, region, media, status):
    job = make_job(region, status=status)
    client.force_login(leitung)

    response = client.get(reverse("controlling:report_download", args=[job.pk]))

    assert response.status_code == 404
    assert not AuditEntry.objects.filter(action=AuditAction.EXPORT).exists()


def test_a_report_whose_file_is_gone_answers_404(client, leitung, archived, media):
    (media / archived.file).unlink()
    client.force_login(leitung)

    response = client.get(reverse("controlling:report_download", args=[archived.pk]))

    assert response.status_code == 404


def test_status_rows_keep_polling_while_a_report_is_not_finished(client, leitung, region):
    make_job(region, parse_period("2026-Q1"), status=JobStatus.DONE, file="a.pdf", checksum="0")
    make_job(region)
    client.force_login(leitung)

    response = client.get(reverse("controlling:report_status"))

    assert response.status_code == 200
    assert response.text.lstrip().startswith("<tbody")  # a partial, not a whole page
    assert f'hx-get="{reverse("controlling:report_status")}?page=1"' in response.text
    assert 'hx-trigger="every 2s"' in response.text


def test_status_rows_stop_polling_when_every_report_is_finished(client, leitung, region):
    make_job(region, parse_period("2026-Q1"), status=JobStatus.DONE, file="a.pdf", checksum="0")
    make_job(region, status=JobStatus.FAILED, error="RuntimeError: boom")
    client.force_login(leitung)

    response = client.get(reverse("controlling:report_status"))

    assert response.status_code == 200
    assert "hx-get" not in response.text
    assert "hx-trigger" not in response.text


# --- The management command ----------------------------------------------------------


def test_generate_report_prints_the_path_of_the_archived_pdf(region, media):
    out = io.StringIO()

    call_command("generate_report", "--region", region.slug, "--period", "2026-Q2", stdout=out)

    job = ReportJob.objects.get()
    path = out.getvalue().strip()
    assert job.status == JobStatus.DONE
    assert path == str(media / job.file)
    with open(path, "rb") as pdf:
        assert hashlib.sha256(pdf.read()).hexdigest() == job.checksum


def test_generate_report_does_not_render_an_archived_report_again(region, media):
    call_command(
        "generate_report", "--region", region.slug, "--period", "2026-Q2", stdout=io.StringIO()
    )
    out = io.StringIO()

    call_command("generate_report", "--region", region.slug, "--period", "2026-Q2", stdout=out)

    job = ReportJob.objects.get()
    assert job.attempts == 1
    assert out.getvalue().strip() == str(media / job.file)


def test_generate_report_refuses_a_bad_period(region, media):
    with pytest.raises(CommandError, match=r"Unknown period 'Sommer': write 2025, 2025-Q4"):
        call_command("generate_report", "--region", region.slug, "--period", "Sommer")

    assert not ReportJob.objects.exists()


def test_generate_report_refuses_an_unknown_region_and_names_the_known_ones(region, media):
    with pytest.raises(CommandError, match=r"Unknown region 'nirgendwo'; known: modellregion"):
        call_command("generate_report", "--region", "nirgendwo", "--period", "2026-Q2")

    assert not ReportJob.objects.exists()


# --- The request form ----------------------------------------------------------------


@pytest.mark.parametrize("period", ["garbage", "2026-13", "2026-Q5", "2026-06-30..2026-01-01"])
def test_a_garbage_period_is_refused_with_the_parse_message(client, leitung, region, period):
    client.force_login(leitung)
    with pytest.raises(ValueError) as parse_error:
        parse_period(period)

    response = client.post(
        reverse("controlling:report_list"), {"region": region.pk, "period": period}
    )

    assert response.status_code == 400
    assert response.context["form"].errors["period"] == [str(parse_error.value)]
    assert escape(str(parse_error.value)) in response.text
    assert not ReportJob.objects.exists()
    assert not AuditEntry.objects.filter(object_type="controlling.reportjob").exists()


def test_department_head_moves_the_quarterly_report_to_another_day_and_hour(client, leitung):
    from django.apps import apps as django_apps
    from django_celery_beat.models import PeriodicTask

    schedules = importlib.import_module("controlling.migrations.0002_report_schedules")
    schedules.create(django_apps, None)
    task = PeriodicTask.objects.get(name__contains="quartal")
    client.force_login(leitung)

    response = client.post(
        reverse("controlling:schedules"),
        {"task": task.pk, "enabled": "on", "day_of_month": "5", "hour": "7"},
    )

    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.crontab.day_of_month, task.crontab.hour) == ("5", "7")
    assert task.crontab.month_of_year == "1,4,7,10"


def test_a_schedule_day_outside_1_to_28_is_refused(client, leitung):
    from django.apps import apps as django_apps
    from django_celery_beat.models import PeriodicTask

    schedules = importlib.import_module("controlling.migrations.0002_report_schedules")
    schedules.create(django_apps, None)
    task = PeriodicTask.objects.get(name__contains="monatlich")
    client.force_login(leitung)

    response = client.post(
        reverse("controlling:schedules"),
        {"task": task.pk, "enabled": "on", "day_of_month": "31", "hour": "7"},
        follow=True,
    )

    task.refresh_from_db()
    assert task.crontab.day_of_month == "2"
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_report_figures_come_from_one_repeatable_read_snapshot():
    from django.db import connection

    from controlling.reports import snapshot

    with snapshot(), connection.cursor() as cursor:
        cursor.execute("SHOW transaction_isolation")
        assert cursor.fetchone()[0] == "repeatable read"
        cursor.execute("SHOW transaction_read_only")
        assert cursor.fetchone()[0] == "on"
