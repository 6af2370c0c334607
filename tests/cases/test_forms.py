"""Bad input is refused with a clear message next to the field, and nothing is saved.

Plus the valid paths of granting help: request → team lead's approval (four-eyes).
"""

import datetime
import re
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.html import escape
from pytest_django.asserts import assertFormError

from cases import services
from cases.models import (
    ApprovalKind,
    ApprovalStatus,
    Case,
    CaseStatus,
    Family,
    Help,
    HelpApproval,
    Person,
    RiskAssessment,
)
from tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

ONE_DAY = datetime.timedelta(days=1)


def assert_error_next_to_field(response, field: str, message: str, *, form="form", prefix=""):
    """The form was shown again with `message` in the error box of `field`."""
    assert response.status_code == 200
    assertFormError(response.context[form], field, message)
    field_id = f"id_{prefix}-{field}" if prefix else f"id_{field}"
    box = re.search(
        rf'<div id="{field_id}_error" class="invalid-feedback">(.*?)</div>',
        response.content.decode(),
        re.S,
    )
    assert box is not None, f"no error box under {field_id}"
    assert escape(message) in box.group(1)


def assert_message_shown(response, message: str):
    assert response.status_code == 200
    assert message in [str(m) for m in response.context["messages"]]
    assert escape(message) in response.content.decode()


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Family, Person, Case, Help, HelpApproval, RiskAssessment)
    }


def help_data(provider, **overrides) -> dict:
    data = {
        "legal_basis": "31",
        "setting": "",
        "provider": provider.pk,
        "responsible_staff": "",
        "start": f.today().isoformat(),
        # A short help (up to six months) needs no team consultation (§ 36 (2)).
        "planned_end": (f.today() + 90 * ONE_DAY).isoformat(),
        "planned_hours_per_month": "12",
        "daily_rate": "",
        "reason": "Überforderung im Alltag",
    }
    return {**data, **overrides}


@pytest.fixture
def owner_client(client, asd):
    client.force_login(asd)
    return client


# --- Helps ------------------------------------------------------------------------


def test_help_cannot_end_before_it_started(owner_client, running_help):
    before = counts()

    response = owner_client.post(
        reverse("cases:help_end", args=[running_help.pk]),
        {"end": (running_help.start - ONE_DAY).isoformat(), "end_reason": "as_planned"},
    )

    assert_error_next_to_field(response, "end", "A help cannot end before it started.")
    running_help.refresh_from_db()
    assert running_help.end is None
    assert counts() == before


def test_planned_end_cannot_be_before_the_start(owner_client, case, provider):
    before = counts()
    start = f.today()

    response = owner_client.post(
        reverse("cases:help_add", args=[case.pk]),
        help_data(provider, start=start, planned_end=(start - ONE_DAY).isoformat()),
    )

    assert_error_next_to_field(
        response, "planned_end", "The planned end must not be before the start."
    )
    assert counts() == before


def test_help_cannot_start_before_the_case_was_opened(owner_client, case, provider):
    before = counts()

    response = owner_client.post(
        reverse("cases:help_add", args=[case.pk]),
        help_data(provider, start=(case.opened_on - ONE_DAY).isoformat()),
    )

    assert_error_next_to_field(
        response, "start", "The help cannot start before the case was opened."
    )
    assert counts() == before


def test_stationary_help_needs_a_daily_rate(owner_client, case, stationary_provider):
    before = counts()

    response = owner_client.post(
        reverse("cases:help_add", args=[case.pk]),
        help_data(stationary_provider, legal_basis="34", planned_hours_per_month=""),
    )

    assert_error_next_to_field(response, "daily_rate", "A stationary help needs a daily rate.")
    assert counts() == before


def test_ambulant_help_needs_planned_hours(owner_client, case, provider):
    before = counts()

    response = owner_client.post(
        reverse("cases:help_add", args=[case.pk]),
        help_data(provider, legal_basis="31", planned_hours_per_month=""),
    )

    assert_error_next_to_field(
        response, "planned_hours_per_month", "An ambulant help needs planned hours per month."
    )
    assert counts() == before


def test_residential_care_cannot_be_ambulant(owner_client, case, provider):
    before = counts()

    response = owner_client.post(
        reverse("cases:help_add", args=[case.pk]),
        help_data(provider, legal_basis="34", setting="ambulant"),
    )

    assert_error_next_to_field(
        response, "setting", "This setting is not possible for the chosen legal basis."
    )
    assert counts() == before


