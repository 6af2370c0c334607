import datetime
from io import StringIO

import pytest
from dateutil.relativedelta import relativedelta
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Avg, Count, Exists, F, OuterRef, Q, Sum
from django.test import override_settings
from django.utils import timezone

from budgets.models import PlanLine, Posting, Reallocation, ServiceContract, SubBudget
from cases.management.commands.seed_demo import DEMO_USERS
from cases.models import (
    ApprovalStatus,
    Case,
    CaseNote,
    DailyRate,
    Family,
    GoalRating,
    Help,
    HelpApproval,
    HelpEndReason,
    HelpPlan,
    HelpPlanGoal,
    LegalBasis,
    Person,
    RatingOccasion,
    Region,
    Resource,
    ResourceKind,
    RiskAssessment,
    Setting,
    Team,
    TeamConsultation,
)
from cases.services import check_team_decision, needs_team_decision
from core.models import AuditEntry, Role, User
from providers import services as hour_services
from providers.models import (
    MAX_MINUTES,
    MAX_MINUTES_PER_DAY,
    MIN_MINUTES,
    ApprovalState,
    GroupOffer,
    GroupSession,
    HourEntry,
    HourKind,
    MonthApproval,
    Provider,
    ProviderKind,
    month_start,
)
from providers.selectors import provider_overview

pytestmark = pytest.mark.django_db

MODELS = [
    Region,
    Team,
    Provider,
    User,
    Family,
    Person,
    Case,
    Help,
    HelpApproval,
    HelpPlan,
    HelpPlanGoal,
    CaseNote,
    RiskAssessment,
    Resource,
    Help.resources.through,
    TeamConsultation,
    TeamConsultation.participants.through,
    GoalRating,
    DailyRate,
    HourEntry,
    MonthApproval,
    GroupOffer,
    GroupSession,
    GroupSession.registered_participants.through,
    ServiceContract,
    SubBudget,
    PlanLine,
    Posting,
    Reallocation,
]
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
PROVIDER_ROLES = (Role.PROVIDER_STAFF, Role.PROVIDER_LEAD)


@pytest.fixture(autouse=True)
def demo_seed_allowed(settings):
    settings.KIJUFAZ_ALLOW_DEMO_SEED = True


def seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


@pytest.fixture(scope="class")
def seeded(django_db_setup, django_db_blocker):
    """One demo scenario for a whole test class, rolled back after it.

    Each test runs in a savepoint inside this transaction, so the tests may write.
    """
    settings = override_settings(KIJUFAZ_ALLOW_DEMO_SEED=True, PASSWORD_HASHERS=FAST_HASHERS)
    with django_db_blocker.unblock(), settings, transaction.atomic():
        seed()
        yield timezone.localdate()
        transaction.set_rollback(True)


def test_refuses_where_demo_data_is_not_allowed(settings):
    settings.KIJUFAZ_ALLOW_DEMO_SEED = False

    with pytest.raises(CommandError, match="KIJUFAZ_ALLOW_DEMO_SEED"):
        seed()

    assert not Region.objects.exists()
    assert not User.objects.exists()


def test_force_seeds_where_demo_data_is_not_allowed(settings):
    settings.KIJUFAZ_ALLOW_DEMO_SEED = False

    seed("--force")

    assert Region.objects.filter(slug="modellregion").exists()


