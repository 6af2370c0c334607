"""§ 36 (2) SGB VIII: a help expected to last longer than six months (or without a
planned end) is chosen by several professionals together. The team consultation is
recorded on the case first, the help names it, and the team lead sees it when
approving.
"""

import datetime
import re
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import escape
from pytest_django.asserts import assertFormError

from cases import services
from cases.models import (
    ApprovalStatus,
    Help,
    HelpApproval,
    LegalBasis,
    Resource,
    ResourceKind,
    Setting,
    TeamConsultation,
)
from tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

NEEDS_CONSULTATION = (
    "A help planned for more than 6 months (or without a planned end) is chosen by several "
    "professionals: record the team consultation first."
)
TWO_BESIDES_OWNER = "At least two professionals besides the case owner take part."
INVALID_CHOICE = "Select a valid choice. That choice is not one of the available choices."


def assert_error_next_to_field(response, field: str, message: str, *, status=200):
    """The form was shown again with `message` in the error box of `field`."""
    assert response.status_code == status
    assertFormError(response.context["form"], field, message)
    box = re.search(
        rf'<div id="id_{field}_error" class="invalid-feedback">(.*?)</div>',
        response.content.decode(),
        re.S,
    )
    assert box is not None, f"no error box under id_{field}"
    assert escape(message) in box.group(1)


def saved() -> dict[str, int]:
    return {
        model.__name__: model.objects.count() for model in (Help, HelpApproval, TeamConsultation)
    }


def help_data(provider, *, months: int | None, **overrides) -> dict:
    """The help form as the page sends it; `months` None leaves the planned end empty."""
    start = f.today()
    planned_end = start + relativedelta(months=months) if months is not None else None
    data = {
        "legal_basis": LegalBasis.FAMILY_SUPPORT,
        "setting": "",
        "provider": provider.pk,
        "responsible_staff": "",
        "start": start.isoformat(),
        "planned_end": planned_end.isoformat() if planned_end else "",
        "planned_hours_per_month": "10",
        "daily_rate": "",
        "reason": "Die Mutter ist mit drei Kindern im Alltag überfordert.",
    }
    return {**data, **overrides}


def consultation_data(*participants, **overrides) -> dict:
    data = {
        "held_on": f.today().isoformat(),
        "participants": [p.pk for p in participants],
        "options_considered": "SPFH ambulant; Tagesgruppe; Heimerziehung",
        "decision": "SPFH für zwölf Monate, 10 Stunden im Monat",
        "reasons": "Die Mutter ist kooperativ; die Kinder sollen in der Familie bleiben.",
    }
    return {**data, **overrides}


def new_help(case, provider, *, months: int | None, consultation=None) -> Help:
    start = f.today()
    return Help(
        case=case,
        provider=provider,
        legal_basis=LegalBasis.FAMILY_SUPPORT,
        setting=Setting.AMBULANT,
        start=start,
        planned_end=start + relativedelta(months=months) if months is not None else None,
        planned_hours_per_month=Decimal("10"),
        team_consultation=consultation,
    )


@pytest.fixture
def owner_client(client, asd):
    client.force_login(asd)
    return client


@pytest.fixture
def consultation(case, asd, asd_colleague, asdlead, fachkraft):
    return services.record_team_consultation(
        case=case,
        held_on=f.today(),
        participants=[asd_colleague, asdlead, fachkraft],
        options_considered="SPFH ambulant; Tagesgruppe",
        decision="SPFH für neun Monate",
        reasons="Die Familie möchte zusammenbleiben.",
        by=asd,
    )


@pytest.fixture
def other_case_consultation(asd, asd_colleague, asdlead):
    other_case = f.make_case(asd, family_name="Becker")
    return services.record_team_consultation(
        case=other_case,
        held_on=f.today(),
        participants=[asd_colleague, asdlead],
        options_considered="Erziehungsbeistand",
        decision="Erziehungsbeistand",
        reasons="Schulprobleme",
        by=asd,
    )


@pytest.fixture
def jugendtreff(region):
    return Resource.objects.create(
        region=region, organisation="Jugendtreff Weidenau", kind=ResourceKind.YOUTH_CLUB
    )


