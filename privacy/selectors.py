"""What is due under the retention rules (reads only; privacy.services changes data)."""

import calendar
import datetime
from dataclasses import dataclass, field

from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from cases.models import (
    ApprovalStatus,
    Case,
    CaseStatus,
    Help,
    LegalBasis,
    Person,
    RiskAssessment,
    Setting,
)
from core.models import Draft, Role
from providers.models import HourEntry

from .models import RecordType, RestrictedCaseAccess, RetentionRule, StartEvent

# Marks a person whose names were removed (Person has no anonymised_at of its own).
ANONYMOUS_FIRST_NAME = "anonym"

OUT_OF_HOME_BASES = (LegalBasis.FOSTER_CARE, LegalBasis.RESIDENTIAL)


def months_before(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` earlier (the 31st becomes the month's last day)."""
    total = day.year * 12 + day.month - 1 - months
    year, month = divmod(total, 12)
    month += 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _approved_helps():
    return Help.objects.filter(case=OuterRef("pk"), status=ApprovalStatus.APPROVED)


def classified_cases() -> QuerySet:
    """Closed, not yet anonymised cases with what decides their record type and start event."""
    return (
        Case.objects.filter(status=CaseStatus.CLOSED, anonymised_at__isnull=True)
        .annotate(
            has_help=Exists(_approved_helps()),
            out_of_home=Exists(
                _approved_helps().filter(
                    Q(setting=Setting.STATIONARY) | Q(legal_basis__in=OUT_OF_HOME_BASES)
                )
            ),
            has_open_help=Exists(_approved_helps().filter(end__isnull=True)),
            has_risk=Exists(RiskAssessment.objects.filter(case=OuterRef("pk"))),
            last_help_end=Max("helps__end", filter=Q(helps__status=ApprovalStatus.APPROVED)),
        )
        .annotate(help_ended_on=Coalesce("last_help_end", "closed_on"))
    )


def cases_of_type(record_type: str) -> QuerySet:
    cases = classified_cases()
    if record_type == RecordType.CASE_OUT_OF_HOME:
        return cases.filter(out_of_home=True)
    if record_type == RecordType.CASE_HELP:
        return cases.filter(has_help=True, out_of_home=False)
    if record_type == RecordType.CASE_RISK:
        return cases.filter(has_help=False, has_risk=True)
    if record_type == RecordType.CASE_NO_HELP:
        return cases.filter(has_help=False, has_risk=False)
    raise ValueError(record_type)


def _started_before(cases: QuerySet, rule: RetentionRule, cutoff: datetime.date) -> QuerySet:
    if rule.start_event == StartEvent.HELP_ENDED:
        # A help still running keeps the whole file alive.
        return cases.filter(has_open_help=False, help_ended_on__lte=cutoff)
    return cases.filter(closed_on__lte=cutoff)


def cases_due_for_removal(rule: RetentionRule, today: datetime.date) -> QuerySet:
    """Cases whose anonymisation or deletion is due (legal holds included: see split)."""
    cutoff = months_before(today, rule.remove_after_months)
    return _started_before(cases_of_type(rule.record_type), rule, cutoff)


def cases_due_for_restriction(rule: RetentionRule, today: datetime.date) -> QuerySet:
    if rule.restrict_after_months is None:
        return Case.objects.none()
    cutoff = months_before(today, rule.restrict_after_months)
    removal = cases_due_for_removal(rule, today).values("pk")
    return (
        _started_before(cases_of_type(rule.record_type), rule, cutoff)
        .filter(restricted_at__isnull=True)
        .exclude(pk__in=removal)
    )


def hour_entries_due(rule: RetentionRule, today: datetime.date) -> QuerySet:
    cutoff = months_before(today, rule.remove_after_months)
    return (
        HourEntry.objects.filter(date__lte=cutoff)
        .exclude(note="")
        .exclude(help__case__legal_hold=True)
    )


def group_participants_due(rule: RetentionRule, today: datetime.date) -> QuerySet:
    """Registered participants without a case file of their family (a case rule covers
    those), whose last session lies before the cutoff and who still carry names."""
    cutoff = months_before(today, rule.remove_after_months)
    return (
        Person.objects.filter(group_sessions__isnull=False)
        .exclude(Exists(Case.objects.filter(family=OuterRef("family"))))
        .exclude(first_name=ANONYMOUS_FIRST_NAME, last_name="")
        .annotate(last_session=Max("group_sessions__date"))
        .filter(last_session__lte=cutoff)
    )


def drafts_due(rule: RetentionRule, today: datetime.date) -> QuerySet:
    cutoff = months_before(today, rule.remove_after_months)
    return Draft.objects.filter(updated_at__date__lte=cutoff)


def records_due_for_removal(rule: RetentionRule, today: datetime.date) -> QuerySet:
    """Every record the rule would anonymise or delete today (cases: legal holds included)."""
    if rule.is_case_rule:
        return cases_due_for_removal(rule, today)
    return {
        RecordType.HOUR_ENTRY: hour_entries_due,
        RecordType.GROUP_ATTENDANCE: group_participants_due,
        RecordType.DRAFT: drafts_due,
    }[rule.record_type](rule, today)


@dataclass
class RuleDue:
    """What one rule makes due. Cases are listed by id; the other record types (possibly
    millions of hour entries) by count and the highest id, which bounds the run."""

    rule: RetentionRule
    restrict: list[int] = field(default_factory=list)
    remove: list[int] = field(default_factory=list)
    held: list[int] = field(default_factory=list)
    bulk_count: int = 0
    bulk_max_pk: int | None = None

    @property
    def remove_count(self) -> int:
        return len(self.remove) + self.bulk_count

    @property
    def total(self) -> int:
        return len(self.restrict) + self.remove_count

    def as_snapshot(self) -> dict:
        return {
            "rule": self.rule.pk,
            "record_type": self.rule.record_type,
            "action": self.rule.action,
            "restrict": self.restrict,
            "remove": self.remove,
            "restrict_count": len(self.restrict),
            "remove_count": self.remove_count,
            "max_pk": self.bulk_max_pk,
            "held": len(self.held),
        }


def _ids(queryset) -> list[int]:
    return sorted(queryset.values_list("pk", flat=True).distinct())


def due_per_rule(today: datetime.date | None = None) -> list[RuleDue]:
    """What each rule makes due today; cases under a legal hold are counted apart."""
    today = today or timezone.localdate()
    result = []
    for rule in RetentionRule.objects.all():
        if rule.is_case_rule:
            removal = cases_due_for_removal(rule, today)
            restriction = cases_due_for_restriction(rule, today)
            held = set(_ids(removal.filter(legal_hold=True)))
            held |= set(_ids(restriction.filter(legal_hold=True)))
            result.append(
                RuleDue(
                    rule,
                    restrict=_ids(restriction.filter(legal_hold=False)),
                    remove=_ids(removal.filter(legal_hold=False)),
                    held=sorted(held),
                )
            )
        else:
            due = records_due_for_removal(rule, today).values("pk")
            model = due.model
            figures = model.objects.filter(pk__in=due).aggregate(n=Count("pk"), top=Max("pk"))
            result.append(RuleDue(rule, bulk_count=figures["n"], bulk_max_pk=figures["top"]))
    return result


def held_cases() -> QuerySet:
    return Case.objects.filter(legal_hold=True, anonymised_at__isnull=True)


def holds_visible_to(user) -> QuerySet:
    """Legal holds the data protection officer (all) or an ASD team lead (team) manages."""
    if user.role == Role.DATA_PROTECTION:
        return held_cases()
    if user.role == Role.ASD_LEAD and user.team_id:
        return held_cases().filter(team_id=user.team_id)
    return Case.objects.none()


def hold_cases_for(user) -> QuerySet:
    """Cases on which `user` may set or lift a legal hold."""
    cases = Case.objects.filter(anonymised_at__isnull=True)
    if user.role == Role.DATA_PROTECTION:
        return cases
    if user.role == Role.ASD_LEAD and user.team_id:
        return cases.filter(team_id=user.team_id)
    return Case.objects.none()


def restricted_cases_for(user) -> QuerySet:
    """Restricted cases `user` may open with a reason: the ASD team of the case and the
    data protection officer (docs/RETENTION.md)."""
    cases = Case.objects.filter(restricted_at__isnull=False, anonymised_at__isnull=True)
    if user.role == Role.DATA_PROTECTION:
        return cases
    if user.role in (Role.ASD, Role.ASD_LEAD) and user.team_id:
        return cases.filter(team_id=user.team_id)
    return Case.objects.none()


def current_restricted_access(user, case) -> RestrictedCaseAccess | None:
    return (
        RestrictedCaseAccess.objects.filter(user=user, case=case, expires_at__gt=timezone.now())
        .order_by("-expires_at")
        .first()
    )
