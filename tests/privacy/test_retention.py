"""Retention (Löschfristen): what is due, runs that anonymise exactly the due records,
figures of past periods unchanged, a protocol without personal data (issue #6)."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from budgets.dashboard import region_years
from budgets.models import Posting
from cases.models import (
    Case,
    CaseNote,
    CaseStatus,
    Family,
    GoalRating,
    HelpEndReason,
    HelpPlan,
    HelpPlanGoal,
    LegalBasis,
    Person,
    RiskAssessment,
    Setting,
)
from controlling.kpis import Period, compute_kpis
from core.models import AuditEntry, Draft
from privacy import services
from privacy.models import DeletionProtocol, ProtocolAction, RetentionRule, RetentionRun, RunStatus
from privacy.selectors import due_per_rule, months_before
from privacy.tasks import execute_retention_run, propose_retention_run
from providers.models import GroupOffer, GroupSession, HourEntry, HourKind
from tests import factories as f
from tests.budgets.conftest import make_contract

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
ELEVEN_YEARS_AGO = months_before(TODAY, 11 * 12)
NINE_YEARS_AGO = months_before(TODAY, 9 * 12)
OLD_YEAR = ELEVEN_YEARS_AGO.year


def ten_year_rules():
    """The office's rules in these tests: ten years after the help ended (old practice)."""
    RetentionRule.objects.filter(
        record_type__in=["case_help", "case_out_of_home", "case_risk"]
    ).update(restrict_after_months=36, remove_after_months=120)


def closed_case_with_help(owner, provider, *, ended: datetime.date, name: str, **help_args):
    start = datetime.date(ended.year - 1, 2, 1)
    case = f.make_case(owner, family_name=name, opened_on=start)
    child = f.make_person(case.family, f"Kind{name}", birth_date=datetime.date(2010, 4, 17))
    f.make_person(case.family, f"Mutter{name}", birth_date=datetime.date(1985, 9, 9))
    help = f.make_help(
        case, provider, start=start, end=ended, end_reason=HelpEndReason.AS_PLANNED, **help_args
    )
    help.recipient = child
    help.save(update_fields=["recipient"])
    plan = f.make_plan(help, goals=(f"{name} geht wieder zur Schule",))
    goal = plan.goals.get()
    GoalRating.objects.create(goal=goal, occasion="start", rated_on=start, professional=2, own=2)
    GoalRating.objects.create(goal=goal, occasion="end", rated_on=ended, professional=5, own=4)
    f.make_note(case, text=f"Hausbesuch bei {name}, Kind{name} krank.")
    f.make_risk_assessment(case, report_received_on=start)
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.CLOSED, closed_on=ended)
    case.refresh_from_db()
    return case


def log_hours(help, staff, day, note):
    return HourEntry.objects.create(
        staff=staff,
        provider=help.provider,
        date=day,
        minutes=90,
        kind=HourKind.CASE_SPECIFIC,
        help=help,
        note=note,
    )


@pytest.fixture
def world(asd, fachkraft, provider, stationary_provider, region, case):
    ten_year_rules()
    old = closed_case_with_help(asd, provider, ended=ELEVEN_YEARS_AGO, name="Altmann")
    recent = closed_case_with_help(asd, provider, ended=NINE_YEARS_AGO, name="Neumann")
    held = closed_case_with_help(asd, provider, ended=ELEVEN_YEARS_AGO, name="Haltmann")
    Case.objects.filter(pk=held.pk).update(legal_hold=True, legal_hold_reason="Klage anhängig")
    placed = closed_case_with_help(
        asd,
        stationary_provider,
        ended=ELEVEN_YEARS_AGO,
        name="Heimer",
        legal_basis=LegalBasis.RESIDENTIAL,
        setting=Setting.STATIONARY,
    )
    placed.helps.get().rates.create(valid_from=placed.helps.get().start, amount=Decimal("210.00"))
    old_help = old.helps.get()
    log_hours(old_help, fachkraft, old_help.end - datetime.timedelta(days=3), "Altmann Termin")
    contract = make_contract(region, OLD_YEAR, providers=[provider])
    Posting.objects.create(
        sub_budget=contract.sub_budgets.get(kind="flexible"),
        booked_on=datetime.date(OLD_YEAR, 3, 31),
        amount=Decimal("4321.00"),
        category="personnel",
        text="Personalkosten März",
        created_by=asd,
    )
    # A group participant from a family without a case file.
    outsider = Family.objects.create(name="Gruppenkind", region=region, street="Weg 2")
    participant = Person.objects.create(
        family=outsider,
        first_name="Greta",
        last_name="Gruppenkind",
        birth_date=datetime.date(2012, 11, 23),
        role="child",
    )
    offer = GroupOffer.objects.create(
        provider=provider,
        region=region,
        topic="Elterncafé",
        target_group="Eltern",
        starts_on=datetime.date(OLD_YEAR, 1, 1),
    )
    session = GroupSession.objects.create(
        offer=offer,
        date=ELEVEN_YEARS_AGO - datetime.timedelta(days=10),
        duration_minutes=90,
        anonymous_participants=4,
    )
    session.registered_participants.add(participant)
    return {
        "old": old,
        "recent": recent,
        "held": held,
        "placed": placed,
        "open": case,
        "participant": participant,
        "region": region,
    }