@pytest.fixture
def schulsozialarbeit(region):
    return Resource.objects.create(
        region=region,
        organisation="Schulsozialarbeit Gesamtschule Weidenau",
        kind=ResourceKind.SCHOOL_SOCIAL_WORK,
    )


# --- When a team consultation is needed ---------------------------------------------


def test_help_planned_for_nine_months_cannot_be_submitted_without_a_consultation(
    owner_client, case, provider
):
    before = saved()

    response = owner_client.post(
        reverse("cases:help_add", args=[case.pk]), help_data(provider, months=9)
    )

    assert_error_next_to_field(response, "team_consultation", NEEDS_CONSULTATION)
    assert saved() == before


def test_help_planned_for_three_months_is_submitted_without_a_consultation(
    owner_client, case, provider
):
    response = owner_client.post(
        reverse("cases:help_add", args=[case.pk]), help_data(provider, months=3)
    )

    assert response.status_code == 302
    help = case.helps.get(status=ApprovalStatus.REQUESTED)
    assert help.team_consultation is None
    assert help.approvals.get().decision == ApprovalStatus.REQUESTED


def test_help_without_planned_end_needs_a_consultation(owner_client, case, provider):
    before = saved()

    response = owner_client.post(
        reverse("cases:help_add", args=[case.pk]), help_data(provider, months=None)
    )

    assert_error_next_to_field(response, "team_consultation", NEEDS_CONSULTATION)
    assert saved() == before


@pytest.mark.parametrize(
    ("planned_end", "needed"),
    [
        (relativedelta(months=6), False),
        (relativedelta(months=6, days=1), True),
        (None, True),
    ],
    ids=["exactly-six-months", "one-day-more", "open-ended"],
)
def test_a_consultation_is_needed_for_more_than_six_months(case, provider, planned_end, needed):
    start = datetime.date(2026, 1, 31)
    help = Help(case=case, start=start, planned_end=start + planned_end if planned_end else None)

    assert services.needs_team_decision(help) is needed


def test_the_limit_follows_the_setting(settings, case, provider):
    settings.KIJUFAZ_TEAM_DECISION_MONTHS = 3

    assert services.needs_team_decision(new_help(case, provider, months=4)) is True
    assert services.needs_team_decision(new_help(case, provider, months=3)) is False


def test_service_refuses_a_long_help_without_a_consultation(case, provider):
    before = saved()

    with pytest.raises(ValidationError) as error:
        services.request_help(help=new_help(case, provider, months=9), by=case.owner)

    assert error.value.message_dict == {"team_consultation": [NEEDS_CONSULTATION]}
    assert saved() == before


# --- Recording the consultation ----------------------------------------------------


def test_consultation_needs_two_professionals_besides_the_owner(owner_client, case, asd_colleague):
    before = saved()

    response = owner_client.post(
        reverse("cases:consultation_add", args=[case.pk]), consultation_data(asd_colleague)
    )

    assert_error_next_to_field(response, "participants", TWO_BESIDES_OWNER, status=400)
    assert saved() == before


def test_the_owner_is_not_offered_as_a_participant(owner_client, case, asd, asd_colleague):
    response = owner_client.get(reverse("cases:consultation_add", args=[case.pk]))

    offered = response.context["form"].fields["participants"].queryset
    assert asd_colleague in offered
    assert asd not in offered


def test_service_does_not_count_the_owner_among_the_participants(case, asd, asd_colleague, asdlead):
    before = saved()

    with pytest.raises(ValidationError) as error:
        services.record_team_consultation(
            case=case,
            held_on=f.today(),
            participants=[asd, asd_colleague],
            options_considered="SPFH; Tagesgruppe",
            decision="SPFH",
            reasons="Kooperative Familie",
            by=asd,
        )

    assert error.value.message_dict == {"participants": [TWO_BESIDES_OWNER]}
    assert saved() == before


def test_consultation_is_recorded_with_its_participants(
    owner_client, case, asd_colleague, traegerleitung
):
    response = owner_client.post(
        reverse("cases:consultation_add", args=[case.pk]),
        consultation_data(asd_colleague, traegerleitung),
    )

    assert response.status_code == 302
    consultation = case.consultations.get()
    assert set(consultation.participants.all()) == {asd_colleague, traegerleitung}
    assert consultation.created_by == case.owner


