"""`seed_demo --scale city`: the big-city data set, here at a tiny fraction."""

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.urls import reverse

from budgets.models import PlanLine, Posting, ServiceContract, SubBudget
from cases.city_seed import (
    FULL,
    HOUR_ENTRY_TRIGGERS,
    MARKER_SLUG,
    YEARS,
    CitySeed,
    seed_city,
)
from cases.models import (
    Case,
    CaseNote,
    DailyRate,
    Family,
    GoalRating,
    Help,
    HelpApproval,
    HelpPlan,
    HelpPlanGoal,
    Person,
    Region,
    Setting,
    TeamConsultation,
)
from core.models import Role, User
from providers.models import MAX_MINUTES_PER_DAY, GroupOffer, GroupSession, HourEntry
from tests.hour_sums import rolled_up, summed_entries

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

FRACTION = 0.0005
TODAY = datetime.date(2026, 6, 15)
SEEDED_TABLES = [
    "cases_family",
    "cases_person",
    "cases_case",
    "cases_help",
    "cases_helpplan",
    "cases_helpplangoal",
    "providers_hourentry",
    "providers_monthapproval",
    "budgets_posting",
]


def seed(fraction=FRACTION, today=TODAY) -> str:
    out = StringIO()
    seed_city(fraction=fraction, write=out.write, today=today)
    return out.getvalue()


def schema() -> list[tuple]:
    """Every index and constraint definition of the tables the seed writes in bulk."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, indexname, indexdef FROM pg_indexes "
            "WHERE tablename = ANY(%s) ORDER BY 1, 2",
            [SEEDED_TABLES],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE conrelid::regclass::text = ANY(%s) ORDER BY 1, 2",
            [SEEDED_TABLES],
        )
        return indexes + cursor.fetchall()


def fingerprint() -> dict:
    """Row counts and a checksum over a sample of the big tables."""
    checksums = {}
    samples = {
        "cases_person": "id, family_id, first_name, last_name, birth_date, role",
        "cases_case": "id, reference, family_id, owner_id, status, opened_on, closed_on",
        "cases_help": 'id, case_id, legal_basis, setting, provider_id, start, "end", status',
        "providers_hourentry": "id, staff_id, date, start_time, minutes, kind, help_id, "
        "idempotency_key",
    }
    with connection.cursor() as cursor:
        for table, columns in samples.items():
            cursor.execute(
                f"SELECT count(*), md5(string_agg(concat_ws(',', {columns}), ';' ORDER BY id)) "  # noqa: S608
                f"FROM {table} WHERE id % 3 = 0"
            )
            checksums[table] = cursor.fetchone()
    return checksums


def test_the_city_data_set_has_the_proportions_of_the_full_one():
    output = seed()

    assert Region.objects.filter(slug=MARKER_SLUG).exists()
    assert Family.objects.count() == round(FULL["families"] * FRACTION)
    assert Person.objects.count() == round(FULL["persons"] * FRACTION)
    assert Case.objects.count() == round(FULL["cases"] * FRACTION)
    helps = Help.objects.count()
    assert round(FULL["helps"] * FRACTION) * 0.9 <= helps <= round(FULL["helps"] * FRACTION)
    entries = HourEntry.objects.count()
    assert (
        0.5 * FULL["hour_entries"] * FRACTION <= entries <= 1.05 * FULL["hour_entries"] * FRACTION
    )
    assert GroupOffer.objects.count() >= 1 and GroupSession.objects.exists()
    # Everything the pages need around the helps.
    assert HelpApproval.objects.count() == helps
    assert HelpPlan.objects.exists() and HelpPlanGoal.objects.exists()
    assert GoalRating.objects.exists() and CaseNote.objects.exists()
    assert TeamConsultation.objects.exists()
    stationary = Help.objects.filter(setting=Setting.STATIONARY, status="approved")
    assert DailyRate.objects.filter(help__in=stationary).values("help").distinct().count() == (
        stationary.count()
    )
    # A family has at most one open case; helps run in their case's lifetime.
    assert not Family.objects.annotate(open=Count("cases", filter=Q(cases__status="open"))).filter(
        open__gt=1
    )
    for case in Case.objects.prefetch_related("helps"):
        assert all(help.start >= case.opened_on for help in case.helps.all())
        if case.closed_on:
            assert all(help.end and help.end <= case.closed_on for help in case.helps.all())
    # Contracts for every region and each of the five years, with both sub-budgets.
    regions = Region.objects.count()
    assert ServiceContract.objects.count() == regions * YEARS
    assert SubBudget.objects.count() == 2 * regions * YEARS
    assert PlanLine.objects.filter(sub_budget__kind="stationary").count() == regions * YEARS
    assert Posting.objects.exists()
    assert "providers_hourentry" in output and "ANALYZE" in output


def test_hour_entries_fall_on_weekdays_without_overlaps_and_within_fourteen_hours():
    seed()

    assert not HourEntry.objects.filter(date__week_day__in=[1, 7]).exists()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM providers_hourentry a JOIN providers_hourentry b "
            "ON a.staff_id = b.staff_id AND a.date = b.date AND a.id < b.id "
            "WHERE a.start_time < b.end_time AND b.start_time < a.end_time"
        )
        assert cursor.fetchone()[0] == 0
        cursor.execute(
            "SELECT max(total) FROM (SELECT sum(minutes) AS total FROM providers_hourentry "
            "GROUP BY staff_id, date) days"
        )
        assert cursor.fetchone()[0] <= MAX_MINUTES_PER_DAY
    # Case-specific hours belong to a help the professional's provider delivers.
    assert HourEntry.objects.filter(kind="case_specific").exists()
    assert not (
        HourEntry.objects.filter(kind="case_specific")
        .exclude(help__provider_id=F("provider_id"))
        .exists()
    )


def test_indexes_and_constraints_dropped_for_the_load_are_recreated_exactly():
    before = schema()

    seed()

    assert schema() == before


def hour_trigger_states() -> dict:
    """pg_trigger.tgenabled of the hour entries' triggers the load turns off: 'O' is
    enabled, 'D' disabled."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname, tgenabled FROM pg_trigger "
            "WHERE tgrelid = 'providers_hourentry'::regclass AND tgname = ANY(%s)",
            [list(HOUR_ENTRY_TRIGGERS)],
        )
        return dict(cursor.fetchall())


