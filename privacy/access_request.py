"""Access request (Art. 15 GDPR, § 83 SGB X): everything held about one person.

`collect_person_data(person)` gathers the data into a plain dict with stable English
keys (dates as ISO strings, amounts as strings) that the JSON download writes as is
and the PDF template renders. Third parties' data stays out; every such exclusion is
named in the "notes" (Hinweise) section of the export itself:

- other members of the household (their names, birth dates, roles, their helps);
- entrusted journal entries (§ 65 SGB VIII), without saying whether there are any;
- who reported a child-protection concern and what they reported (§ 8a);
- the participants' names of help-plan meetings;
- the names of provider professionals: their organisation is named instead (it is the
  recipient of the data); staff of the office itself are named by name.
"""

import datetime
import json
import re
from decimal import Decimal

from django.apps import apps
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.models import (
    Case,
    CaseNote,
    GoalRating,
    Help,
    HelpApproval,
    HelpPlan,
    HelpPlanGoal,
    Person,
    RiskAssessment,
)
from core.models import AuditEntry
from providers.models import GroupSession, HourEntry

FORMAT = "kijufaz-access-request/1"

# The sections of the export in the order the preview and the PDF show them.
SECTIONS = (
    "person",
    "family",
    "cases",
    "helps",
    "help_plans",
    "goal_ratings",
    "journal",
    "risk_assessments",
    "hours",
    "group_sessions",
    "audit",
)

SECTION_LABELS = {
    "person": gettext_lazy("Person"),
    "family": gettext_lazy("Household and address"),
    "cases": gettext_lazy("Case files"),
    "helps": gettext_lazy("Helps"),
    "help_plans": gettext_lazy("Help plans"),
    "goal_ratings": gettext_lazy("Goal ratings"),
    "journal": gettext_lazy("Journal entries"),
    "risk_assessments": gettext_lazy("Child-protection assessments (§ 8a SGB VIII)"),
    "hours": gettext_lazy("Hours of help delivered"),
    "group_sessions": gettext_lazy("Group offers attended"),
    "audit": gettext_lazy("Who accessed the data (audit log)"),
}


def _notes() -> list[str]:
    return [
        _(
            "Data about other members of the household (names, dates of birth, their own "
            "helps) is data of third parties and not part of this export."
        ),
        _(
            "Journal entries that were entrusted to a professional in confidence "
            "(§ 65 SGB VIII) are not part of this export."
        ),
        _(
            "Child-protection assessments (§ 8a SGB VIII) are given without the person who "
            "reported the concern and without the content of their report, to protect "
            "third parties (§ 83 (4) SGB X)."
        ),
        _("Help plans are given without the list of participants of the plan meeting."),
        _(
            "Professionals of the providers are not named; their organisation is named, as "
            "the recipient of the data. Staff of the youth welfare office are named."
        ),
        _(
            "Helps for the whole household (without a named young person) are included; "
            "helps for other members of the household are not."
        ),
        _(
            "Free texts (journal, assessment, agreed steps) are given as recorded. The data "
            "protection officer checks them for mentions of third parties before handing "
            "the export out."
        ),
    ]


def _date(value: datetime.date | None) -> str | None:
    return value.isoformat() if value else None