def figures(region):
    period = Period(datetime.date(OLD_YEAR - 1, 1, 1), datetime.date(OLD_YEAR, 12, 31))
    kpis = compute_kpis(regions=region, period=period)
    budgets = [region_years(year, [region], TODAY) for year in (OLD_YEAR - 1, OLD_YEAR)]
    return kpis, repr(budgets)


def approve_and_execute(run, by, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_run(run=run, by=by)
    run.refresh_from_db()
    return run


def test_a_file_whose_help_ended_eleven_years_ago_is_due_nine_years_ago_is_not(world):
    due = {item.rule.record_type: item for item in due_per_rule(TODAY)}

    assert world["old"].pk in due["case_help"].remove
    assert world["recent"].pk not in due["case_help"].remove
    assert world["placed"].pk in due["case_out_of_home"].remove
    assert world["open"].pk not in due["case_help"].remove + due["case_help"].restrict


def test_a_case_under_legal_hold_is_counted_apart_not_due(world):
    due = {item.rule.record_type: item for item in due_per_rule(TODAY)}

    assert world["held"].pk not in due["case_help"].remove
    assert due["case_help"].held == [world["held"].pk]


def test_a_file_past_the_restriction_period_is_due_for_restriction_only(world):
    due = {item.rule.record_type: item for item in due_per_rule(TODAY)}

    assert due["case_help"].restrict == [world["recent"].pk]


def test_proposing_a_run_changes_no_data(world):
    before = list(Case.objects.values_list("pk", "restricted_at", "anonymised_at"))

    run_id = propose_retention_run()

    run = RetentionRun.objects.get(pk=run_id)
    assert run.status == RunStatus.PROPOSED
    assert list(Case.objects.values_list("pk", "restricted_at", "anonymised_at")) == before
    rules = {entry["record_type"]: entry for entry in run.due["rules"]}
    assert rules["case_help"]["remove"] == [world["old"].pk]
    assert rules["case_help"]["held"] == 1
    assert rules["hour_entry"]["remove_count"] == 1
    assert rules["group_attendance"]["remove_count"] == 1


def test_the_run_anonymises_exactly_the_due_records(
    world, datenschutz, django_capture_on_commit_callbacks
):
    run = services.propose_run(today=TODAY)

    run = approve_and_execute(run, datenschutz, django_capture_on_commit_callbacks)

    assert run.status == RunStatus.EXECUTED
    old = Case.objects.get(pk=world["old"].pk)
    assert old.anonymised_at is not None
    assert old.family.name == services.ANONYMISED_FAMILY_NAME
    assert old.family.street == ""
    names = " ".join(f"{p.first_name} {p.last_name}" for p in old.family.members.all())
    assert "Altmann" not in names
    assert {p.birth_date for p in old.family.members.all()} == {
        datetime.date(2010, 7, 1),
        datetime.date(1985, 7, 1),
    }
    assert not CaseNote.objects.filter(case=old).exists()
    risk = RiskAssessment.objects.get(case=old)
    assert (risk.report_summary, risk.report_source) == ("", "")
    plan = HelpPlan.objects.get(help__case=old)
    assert (plan.participants, plan.agreed_steps) == ("", "")
    assert HelpPlanGoal.objects.get(plan=plan).description == ""
    assert HourEntry.objects.get(help__case=old).note == ""
    participant = Person.objects.get(pk=world["participant"].pk)
    assert (participant.first_name, participant.last_name) != ("Greta", "Gruppenkind")
    for untouched in ("recent", "held", "open"):
        case = Case.objects.get(pk=world[untouched].pk)
        assert case.anonymised_at is None
        assert case.family.name == world[untouched].family.name
        assert CaseNote.objects.filter(case=case).exists()
    assert Case.objects.get(pk=world["recent"].pk).restricted_at is not None
    assert Case.objects.get(pk=world["held"].pk).restricted_at is None


def test_kpis_and_budget_figures_of_the_past_period_stay_the_same(
    world, datenschutz, django_capture_on_commit_callbacks
):
    before = figures(world["region"])
    assert before[0].people_reached > 0

    approve_and_execute(
        services.propose_run(today=TODAY), datenschutz, django_capture_on_commit_callbacks
    )

    assert Case.objects.get(pk=world["old"].pk).anonymised_at is not None
    assert figures(world["region"]) == before


def test_the_protocol_holds_no_names(world, datenschutz, django_capture_on_commit_callbacks):
    run = approve_and_execute(
        services.propose_run(today=TODAY), datenschutz, django_capture_on_commit_callbacks
    )

    protocol = list(DeletionProtocol.objects.filter(run=run).values())
    text = repr(protocol) + repr(run.due)
    assert protocol
    for name in ("Altmann", "Heimer", "Neumann", "Gruppenkind", "Greta", "KindAltmann", "Yilmaz"):
        assert name not in text
    assert world["old"].reference not in text
    old_entry = DeletionProtocol.objects.get(run=run, reference__startswith=f"{world['old'].pk}/")
    assert old_entry.reference.endswith(services.pseudonym(world["old"].reference))
    assert old_entry.action == ProtocolAction.ANONYMISED


def test_only_the_data_protection_officer_approves_a_run(world, asdlead, leitung, admin_user):
    run = services.propose_run(today=TODAY)

    for user in (asdlead, leitung, admin_user):
        with pytest.raises(PermissionDenied):
            services.approve_run(run=run, by=user)

    run.refresh_from_db()
    assert run.status == RunStatus.PROPOSED


def test_a_rejected_run_changes_nothing(world, datenschutz):
    run = services.propose_run(today=TODAY)
    before = list(Case.objects.order_by("pk").values())

    services.reject_run(run=run, by=datenschutz, comment="Fristen erst bestätigen lassen")
    execute_retention_run(run.pk)

    run.refresh_from_db()
    assert run.status == RunStatus.REJECTED
    assert list(Case.objects.order_by("pk").values()) == before
    assert not DeletionProtocol.objects.exists()


def test_a_legal_hold_set_after_the_proposal_still_protects_the_case(
    world, datenschutz, django_capture_on_commit_callbacks
):
    run = services.propose_run(today=TODAY)
    services.set_legal_hold(case=world["old"], by=datenschutz, reason="Akteneinsicht beantragt")

    run = approve_and_execute(run, datenschutz, django_capture_on_commit_callbacks)

    assert Case.objects.get(pk=world["old"].pk).anonymised_at is None
    entry = DeletionProtocol.objects.get(run=run, reference__startswith=f"{world['old'].pk}/")
    assert entry.action == ProtocolAction.SKIPPED


def test_executing_a_run_twice_changes_nothing_more(
    world, datenschutz, django_capture_on_commit_callbacks
):
    run = approve_and_execute(
        services.propose_run(today=TODAY), datenschutz, django_capture_on_commit_callbacks
    )
    protocol = list(DeletionProtocol.objects.filter(run=run).values_list("pk", flat=True))
    cases = list(Case.objects.order_by("pk").values())

    assert execute_retention_run(run.pk) == "not approved"
    RetentionRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING)
    execute_retention_run(run.pk)

    assert list(DeletionProtocol.objects.filter(run=run).values_list("pk", flat=True)) == protocol
    assert list(Case.objects.order_by("pk").values()) == cases