# --- A consultation belongs to its case ------------------------------------------------


def test_help_form_refuses_the_consultation_of_another_case(
    owner_client, case, provider, other_case_consultation
):
    before = saved()

    response = owner_client.post(
        reverse("cases:help_add", args=[case.pk]),
        help_data(provider, months=9, team_consultation=other_case_consultation.pk),
    )

    # Besides "record the team consultation first": the other case's one does not count.
    assert response.status_code == 200
    assert INVALID_CHOICE in response.context["form"].errors["team_consultation"]
    assert escape(INVALID_CHOICE) in response.content.decode()
    assert saved() == before


@pytest.mark.parametrize("months", [9, 3], ids=["long-help", "short-help"])
def test_service_refuses_the_consultation_of_another_case(
    case, provider, other_case_consultation, months
):
    before = saved()
    help = new_help(case, provider, months=months, consultation=other_case_consultation)

    with pytest.raises(ValidationError) as error:
        services.request_help(help=help, by=case.owner)

    assert error.value.message_dict == {
        "team_consultation": ["The consultation belongs to another case."]
    }
    assert saved() == before


# --- The long help, decided together ------------------------------------------------


def test_after_the_consultation_the_long_help_is_submitted_with_two_resources(
    owner_client, case, provider, asd_colleague, asdlead, jugendtreff, schulsozialarbeit
):
    recorded = owner_client.post(
        reverse("cases:consultation_add", args=[case.pk]),
        consultation_data(asd_colleague, asdlead),
    )
    assert recorded.status_code == 302
    consultation = case.consultations.get()

    response = owner_client.post(
        reverse("cases:help_add", args=[case.pk]),
        help_data(
            provider,
            months=9,
            team_consultation=consultation.pk,
            resources=[jugendtreff.pk, schulsozialarbeit.pk],
        ),
    )

    assert response.status_code == 302
    help = case.helps.get(status=ApprovalStatus.REQUESTED)
    assert help.team_consultation == consultation
    assert set(help.resources.all()) == {jugendtreff, schulsozialarbeit}
    assert help.approvals.get().is_pending


def test_resources_of_another_region_cannot_be_named(
    owner_client, case, provider, consultation, other_region
):
    elsewhere = Resource.objects.create(
        region=other_region, organisation="TuS Siegen-Mitte", kind=ResourceKind.SPORTS_CLUB
    )
    before = saved()

    response = owner_client.post(
        reverse("cases:help_add", args=[case.pk]),
        help_data(provider, months=9, team_consultation=consultation.pk, resources=[elsewhere.pk]),
    )

    assert response.status_code == 200
    assertFormError(
        response.context["form"],
        "resources",
        f"Select a valid choice. {elsewhere.pk} is not one of the available choices.",
    )
    assert saved() == before


def test_team_lead_sees_the_consultation_and_the_resources_when_approving(
    client, case, provider, asdlead, consultation, jugendtreff, schulsozialarbeit
):
    help = services.request_help(
        help=new_help(case, provider, months=9, consultation=consultation),
        by=case.owner,
        resources=[jugendtreff, schulsozialarbeit],
    )
    client.force_login(asdlead)

    response = client.get(reverse("cases:approval_decide", args=[help.approvals.get().pk]))

    assert response.status_code == 200
    html = response.content.decode()
    shown = re.search(r'<dd class="col-sm-8 team-consultation">(.*?)</dd>', html, re.S)
    assert shown is not None, "the consultation is not on the approval page"
    for text in (
        "SPFH ambulant; Tagesgruppe",  # options considered
        "SPFH für neun Monate",  # decision
        "Die Familie möchte zusammenbleiben.",  # reasons
        "Ben Weber",  # participants
        "Doris Lange",
        "Eva Fuchs",
    ):
        assert escape(text) in shown.group(1)
    assert escape("Jugendtreff Weidenau") in html
    assert escape("Schulsozialarbeit Gesamtschule Weidenau") in html