def _datetime(value: datetime.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def _amount(value: Decimal | None) -> str | None:
    return str(value) if value is not None else None


def staff_label(user) -> str:
    """Office staff by name; provider professionals by their organisation only."""
    if user is None:
        return ""
    if user.is_provider:
        organisation = user.provider.name if user.provider_id else ""
        return f"{user.get_role_display()} ({organisation})" if organisation else ""
    return str(user)


def _person(person: Person) -> dict:
    return {
        "id": person.pk,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "birth_date": _date(person.birth_date),
        "gender": person.get_gender_display() if person.gender else "",
        "role_in_family": person.get_role_display(),
    }


def _family(person: Person) -> dict:
    family = person.family
    return {
        "name": family.name,
        "street": family.street,
        "postal_code": family.postal_code,
        "city": family.city,
        "phone": family.phone,
        "region": family.region.name,
    }


def _case(case: Case) -> dict:
    return {
        "reference": case.reference,
        "status": case.get_status_display(),
        "opened_on": _date(case.opened_on),
        "closed_on": _date(case.closed_on),
        "closing_reason": case.get_closing_reason_display() if case.closing_reason else "",
        "closing_note": case.closing_note,
        "owner": staff_label(case.owner),
        "team": case.team.name,
    }


def _approval(approval: HelpApproval) -> dict:
    return {
        "kind": approval.get_kind_display(),
        "requested_at": _datetime(approval.requested_at),
        "proposed_hours_per_month": _amount(approval.proposed_hours_per_month),
        "reason": approval.reason,
        "decision": approval.get_decision_display(),
        "decided_at": _datetime(approval.decided_at),
        "comment": approval.comment,
    }


def _help(help: Help) -> dict:
    consultation = help.team_consultation
    return {
        "id": help.pk,
        "case": help.case.reference,
        "for": "person" if help.recipient_id else "household",
        "legal_basis": help.legal_basis,
        "legal_basis_label": help.get_legal_basis_display(),
        "setting": help.get_setting_display(),
        "provider": help.provider.name,
        "start": _date(help.start),
        "planned_end": _date(help.planned_end),
        "end": _date(help.end),
        "end_reason": help.get_end_reason_display() if help.end_reason else "",
        "approved_hours_per_month": _amount(help.planned_hours_per_month),
        "daily_rate": _amount(help.daily_rate),
        "approval": help.get_status_display(),
        "approvals": [_approval(a) for a in help.approvals.all()],
        "team_consultation": {
            "held_on": _date(consultation.held_on),
            "options_considered": consultation.options_considered,
            "decision": consultation.decision,
            "reasons": consultation.reasons,
        }
        if consultation
        else None,
    }


def _rating(rating: GoalRating) -> dict:
    return {
        "occasion": rating.get_occasion_display(),
        "rated_on": _date(rating.rated_on),
        "professional": rating.professional,
        "own": rating.own,
    }


def _goal(goal: HelpPlanGoal) -> dict:
    return {
        "position": goal.position,
        "description": goal.description,
        "status": goal.get_status_display(),
        "ratings": [_rating(r) for r in goal.ratings.all()],
    }


def _plan(plan: HelpPlan) -> dict:
    return {
        "help": plan.help_id,
        "version": plan.version,
        "is_current": plan.is_current,
        "meeting_date": _date(plan.meeting_date),
        "young_person_present": plan.young_person_present,
        "parents_present": plan.parents_present,
        "agreed_steps": plan.agreed_steps,
        "next_review_due": _date(plan.next_review_due),
        "written_by": staff_label(plan.created_by),
        "goals": [_goal(g) for g in plan.goals.all()],
    }


def _note(note: CaseNote) -> dict:
    return {
        "case": note.case.reference,
        "written_at": _datetime(note.created_at),
        "kind": note.get_kind_display(),
        "author": staff_label(note.author),
        "text": note.text,
    }


def _assessment(assessment: RiskAssessment) -> dict:
    # report_source and report_summary are left out on purpose (third parties).
    return {
        "case": assessment.case.reference,
        "report_received_on": _date(assessment.report_received_on),
        "first_assessment_on": _date(assessment.first_assessment_on),
        "first_assessor": staff_label(assessment.first_assessor),
        "second_assessor": staff_label(assessment.second_assessor),
        "risk_level": assessment.get_risk_level_display(),
        "assessment": assessment.assessment,
        "protection_plan": assessment.protection_plan,
        "next_follow_up_on": _date(assessment.next_follow_up_on),
        "status": assessment.get_status_display(),
    }


def _hour(entry: HourEntry) -> dict:
    return {
        "help": entry.help_id,
        "date": _date(entry.date),
        "minutes": entry.minutes,
        "activity": entry.get_activity_display(),
        "provider": entry.provider.name,
        "note": entry.note,
        "is_correction": entry.is_correction,
    }


def _group_session(session: GroupSession) -> dict:
    return {
        "offer": session.offer.topic,
        "provider": session.offer.provider.name,
        "date": _date(session.date),
        "duration_minutes": session.duration_minutes,
    }


def _record_label(entry: AuditEntry) -> str:
    try:
        name = apps.get_model(entry.object_type)._meta.verbose_name
    except (LookupError, ValueError):
        name = entry.object_type
    return f"{name} {entry.object_id}".strip()


def _audit(entry: AuditEntry) -> dict:
    return {
        "at": _datetime(entry.at),
        "user": staff_label(entry.user) if entry.user_id else entry.username,
        "action": entry.get_action_display(),
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "record": _record_label(entry),
    }


def _journal(cases) -> list:
    notes = CaseNote.objects.filter(case__in=cases).select_related("case", "author__provider")
    # Entrusted entries (§ 65 SGB VIII) never leave the journal.
    if hasattr(notes, "not_entrusted"):
        return list(notes.not_entrusted())
    return list(notes.filter(entrusted=False))


def _audit_trail(*, person, cases, helps, plans, notes, assessments, hours) -> list:
    """Audit entries about the person's own records: who read, changed or exported them.

    Entries about entrusted notes are not selected (their existence stays confidential),
    nor entries about other household members.
    """
    about = Q(object_type="cases.person", object_id=str(person.pk)) | Q(
        object_type="cases.family", object_id=str(person.family_id)
    )
    for object_type, objects in (
        ("cases.case", cases),
        ("cases.help", helps),
        ("cases.helpapproval", [a for h in helps for a in h.approvals.all()]),
        ("cases.helpplan", plans),
        ("cases.casenote", notes),
        ("cases.riskassessment", assessments),
        ("providers.hourentry", hours),
    ):
        ids = [str(o.pk) for o in objects]
        if ids:
            about |= Q(object_type=object_type, object_id__in=ids)
    for case in cases:
        # Case lists record which cases they showed.
        about |= Q(object_type="cases.case", changes__shown__contains=[case.pk])
    entries = AuditEntry.objects.filter(about).select_related("user__provider")
    return list(entries.order_by("at", "id"))


def collect_person_data(person: Person) -> dict:
    """All data held about `person`, without third parties' data (see module doc)."""
    person = Person.objects.select_related("family__region").get(pk=person.pk)
    cases = list(
        Case.objects.filter(family=person.family_id)
        .select_related("owner__provider", "team")
        .order_by("opened_on", "id")
    )
    helps = list(
        Help.objects.filter(case__in=cases)
        .filter(Q(recipient=person) | Q(recipient__isnull=True))
        .select_related("case", "provider", "team_consultation")
        .prefetch_related("approvals")
        .order_by("start", "id")
    )
    plans = list(
        HelpPlan.objects.filter(help__in=helps)
        .select_related("created_by__provider")
        .prefetch_related("goals__ratings")
        .order_by("help_id", "version")
    )
    notes = _journal(cases)
    assessments = list(
        RiskAssessment.objects.filter(case__in=cases)
        .select_related("case", "first_assessor__provider", "second_assessor__provider")
        .order_by("report_received_on", "id")
    )
    hours = list(
        HourEntry.objects.filter(help__in=helps)
        .select_related("provider")
        .order_by("date", "start_time", "id")
    )
    sessions = list(
        GroupSession.objects.filter(registered_participants=person)
        .select_related("offer__provider")
        .order_by("date", "id")
    )
    audit = _audit_trail(
        person=person,
        cases=cases,
        helps=helps,
        plans=plans,
        notes=notes,
        assessments=assessments,
        hours=hours,
    )
    plan_data = [_plan(p) for p in plans]
    return {
        "format": FORMAT,
        "generated_at": _datetime(timezone.now()),
        "legal_basis": "Art. 15 DSGVO, § 83 SGB X",
        "person": _person(person),
        "family": _family(person),
        "cases": [_case(c) for c in cases],
        "helps": [_help(h) for h in helps],
        "help_plans": plan_data,
        "goal_ratings": [
            {"help": plan["help"], "version": plan["version"], "goal": goal["description"], **r}
            for plan in plan_data
            for goal in plan["goals"]
            for r in goal["ratings"]
        ],
        "journal": sorted((_note(n) for n in notes), key=lambda n: n["written_at"]),
        "risk_assessments": [_assessment(a) for a in assessments],
        "hours": [_hour(e) for e in hours],
        "group_sessions": [_group_session(s) for s in sessions],
        "audit": [_audit(e) for e in audit],
        "notes": _notes(),
    }


def section_counts(data: dict) -> dict[str, int]:
    """How many records each section holds (the preview before the download)."""
    return {name: 1 if isinstance(data[name], dict) else len(data[name]) for name in SECTIONS}


def as_json(data: dict) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True).encode()


def find_persons(*, name: str = "", birth_date: datetime.date | None = None):
    """Persons whose first or last name contains `name` (and born on `birth_date`)."""
    persons = Person.objects.select_related("family")
    for word in name.split():
        persons = persons.filter(Q(first_name__icontains=word) | Q(last_name__icontains=word))
    if birth_date:
        persons = persons.filter(birth_date=birth_date)
    return persons.order_by("last_name", "first_name", "birth_date", "id")


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_AMOUNT = re.compile(r"^-?\d+\.\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:[+-]\d{2}:\d{2})?$")


def for_print(value):
    """The export with dates written the German way and yes/no in words, for the PDF."""
    if isinstance(value, dict):
        return {key: for_print(item) for key, item in value.items()}
    if isinstance(value, list):
        return [for_print(item) for item in value]
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if value is None:
        return "–"
    if isinstance(value, str) and _ISO_DATETIME.match(value):
        return datetime.datetime.fromisoformat(value).strftime("%d.%m.%Y %H:%M")
    if isinstance(value, str) and _ISO_DATE.match(value):
        return datetime.date.fromisoformat(value).strftime("%d.%m.%Y")
    if isinstance(value, str) and _AMOUNT.match(value):
        return value.replace(".", ",")
    return value