def test_a_case_without_help_is_deleted_when_its_rule_says_so(asd, datenschutz):
    family = f.make_family(asd.team.region, name="Beratung")
    opened = months_before(TODAY, 8 * 12)
    case = f.make_case(asd, family=family, opened_on=opened)
    f.make_note(case)
    Case.objects.filter(pk=case.pk).update(
        status=CaseStatus.CLOSED, closed_on=months_before(TODAY, 6 * 12)
    )
    run = services.propose_run(today=TODAY)
    services.approve_run(run=run, by=datenschutz)
    services.execute_run(run.pk)

    assert not Case.objects.filter(pk=case.pk).exists()
    assert not Family.objects.filter(pk=family.pk).exists()
    entry = DeletionProtocol.objects.get(run=run, record_type="case_no_help")
    assert entry.action == ProtocolAction.DELETED
    assert entry.object_count >= 3


def test_old_drafts_are_deleted_fresh_ones_kept(asd, datenschutz):
    old = Draft.objects.create(user=asd, key="/cases/1/notes/add/", data={"text": "Entwurf"})
    fresh = Draft.objects.create(user=asd, key="/cases/2/notes/add/", data={"text": "neu"})
    Draft.objects.filter(pk=old.pk).update(updated_at=timezone.now() - datetime.timedelta(days=200))

    run = services.propose_run(today=TODAY)
    services.approve_run(run=run, by=datenschutz)
    services.execute_run(run.pk)

    assert not Draft.objects.filter(pk=old.pk).exists()
    assert Draft.objects.filter(pk=fresh.pk).exists()