def test_responsible_professional_must_work_for_the_chosen_provider(
    owner_client, case, provider, fachkraft_other_provider
):
    before = counts()

    response = owner_client.post(
        reverse("cases:help_add", args=[case.pk]),
        help_data(provider, responsible_staff=fachkraft_other_provider.pk),
    )

    assert_error_next_to_field(
        response,
        "responsible_staff",
        "This professional does not work for the chosen provider.",
    )
    assert counts() == before


# --- Families and persons -------------------------------------------------------------


def test_person_cannot_be_born_in_the_future(owner_client, case):
    before = counts()

    response = owner_client.post(
        reverse("cases:person_add", args=[case.family_id]),
        {
            "first_name": "Emre",
            "last_name": "Yilmaz",
            "birth_date": (f.today() + ONE_DAY).isoformat(),
            "role": "child",
            "gender": "",
        },
    )

    assert_error_next_to_field(response, "birth_date", "The date of birth cannot be in the future.")
    assert counts() == before


@pytest.mark.parametrize(
    ("postal_code", "message"),
    [
        ("5707", "A German postal code has exactly five digits."),
        ("57O72", "A German postal code has exactly five digits."),
        ("570720", "Ensure this value has at most 5 characters (it has 6)."),
    ],
)
def test_postal_code_has_five_digits(owner_client, case, postal_code, message):
    family = case.family

    response = owner_client.post(
        reverse("cases:family_edit", args=[family.pk]),
        {
            "name": family.name,
            "street": family.street,
            "postal_code": postal_code,
            "city": family.city,
            "region": family.region_id,
            "phone": "",
        },
    )

    assert_error_next_to_field(response, "postal_code", message)
    family.refresh_from_db()
    assert family.postal_code == "57072"


def test_new_family_with_a_bad_postal_code_is_not_saved(owner_client, region):
    before = counts()

    response = owner_client.post(
        reverse("cases:case_open"),
        {
            "family-name": "Neumann",
            "family-street": "Weidenauer Str. 3",
            "family-postal_code": "5707",
            "family-city": "Siegen",
            "family-region": region.pk,
            "family-phone": "",
            "case-opened_on": f.today().isoformat(),
        },
    )

    assert_error_next_to_field(
        response,
        "postal_code",
        "A German postal code has exactly five digits.",
        form="family_form",
        prefix="family",
    )
    assert counts() == before


def test_family_cannot_get_a_second_open_case(owner_client, case):
    before = counts()

    response = owner_client.post(
        reverse("cases:family_case_open", args=[case.family_id]),
        {"opened_on": f.today().isoformat()},
    )

    assert_message_shown(response, "This family already has an open case.")
    assert counts() == before


# --- § 8a assessments -------------------------------------------------------------------


def risk_data(**overrides) -> dict:
    today = f.today()
    data = {
        "report_received_on": (today - 2 * ONE_DAY).isoformat(),
        "report_source": "Kita",
        "report_summary": "Blaue Flecken am Arm",
        "first_assessment_on": (today - ONE_DAY).isoformat(),
        "first_assessor": "",
        "second_assessor": "",
        "risk_level": "latent",
        "assessment": "Gespräch mit der Mutter geführt",
        "protection_plan": "",
        "next_follow_up_on": "",
        "status": "assessed",
    }
    return {**data, **overrides}


def test_first_assessment_needs_two_different_professionals(owner_client, asd, case):
    before = counts()

    response = owner_client.post(
        reverse("cases:risk_add", args=[case.pk]),
        risk_data(first_assessor=asd.pk, second_assessor=asd.pk),
    )

    assert_error_next_to_field(
        response, "second_assessor", "The second professional must be another person."
    )
    assert counts() == before


def test_assessment_cannot_be_before_the_report(owner_client, asd, asd_colleague, case):
    before = counts()
    today = f.today()

    response = owner_client.post(
        reverse("cases:risk_add", args=[case.pk]),
        risk_data(
            report_received_on=today.isoformat(),
            first_assessment_on=(today - ONE_DAY).isoformat(),
            first_assessor=asd.pk,
            second_assessor=asd_colleague.pk,
        ),
    )

    assert_error_next_to_field(
        response, "first_assessment_on", "The assessment cannot be before the report."
    )
    assert counts() == before


def test_first_assessment_by_two_professionals_is_saved(owner_client, asd, asd_colleague, case):
    """The counterpart of the two refusals above: correct data does go through."""
    response = owner_client.post(
        reverse("cases:risk_add", args=[case.pk]),
        risk_data(first_assessor=asd.pk, second_assessor=asd_colleague.pk),
    )

    assert response.status_code == 302
    saved = case.risk_assessments.get(report_source="Kita")
    assert (saved.first_assessor, saved.second_assessor) == (asd, asd_colleague)


# --- Approvals ------------------------------------------------------------------------