@pytest.mark.usefixtures("seeded")
class TestScenario:
    def test_second_run_changes_nothing(self):
        first = row_counts()

        output = seed()

        assert "Demo data already present" in output
        assert row_counts() == first
        assert first["Family"] >= 100
        assert first["Case"] >= 140
        assert first["HourEntry"] >= 10_000
        assert first["Resource"] >= 30
        assert first["TeamConsultation"] >= 50
        assert first["GoalRating"] >= 500

    def test_seeding_writes_no_audit_entries(self):
        assert not AuditEntry.objects.exists()

    def test_every_demo_user_logs_in_with_password_demo(self):
        for spec in DEMO_USERS:
            user = User.objects.get(username=spec.username)
            assert user.role == spec.role
            assert check_password("demo", user.password), spec.username

    def test_second_run_repairs_a_changed_demo_password(self):
        User.objects.filter(username="asd").update(password="!unusable")

        seed()

        assert check_password("demo", User.objects.get(username="asd").password)

    def test_only_admin_is_superuser(self):
        superusers = User.objects.filter(is_superuser=True).values_list("username", flat=True)
        assert list(superusers) == ["admin"]
        staff = User.objects.filter(is_staff=True).values_list("username", flat=True)
        assert list(staff) == ["admin"]

    def test_fachkraft_provider_has_active_helps_in_both_teams(self):
        fachkraft = User.objects.get(username="fachkraft")

        serving = Help.objects.serving_provider(fachkraft.provider_id)

        assert fachkraft.provider.short_name == "Friedenshort"
        assert serving.filter(case__team__name="ASD-Team Nord").count() >= 5
        assert serving.filter(case__team__name="ASD-Team Mitte").count() >= 3
        assert Case.objects.visible_to(fachkraft).count() >= 10

    def test_asd_has_a_caseload_with_work_due(self, seeded):
        asd = User.objects.get(username="asd")
        today = seeded
        soon = today + datetime.timedelta(days=30)

        assert Case.objects.filter(owner=asd).open().count() == 15
        assert Case.objects.filter(owner=asd).open().review_overdue().exists()
        assert (
            HelpPlan.objects.current()
            .filter(
                help__case__owner=asd, help__end__isnull=True, next_review_due__range=(today, soon)
            )
            .exists()
        )
        assert Help.objects.ending_within(30).filter(case__owner=asd).exists()
        assert RiskAssessment.objects.follow_up_due(7).filter(case__owner=asd).exists()

    def test_asdlead_has_approvals_waiting(self):
        lead = User.objects.get(username="asdlead")

        waiting = HelpApproval.objects.filter(help__case__team=lead.team, decision="requested")

        assert waiting.exists()
        assert not waiting.filter(requested_by=lead).exists()

    def test_helps_cover_every_legal_basis_setting_and_end_reason(self):
        assert set(Help.objects.values_list("legal_basis", flat=True)) == set(LegalBasis.values)
        assert set(Help.objects.values_list("setting", flat=True)) == set(Setting.values)
        ended = Help.objects.exclude(end=None)
        assert set(ended.values_list("end_reason", flat=True)) == set(HelpEndReason.values)

    # resource map (Ressourcenplan)

    def test_resource_map_of_both_regions_uses_every_kind(self, seeded):
        resources = Resource.objects.all()

        assert resources.count() >= 30
        assert set(resources.values_list("kind", flat=True)) == set(ResourceKind.values)
        for region in Region.objects.all():
            mine = resources.filter(region=region)
            assert mine.count() >= 12
            assert len(set(mine.values_list("kind", flat=True))) >= 8
            counted = mine.with_active_help_count(seeded)
            assert counted.filter(active_helps__gt=0).count() >= 5
            assert counted.filter(active_helps=0).exists()
        for resource in resources:
            assert resource.city == "Siegen"
            assert 57072 <= int(resource.postal_code) <= 57080, resource
            for name in ("street", "contact_person", "phone", "offer", "opening_times"):
                assert getattr(resource, name), (resource, name)
        assert resources.filter(helps__isnull=True).exists()  # some entries no help uses yet

    def test_helps_involve_one_to_three_resources_of_their_region(self):
        links = Help.resources.through.objects
        approved = Help.objects.filter(status=ApprovalStatus.APPROVED)

        assert links.count() >= 100
        assert not links.exclude(resource__region=F("help__case__family__region")).exists()
        assert not links.exclude(help__status=ApprovalStatus.APPROVED).exists()
        per_help = links.values("help").annotate(n=Count("id"))
        assert not per_help.filter(n__gt=3).exists()
        involved = approved.filter(resources__isnull=False).distinct()
        assert involved.count() >= 0.7 * approved.count()
        assert involved.filter(end__isnull=True).exists()
        assert involved.filter(end__isnull=False).exists()

    # § 36 (2) team consultations

    def test_longer_helps_were_chosen_by_several_professionals(self, seeded):
        helps = Help.objects.select_related("case", "team_consultation").prefetch_related(
            "team_consultation__participants"
        )
        longer = [
            help
            for help in helps
            if help.status == ApprovalStatus.APPROVED
            and (
                help.planned_end is None or help.planned_end > help.start + relativedelta(months=6)
            )
        ]

        assert len(longer) >= 50
        assert any(help.planned_end is None for help in longer)
        for help in longer:
            consultation = help.team_consultation
            assert consultation is not None, help.pk
            assert consultation.case_id == help.case_id
            assert help.case.opened_on <= consultation.held_on <= min(help.start, seeded)
            participants = list(consultation.participants.all())
            others = {user.pk for user in participants} - {help.case.owner_id}
            assert 2 <= len(others) <= 3, help.pk
            assert help.case.owner_id in {user.pk for user in participants}
            assert all(user.team_id == help.case.team_id for user in participants)
            assert any(user.role == Role.ASD_LEAD for user in participants)
            assert consultation.options_considered.count("\n- ") >= 1
            assert consultation.decision and consultation.reasons
        for help in helps:  # what request_help demands of every request
            check_team_decision(help)
            assert help.team_consultation is None or needs_team_decision(help)

    # goal lineages and ratings

    def test_later_plan_versions_point_to_the_first_version_of_each_goal(self):
        later = HelpPlanGoal.objects.filter(plan__version__gt=1)

        assert later.count() >= 100
        assert not later.filter(origin__isnull=True).exists()
        assert not later.exclude(origin__plan__version=1).exists()
        assert not later.exclude(origin__plan__help=F("plan__help")).exists()
        assert not later.exclude(origin__description=F("description")).exists()
        assert not HelpPlanGoal.objects.filter(plan__version=1, origin__isnull=False).exists()

    def test_goals_are_rated_at_start_reviews_and_end(self, seeded):
        ratings = GoalRating.objects.all()
        roots = HelpPlanGoal.objects.filter(origin__isnull=True)
        start = ratings.filter(occasion=RatingOccasion.START)
        review = ratings.filter(occasion=RatingOccasion.REVIEW)
        end = ratings.filter(occasion=RatingOccasion.END)

        assert not ratings.exclude(professional__range=(1, 5)).exists()
        assert not ratings.filter(own__isnull=False).exclude(own__range=(1, 5)).exists()
        assert not ratings.filter(goal__origin__isnull=False).exists()  # roots carry them
        assert not ratings.filter(rated_on__gt=seeded).exists()
        once = ratings.exclude(occasion=RatingOccasion.REVIEW).values("goal", "occasion")
        assert not once.annotate(n=Count("id")).filter(n__gt=1).exists()
        # start: every goal of a first version, mostly rated 1-3, mostly by the family too
        assert not roots.exclude(Exists(start.filter(goal=OuterRef("pk")))).exists()
        assert not start.exclude(rated_on=F("goal__plan__meeting_date")).exists()
        assert start.filter(professional__lte=3).count() >= 0.8 * start.count()
        assert 0.7 <= start.filter(own__isnull=False).count() / start.count() <= 0.9
        # reviews at later plan meetings of the same help
        assert review.count() >= 50
        meetings = HelpPlan.objects.filter(
            help=OuterRef("goal__plan__help"), version__gt=1, meeting_date=OuterRef("rated_on")
        )
        assert not review.exclude(Exists(meetings)).exists()
        # end: about nine in ten goals of an ended help, none of a running one
        assert not end.exclude(rated_on=F("goal__plan__help__end")).exists()
        ended = roots.filter(plan__help__end__isnull=False)
        rated = ended.filter(Exists(end.filter(goal=OuterRef("pk")))).count()
        assert 0.8 <= rated / ended.count() <= 0.97
        assert 0.65 <= end.filter(own__isnull=False).count() / end.count() <= 0.85
        planned = end.filter(goal__plan__help__end_reason=HelpEndReason.AS_PLANNED)
        broken = end.filter(
            goal__plan__help__end_reason__in=[
                HelpEndReason.BROKEN_OFF_FAMILY,
                HelpEndReason.BROKEN_OFF_PROVIDER,
            ]
        )
        assert planned.filter(professional__gte=4).count() >= 0.75 * planned.count()
        assert broken.filter(professional__range=(2, 3)).count() >= 0.6 * broken.count()
        assert planned.aggregate(avg=Avg("professional"))["avg"] >= 3.8
        assert broken.aggregate(avg=Avg("professional"))["avg"] <= 3.0

    # daily rates

    def test_every_stationary_help_has_a_rate_from_its_start(self, seeded):
        stationary = Help.objects.filter(setting=Setting.STATIONARY).prefetch_related("rates")
        raised, over_new_year = 0, 0
        for help in stationary:
            rates = sorted(help.rates.all(), key=lambda rate: rate.valid_from)
            assert rates[0].valid_from == help.start
            assert rates[0].amount == help.daily_rate
            assert rates[-1].valid_until is None
            for earlier, later in zip(rates, rates[1:], strict=False):
                # as change_daily_rate does: the earlier rate ends the day before 1 January
                assert (later.valid_from.month, later.valid_from.day) == (1, 1)
                assert earlier.valid_until == later.valid_from - datetime.timedelta(days=1)
                assert help.end is None or later.valid_from <= help.end
                assert 1.029 <= later.amount / earlier.amount <= 1.061
            raised += len(rates) > 1
            last_day = min(help.end or seeded, seeded)
            over_new_year += help.status == ApprovalStatus.APPROVED and any(
                help.start < datetime.date(year, 1, 1) <= last_day
                and (help.end is None or help.end > datetime.date(year, 1, 1))
                for year in range(help.start.year + 1, seeded.year + 1)
            )
        assert raised >= 1
        assert 0.2 <= raised / over_new_year <= 0.5  # about a third

    # hours

    def test_hour_entries_keep_every_logging_rule(self, seeded):
        entries = HourEntry.objects.all()
        originals = entries.filter(corrects__isnull=True)
        case_specific = entries.filter(kind=HourKind.CASE_SPECIFIC)

        assert not entries.filter(date__gte=seeded).exists()
        assert not originals.exclude(minutes__range=(MIN_MINUTES, MAX_MINUTES)).exists()
        assert not entries.filter(minutes=0).exists()
        assert not entries.exclude(staff__role__in=PROVIDER_ROLES).exists()
        assert not entries.exclude(staff__provider=F("provider")).exists()
        assert not entries.exclude(kind=HourKind.CASE_SPECIFIC).filter(help__isnull=False).exists()
        # case-specific only on an approved help of the own provider, active on the day
        assert not case_specific.filter(
            Q(help__isnull=True)
            | ~Q(help__provider=F("provider"))
            | ~Q(help__status=ApprovalStatus.APPROVED)
            | Q(help__start__gt=F("date"))
            | Q(help__end__lt=F("date"))
        ).exists()
        too_long = (
            entries.values("staff", "date")
            .annotate(total=Sum("minutes"))
            .filter(total__gt=MAX_MINUTES_PER_DAY)
        )
        assert not too_long.exists()
        timed = originals.filter(start_time__isnull=False)
        overlapping = timed.filter(
            Exists(
                HourEntry.objects.filter(
                    staff=OuterRef("staff"),
                    date=OuterRef("date"),
                    corrects__isnull=True,
                    start_time__lt=OuterRef("end_time"),
                    end_time__gt=OuterRef("start_time"),
                ).exclude(pk=OuterRef("pk"))
            )
        )
        assert not overlapping.exists()

    def test_times_lie_in_the_working_day_and_match_the_minutes(self):
        rows = HourEntry.objects.filter(start_time__isnull=False).values_list(
            "start_time", "end_time", "minutes"
        )
        assert len(rows) > 0.9 * HourEntry.objects.filter(corrects__isnull=True).count()
        for start, end, minutes in rows:
            assert datetime.time(8) <= start < end <= datetime.time(17)
            assert (end.hour - start.hour) * 60 + end.minute - start.minute == minutes

    def test_a_sample_of_entries_passes_the_service_checks(self, seeded):
        entries = HourEntry.objects.select_related("help").order_by("pk")
        for entry in entries[::97]:
            try:
                hour_services._check_entry(entry, today=seeded)
            except ValidationError as error:  # pragma: no cover - the message tells why
                pytest.fail(f"{entry.pk} {entry}: {error.messages}")

    def test_every_professional_logs_two_years_of_mixed_work(self, seeded):
        professionals = User.objects.filter(role__in=PROVIDER_ROLES, provider__isnull=False)
        first = month_start(seeded) - relativedelta(months=24)
        per_person = dict(
            HourEntry.objects.values_list("staff").annotate(days=Count("date", distinct=True))
        )
        assert set(per_person) == set(professionals.values_list("pk", flat=True))
        assert min(per_person.values()) >= 300  # working days in two years
        assert HourEntry.objects.filter(date__lt=first + relativedelta(months=1)).exists()
        per_day = HourEntry.objects.values("staff", "date").annotate(n=Count("id"))
        assert not per_day.filter(n__gt=5).exists()

        consortium = HourEntry.objects.filter(provider__kind=ProviderKind.CONSORTIUM)
        kinds = dict(consortium.values_list("kind").annotate(n=Count("id")))
        share = kinds[HourKind.CASE_SPECIFIC] / sum(kinds.values())
        assert 0.5 <= share <= 0.75
        assert kinds[HourKind.CROSS_CASE] > 0.1 * sum(kinds.values())
        assert kinds[HourKind.CASE_UNSPECIFIC] > 0.1 * sum(kinds.values())
        activities = {
            HourKind.CASE_SPECIFIC: {"direct_work", "case_conference"},
            HourKind.CROSS_CASE: {"team_meeting", "training", "case_conference"},
            HourKind.CASE_UNSPECIFIC: {"networking", "prevention", "group_offer"},
        }
        for kind, allowed in activities.items():
            used = set(HourEntry.objects.filter(kind=kind).values_list("activity", flat=True))
            assert used == allowed, kind
        recurring = HourEntry.objects.filter(recurring=True)
        assert recurring.filter(date__gte=seeded - datetime.timedelta(days=7)).exists()
        assert not recurring.exclude(kind=HourKind.CASE_SPECIFIC).exists()

    def test_delivered_hours_mostly_match_the_plan(self, seeded):
        previous = month_start(seeded) - relativedelta(months=1)
        flags = []
        for provider in Provider.objects.filter(kind=ProviderKind.CONSORTIUM):
            lead = User.objects.filter(provider=provider, role=Role.PROVIDER_LEAD).first()
            checks = provider_overview(lead, previous, seeded)["plan_checks"]
            flags += [check.flag for check in checks]
        assert flags.count("") > len(flags) / 2
        assert flags.count("under") >= 2
        assert flags.count("over") >= 1

    def test_months_before_the_previous_are_approved_and_locked(self, seeded):
        previous = month_start(seeded) - relativedelta(months=1)
        approvals = MonthApproval.objects.select_related("staff", "decided_by")

        assert not HourEntry.objects.filter(date__lt=previous, approval__isnull=True).exists()
        assert not HourEntry.objects.filter(date__gte=previous, approval__isnull=False).exists()
        locked = HourEntry.objects.filter(approval__isnull=False)
        assert not locked.exclude(approval__staff=F("staff")).exists()
        assert not locked.exclude(approval__state=ApprovalState.APPROVED).exists()
        for day, month in locked.values_list("date", "approval__month").distinct():
            assert month_start(day) == month
        for approval in approvals.filter(state=ApprovalState.APPROVED):
            assert approval.month < previous
            lead = approval.decided_by
            assert lead.role == Role.PROVIDER_LEAD and lead != approval.staff
            assert lead.provider_id == approval.staff.provider_id == approval.provider_id
        returned = approvals.exclude(state=ApprovalState.APPROVED).get()
        assert returned.state == ApprovalState.RETURNED
        assert returned.month == previous and returned.comment
        assert returned.decided_by.provider_id == returned.staff.provider_id
        assert HourEntry.objects.filter(staff=returned.staff).in_month(previous).exists()

    def test_corrections_carry_the_difference_to_an_approved_entry(self):
        corrections = HourEntry.objects.filter(corrects__isnull=False).select_related("corrects")

        assert corrections.count() >= 2
        for correction in corrections:
            original = correction.corrects
            assert original.approval_id is not None and correction.approval_id is not None
            assert correction.minutes != 0 and correction.note
            assert 0 <= original.minutes + correction.minutes <= MAX_MINUTES
            same = ("staff_id", "provider_id", "date", "kind", "activity", "help_id")
            assert all(getattr(correction, name) == getattr(original, name) for name in same)

    # group offers

    def test_group_offers_in_both_regions(self, seeded):
        for region in Region.objects.all():
            offers = GroupOffer.objects.filter(region=region)
            assert 4 <= offers.count() <= 6
            assert offers.filter(topic__startswith="Elterncafé").exists()
            assert not offers.exclude(provider__kind=ProviderKind.CONSORTIUM).exists()
        for offer in GroupOffer.objects.prefetch_related("staff"):
            staff = list(offer.staff.all())
            assert staff and all(user.provider_id == offer.provider_id for user in staff)
        sessions = GroupSession.objects.all()
        assert sessions.count() >= 200
        assert not sessions.exclude(anonymous_participants__range=(3, 18)).exists()
        assert not sessions.filter(date__gte=seeded).exists()
        assert not sessions.filter(date__lt=F("offer__starts_on")).exists()
        assert not sessions.filter(date__gt=F("offer__ends_on")).exists()
        assert sessions.filter(registered_participants__isnull=False).distinct().count() >= 100
        assert HourEntry.objects.filter(activity="group_offer", note__in=offers_topics()).exists()

    def test_registered_participants_come_from_families_the_provider_helps(self):
        registrations = GroupSession.registered_participants.through.objects
        helped = Help.objects.filter(
            case__family=OuterRef("person__family"),
            provider=OuterRef("groupsession__offer__provider"),
            status=ApprovalStatus.APPROVED,
            start__lte=OuterRef("groupsession__date"),
        ).filter(Q(end__isnull=True) | Q(end__gte=OuterRef("groupsession__date")))

        assert registrations.count() >= 200
        assert not registrations.exclude(Exists(helped)).exists()
        assert not registrations.exclude(
            person__family__region=F("groupsession__offer__region")
        ).exists()
        assert not registrations.filter(person__birth_date__gt=F("groupsession__date")).exists()


def offers_topics() -> list[str]:
    return list(GroupOffer.objects.values_list("topic", flat=True))