def test_approval_and_execution_are_in_the_audit_log(
    world, datenschutz, django_capture_on_commit_callbacks
):
    run = approve_and_execute(
        services.propose_run(today=TODAY), datenschutz, django_capture_on_commit_callbacks
    )

    entries = AuditEntry.objects.filter(object_type="privacy.retentionrun", object_id=str(run.pk))
    assert {e.changes.get("status") for e in entries} == {"approved", "executed"}


def test_a_nightly_schedule_proposes_runs():
    task = PeriodicTask.objects.get(task="privacy.tasks.propose_retention_run")
    assert task.enabled
    assert task.crontab.hour == "2"


def test_default_rules_exist_for_every_record_type_and_await_confirmation():
    rules = RetentionRule.objects.all()
    assert {r.record_type for r in rules} == {
        "case_out_of_home",
        "case_help",
        "case_risk",
        "case_no_help",
        "hour_entry",
        "group_attendance",
        "draft",
    }
    assert not any(r.confirmed_by_office for r in rules)
    assert all(r.legal_reasoning for r in rules)


def test_hour_notes_of_a_case_under_legal_hold_are_kept(
    world, fachkraft, datenschutz, django_capture_on_commit_callbacks
):
    held_help = world["held"].helps.get()
    entry = log_hours(held_help, fachkraft, held_help.end, "Termin beim Familiengericht")

    approve_and_execute(
        services.propose_run(today=TODAY), datenschutz, django_capture_on_commit_callbacks
    )

    assert HourEntry.objects.get(pk=entry.pk).note == "Termin beim Familiengericht"
    assert HourEntry.objects.get(help__case=world["old"]).note == ""


def test_a_case_without_help_is_anonymised_not_deleted_when_figures_depend_on_it(
    asd, provider, datenschutz
):
    case = f.make_case(asd, family_name="Gruppenfamilie", opened_on=months_before(TODAY, 96))
    child = f.make_person(case.family, "Gerda")
    Case.objects.filter(pk=case.pk).update(
        status=CaseStatus.CLOSED, closed_on=months_before(TODAY, 72)
    )
    offer = GroupOffer.objects.create(
        provider=provider,
        region=case.family.region,
        topic="Spielgruppe",
        target_group="Kinder",
        starts_on=months_before(TODAY, 90),
    )
    session = GroupSession.objects.create(
        offer=offer, date=months_before(TODAY, 90), duration_minutes=60
    )
    session.registered_participants.add(child)

    run = services.propose_run(today=TODAY)
    services.approve_run(run=run, by=datenschutz)
    services.execute_run(run.pk)

    case.refresh_from_db()
    assert case.anonymised_at is not None
    assert session.registered_participants.get().pk == child.pk
    entry = DeletionProtocol.objects.get(run=run, record_type="case_no_help")
    assert entry.action == ProtocolAction.ANONYMISED


def test_records_added_after_the_proposal_are_left_for_the_next_run(
    world, fachkraft, datenschutz, django_capture_on_commit_callbacks
):
    run = services.propose_run(today=TODAY)
    late = HourEntry.objects.create(
        staff=fachkraft,
        provider=fachkraft.provider,
        date=ELEVEN_YEARS_AGO,
        minutes=60,
        kind=HourKind.CROSS_CASE,
        note="Nachtrag nach dem Vorschlag",
    )

    approve_and_execute(run, datenschutz, django_capture_on_commit_callbacks)

    assert HourEntry.objects.get(pk=late.pk).note == "Nachtrag nach dem Vorschlag"