def test_rejecting_a_request_needs_a_comment(client, asdlead, pending_approval):
    client.force_login(asdlead)

    response = client.post(
        reverse("cases:approval_decide", args=[pending_approval.pk]),
        {"decision": "rejected", "comment": "  "},
    )

    assert_error_next_to_field(response, "comment", "Please give a reason for the rejection.")
    pending_approval.refresh_from_db()
    assert pending_approval.is_pending
    assert pending_approval.help.status == ApprovalStatus.REQUESTED


# --- Closing a case -------------------------------------------------------------------


def test_case_with_a_running_help_cannot_be_closed(owner_client, case):
    response = owner_client.post(
        reverse("cases:case_close", args=[case.pk]),
        {"closed_on": f.today().isoformat(), "closing_reason": "no_need", "closing_note": ""},
    )

    assert_message_shown(response, "End all running helps before closing the case.")
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    assert case.closed_on is None


def test_case_cannot_be_closed_while_a_help_runs_past_the_closing_day(
    owner_client, asd, case, running_help
):
    services.end_help(help=running_help, on=f.today() + 10 * ONE_DAY, reason="as_planned", by=asd)

    response = owner_client.post(
        reverse("cases:case_close", args=[case.pk]),
        {"closed_on": f.today().isoformat(), "closing_reason": "no_need", "closing_note": ""},
    )

    assert_message_shown(response, "End all running helps before closing the case.")
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN


def test_case_cannot_be_closed_before_it_was_opened(client, asd):
    case = f.make_case(asd)  # no helps: only the date can be wrong
    client.force_login(asd)

    response = client.post(
        reverse("cases:case_close", args=[case.pk]),
        {
            "closed_on": (case.opened_on - ONE_DAY).isoformat(),
            "closing_reason": "no_need",
            "closing_note": "",
        },
    )

    assert_error_next_to_field(
        response, "closed_on", "A case cannot be closed before it was opened."
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN


# --- Valid paths: granting help with four eyes ------------------------------------------


def test_granting_help_records_a_request_waiting_for_approval(owner_client, asd, case, provider):
    response = owner_client.post(reverse("cases:help_add", args=[case.pk]), help_data(provider))

    assert response.status_code == 302
    help = case.helps.get(legal_basis="31", status=ApprovalStatus.REQUESTED)
    assert help.setting == "ambulant"  # fixed by § 31
    assert help.created_by == asd
    assert not help.is_active
    approval = help.approvals.get()
    assert approval.kind == ApprovalKind.GRANT
    assert approval.is_pending
    assert approval.requested_by == asd
    assert approval.proposed_hours_per_month == Decimal("12")


def test_team_lead_approves_and_the_help_becomes_active(client, asdlead, pending_approval):
    client.force_login(asdlead)

    response = client.post(
        reverse("cases:approval_decide", args=[pending_approval.pk]),
        {"decision": "approved", "comment": ""},
    )

    assert response.status_code == 302
    pending_approval.refresh_from_db()
    assert pending_approval.decision == ApprovalStatus.APPROVED
    assert pending_approval.decided_by == asdlead
    help = Help.objects.get(pk=pending_approval.help_id)
    assert help.status == ApprovalStatus.APPROVED
    assert help.is_active


def test_requester_cannot_approve_her_own_request_even_as_team_lead(
    client, asdlead, case, provider
):
    client.force_login(asdlead)
    client.post(reverse("cases:help_add", args=[case.pk]), help_data(provider))
    approval = HelpApproval.objects.get(requested_by=asdlead)
    url = reverse("cases:approval_decide", args=[approval.pk])

    assert client.get(url).status_code == 403
    assert client.post(url, {"decision": "approved", "comment": ""}).status_code == 403
    with pytest.raises(PermissionDenied):
        services.decide_approval(approval=approval, approve=True, comment="", by=asdlead)

    approval.refresh_from_db()
    assert approval.is_pending
    assert approval.help.status == ApprovalStatus.REQUESTED


def test_new_hours_apply_only_after_approval(client, asd, asdlead, running_help):
    client.force_login(asd)

    client.post(
        reverse("cases:help_hours", args=[running_help.pk]),
        {"proposed_hours_per_month": "30", "reason": "Mehr Bedarf nach Schulwechsel"},
    )

    running_help.refresh_from_db()
    assert running_help.planned_hours_per_month == Decimal("20")
    approval = running_help.approvals.get(kind=ApprovalKind.HOURS_CHANGE)
    assert approval.is_pending

    client.force_login(asdlead)
    client.post(
        reverse("cases:approval_decide", args=[approval.pk]),
        {"decision": "approved", "comment": ""},
    )

    running_help.refresh_from_db()
    assert running_help.planned_hours_per_month == Decimal("30")