def test_the_hour_rollups_equal_the_loaded_entries_and_the_triggers_are_on_again():
    seed()

    assert HourEntry.objects.count() > 1000
    assert rolled_up() == summed_entries()
    assert hour_trigger_states() == dict.fromkeys(HOUR_ENTRY_TRIGGERS, "O")
    # and it keeps the rollups again: a further entry is counted at once
    entry = HourEntry.objects.filter(help__isnull=False).order_by("pk").first()
    key = (entry.provider_id, entry.help_id, entry.kind, entry.date.replace(day=1))
    before = rolled_up()[key]
    HourEntry.objects.filter(pk=entry.pk).update(minutes=F("minutes") + 15)
    assert rolled_up()[key] == before + 15


def test_a_failed_load_leaves_the_hour_triggers_enabled(monkeypatch):
    def broken_contracts(self):
        raise RuntimeError("load failed")

    monkeypatch.setattr(CitySeed, "_contracts", broken_contracts)
    with pytest.raises(RuntimeError):
        seed()

    assert hour_trigger_states() == dict.fromkeys(HOUR_ENTRY_TRIGGERS, "O")
    assert not HourEntry.objects.exists()


def test_the_same_seed_gives_the_same_rows():
    with transaction.atomic():
        seed()
        first = fingerprint()
        transaction.set_rollback(True)
    assert not Region.objects.filter(slug=MARKER_SLUG).exists()

    seed()

    assert fingerprint() == first


def test_a_second_run_adds_nothing():
    seed()
    count = HourEntry.objects.count()

    assert "already present" in seed()
    assert HourEntry.objects.count() == count


def test_the_main_pages_answer_for_generated_users(client):
    seed()
    caseworker = (
        User.objects.filter(role=Role.ASD)
        .annotate(open=Count("owned_cases", filter=Q(owned_cases__status="open")))
        .order_by("-open", "pk")
        .first()
    )
    staff = User.objects.filter(role=Role.PROVIDER_STAFF).order_by("pk").first()
    head = User.objects.get(role=Role.DEPARTMENT_HEAD)
    pages = [
        (caseworker, reverse("desk")),
        (caseworker, reverse("cases:case_list")),
        (caseworker, Case.objects.filter(owner=caseworker).first().get_absolute_url()),
        (staff, reverse("providers:hour_sheet")),
        (head, reverse("budgets:dashboard")),
    ]
    for user, url in pages:
        client.force_login(user)
        assert client.get(url).status_code == 200, url


def test_city_scale_is_refused_on_sqlite(monkeypatch):
    monkeypatch.setattr(connection, "vendor", "sqlite")

    with pytest.raises(CommandError, match="needs PostgreSQL"):
        call_command("seed_demo", "--scale", "city", "--fraction", "0.001", "--force")


def test_the_fraction_must_be_a_share():
    with pytest.raises(CommandError, match="--fraction"):
        call_command("seed_demo", "--scale", "city", "--fraction", "0", "--force")
