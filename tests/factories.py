"""Small builders for test data: explicit, no magic."""

import datetime
import itertools
from decimal import Decimal

from django.utils import timezone

from cases.models import (
    ApprovalStatus,
    Case,
    CaseNote,
    Family,
    Help,
    HelpPlan,
    HelpPlanGoal,
    LegalBasis,
    Person,
    PersonRole,
    Region,
    RiskAssessment,
    Setting,
    Team,
)
from core.models import Role, User
from providers.models import Provider, ProviderKind

_seq = itertools.count(1)


def today() -> datetime.date:
    return timezone.localdate()


def make_region(name="Modellregion", slug=None) -> Region:
    return Region.objects.create(name=name, slug=slug or f"region-{next(_seq)}")


def make_team(region: Region, name=None) -> Team:
    return Team.objects.create(name=name or f"ASD-Team {next(_seq)}", region=region)


def make_provider(name=None, kind=ProviderKind.CONSORTIUM) -> Provider:
    return Provider.objects.create(name=name or f"Träger {next(_seq)}", kind=kind)


def make_user(username=None, role=Role.ASD, team=None, provider=None, **extra) -> User:
    username = username or f"user{next(_seq)}"
    user = User(
        username=username,
        role=role,
        team=team,
        provider=provider,
        first_name=extra.pop("first_name", username.title()),
        last_name=extra.pop("last_name", "Test"),
        **extra,
    )
    user.set_password("demo")
    user.save()
    return user


def make_family(region: Region, name="Muster") -> Family:
    return Family.objects.create(
        name=name, street="Hauptstraße 1", postal_code="57072", city="Siegen", region=region
    )


def make_person(
    family: Family, first_name="Lena", role=PersonRole.CHILD, birth_date=datetime.date(2014, 5, 3)
) -> Person:
    return Person.objects.create(
        family=family,
        first_name=first_name,
        last_name=family.name,
        birth_date=birth_date,
        role=role,
    )


def make_case(owner: User, family: Family | None = None, opened_on=None, **extra) -> Case:
    family = family or make_family(owner.team.region, name=extra.pop("family_name", "Muster"))
    case = Case.objects.create(
        reference=f"T-{next(_seq):05d}",
        family=family,
        owner=owner,
        team=owner.team,
        opened_on=opened_on or today() - datetime.timedelta(days=200),
        **extra,
    )
    return case


def make_help(
    case: Case,
    provider: Provider,
    *,
    legal_basis=LegalBasis.FAMILY_SUPPORT,
    setting=Setting.AMBULANT,
    start=None,
    end=None,
    end_reason="",
    status=ApprovalStatus.APPROVED,
    hours=Decimal("20"),
    daily_rate=None,
    planned_end=None,
) -> Help:
    if setting == Setting.STATIONARY:
        hours, daily_rate = None, daily_rate or Decimal("210.00")
    return Help.objects.create(
        case=case,
        provider=provider,
        legal_basis=legal_basis,
        setting=setting,
        start=start or case.opened_on,
        end=end,
        end_reason=end_reason,
        status=status,
        planned_hours_per_month=hours,
        daily_rate=daily_rate,
        created_by=case.owner,
        planned_end=planned_end,
    )


def make_plan(
    help: Help,
    *,
    version=1,
    is_current=True,
    meeting_date=None,
    next_review_due=None,
    goals=("Schulbesuch regelmäßig",),
) -> HelpPlan:
    meeting_date = meeting_date or help.start
    plan = HelpPlan.objects.create(
        help=help,
        version=version,
        is_current=is_current,
        meeting_date=meeting_date,
        participants="Mutter, Kind, ASD, Fachkraft",
        agreed_steps="Wöchentliche Termine",
        next_review_due=next_review_due or meeting_date + datetime.timedelta(days=180),
        created_by=help.case.owner,
    )
    for i, text in enumerate(goals):
        HelpPlanGoal.objects.create(plan=plan, position=i, description=text)
    return plan


def make_note(case: Case, text="Hausbesuch, Familie angetroffen.") -> CaseNote:
    return CaseNote.objects.create(case=case, author=case.owner, text=text)


def make_risk_assessment(case: Case, **extra) -> RiskAssessment:
    return RiskAssessment.objects.create(
        case=case,
        report_received_on=extra.pop("report_received_on", today()),
        report_source="Schule",
        report_summary="Kind kommt ohne Frühstück",
        created_by=case.owner,
        **extra,
    )
