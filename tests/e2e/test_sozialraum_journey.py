"""A team decides on a longer help that draws on the social space, the lead approves it,
the caseworker ends it with goal ratings and the department head sees the effect.

§ 36 (2) SGB VIII: a help planned for longer than six months is chosen by several
professionals together; the resource map (Ressourcenplan) shows which institutions of the
region the running helps involve; the budget dashboard reports goals reached as counts
and shares only, suppressed below KIJUFAZ_SUPPRESSION_THRESHOLD.
"""

from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.conf import settings

from cases import services
from cases.models import (
    GoalRating,
    Help,
    HelpEndReason,
    HelpPlan,
    LegalBasis,
    RatingOccasion,
    Resource,
    ResourceKind,
    TeamConsultation,
)
from tests import factories as f
from tests.budgets.conftest import make_contract

from .helpers import assert_accessible, german, login, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

# Names of the families behind the figures (the `case` fixture's and the set-up's): none
# may reach the dashboard, which is read by roles without case access.
NAMES = ("Yilmaz", "Mehmet", "Zabrowski", "Kunigunde", "Oberhauser", "Leopoldine")

# Goals as (description, (start professional, start own), (end professional, end own)).
JOURNEY_GOALS = [
    ("Mehmet geht jeden Tag zur Schule", (2, 2), (4, 4)),
    ("Feste Abendroutine in der Familie", (1, 2), (5, 3)),
]
ZABROWSKI_GOALS = [
    ("Schule regelmäßig besuchen", (2, 1), (5, 4)),
    ("Freizeit im Stadtteil", (3, 2), (3, 2)),
]
OBERHAUSER_GOALS = [("Tagesstruktur in der Familie", (1, None), (4, None))]

RESOURCES = (
    ("Grundschule Am Wellersberg", ResourceKind.SCHOOL),
    ("Kita Regenbogen", ResourceKind.KINDERGARTEN),
    ("TuS Siegen-Nord", ResourceKind.SPORTS_CLUB),
)


def switch_user(page, live_server, username: str) -> None:
    page.context.clear_cookies()
    login(page, live_server, username)


def decimal_de(value: Decimal) -> str:
    """Decimal('80.0') -> '80,0', as the German locale renders it."""
    return str(value).replace(".", ",")


def share(part: int, whole: int) -> str:
    """A percentage as the dashboard shows it: one decimal, German comma."""
    return decimal_de((Decimal(part) * 100 / whole).quantize(Decimal("0.1"))) + " %"


def end_rated_help(owner, region, provider, *, family_name, first_name, basis, reason, goals):
    """An approved help of another family of the region, planned with start ratings and
    ended today with end ratings, through the same services the forms use.

    `goals` are (description, (start professional, start own), (end professional, end own)).
    """
    today = f.today()
    case = f.make_case(owner, family=f.make_family(region, name=family_name))
    f.make_person(case.family, first_name)
    help = f.make_help(case, provider, legal_basis=basis, start=case.opened_on)
    plan = services.save_help_plan(
        help=help,
        based_on_version=0,
        plan=HelpPlan(
            meeting_date=help.start,
            participants="Mutter, Kind, ASD, Fachkraft",
            agreed_steps="Wöchentliche Termine",
            next_review_due=help.start + relativedelta(months=6),
        ),
        goals=[
            services.GoalInput(description=text, professional=start[0], own=start[1])
            for text, start, __ in goals
        ],
        by=owner,
    )
    services.end_help(
        help=help,
        on=today,
        reason=reason,
        by=owner,
        ratings=[
            (goal.pk, end[0], end[1])
            for goal, (__, __, end) in zip(plan.goals.order_by("position"), goals, strict=True)
        ],
    )
    return help


@pytest.fixture
def resources(case):
    region = case.family.region
    return [
        Resource.objects.create(region=region, organisation=name, kind=kind)
        for name, kind in RESOURCES
    ]


@pytest.fixture
def ended_helps(case, asd_colleague, provider):
    """Two helps of the region ended this year with rated goals: with the journey's help
    the dashboard has three ended helps and five rated goals, enough to show the totals."""
    region = case.family.region
    return [
        end_rated_help(
            asd_colleague,
            region,
            provider,
            family_name="Zabrowski",
            first_name="Kunigunde",
            basis=LegalBasis.EDUCATIONAL_ASSISTANT,
            reason=HelpEndReason.AS_PLANNED,
            goals=ZABROWSKI_GOALS,
        ),
        end_rated_help(
            asd_colleague,
            region,
            provider,
            family_name="Oberhauser",
            first_name="Leopoldine",
            basis=LegalBasis.FAMILY_SUPPORT,
            reason=HelpEndReason.BROKEN_OFF_FAMILY,
            goals=OBERHAUSER_GOALS,
        ),
    ]


@pytest.fixture
def contract(case, provider):
    """This year's contract of the region, so that the region shows on the dashboard."""
    return make_contract(case.family.region, f.today().year, providers=[provider])


def open_case(page, live_server, case) -> None:
    with page.expect_navigation():
        page.click(f"#h-cases ~ table a[href='/cases/{case.pk}/']")
    assert page.url == f"{live_server.url}/cases/{case.pk}/"


def effect_row(page, label: str) -> list[str]:
    """The cells of one row of the dashboard's effectiveness table: this year, last year."""
    row = page.locator("table.effectiveness-table tbody tr").filter(
        has=page.locator("th", has_text=german(label))
    )
    assert row.count() == 1, label
    return [cell.strip() for cell in row.locator("td").all_inner_texts()]


def test_team_decides_a_longer_help_with_resources_and_its_effect_reaches_the_dashboard(
    page,
    live_server,
    browser_errors,
    asd,
    asd_colleague,
    asdlead,
    leitung,
    case,
    provider,
    resources,
    ended_helps,
    contract,
):
    today = f.today()
    school, kita, sports_club = resources

    # --- 2. asd records the team consultation (§ 36 (2)) ----------------------------------
    login(page, live_server, "asd")
    assert_accessible(page)
    open_case(page, live_server, case)
    assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("link", name=german("Team consultation"), exact=True).click()
    assert page.url == f"{live_server.url}/cases/{case.pk}/consultations/new/"
    assert_accessible(page)
    screenshot(page, "sozialraum-consultation")

    decision = "SPFH für neun Monate mit Einbindung von Schule und Kita."
    reasons = (
        "Die Familie braucht Begleitung über das Schuljahr; Ressourcen im Stadtteil vorhanden."
    )
    page.fill("#id_held_on", today.isoformat())
    page.get_by_label(str(asd_colleague), exact=True).check()
    page.get_by_label(str(asdlead), exact=True).check()
    page.fill("#id_options_considered", "Erziehungsbeistand; SPFH; Tagesgruppe")
    page.fill("#id_decision", decision)
    page.fill("#id_reasons", reasons)
    with page.expect_navigation():
        page.click("main form [type=submit]")
    assert page.url == f"{live_server.url}/cases/{case.pk}/"
    assert page.locator(".alert-success").inner_text().strip() == german(
        "The team consultation was recorded."
    )
    consultation = TeamConsultation.objects.get(case=case)
    assert set(consultation.participants.all()) == {asd_colleague, asdlead}
    browser_errors.assert_none()

    # --- 3. asd grants a nine-month help: first without naming the consultation -----------
    with page.expect_navigation():
        page.get_by_role("link", name=german("Grant help"), exact=True).click()
    assert page.url == f"{live_server.url}/cases/{case.pk}/helps/new/"
    assert_accessible(page)
    planned_end = today + relativedelta(months=9)
    page.select_option("#id_legal_basis", LegalBasis.FAMILY_SUPPORT)
    page.select_option("#id_provider", str(provider.pk))
    page.fill("#id_start", today.isoformat())
    page.fill("#id_planned_end", planned_end.isoformat())
    page.fill("#id_planned_hours_per_month", "12")
    page.get_by_label(school.organisation, exact=True).check()
    page.get_by_label(kita.organisation, exact=True).check()
    page.fill("#id_reason", "Beschluss der Fallberatung liegt vor.")
    helps_before = Help.objects.count()
    with page.expect_navigation():
        page.click("main form [type=submit]")
    assert page.url == f"{live_server.url}/cases/{case.pk}/helps/new/"
    error = page.locator("#div_id_team_consultation .invalid-feedback")
    assert error.inner_text().strip() == german(
        "A help planned for more than %(months)s months (or without a planned end) is chosen "
        "by several professionals: record the team consultation first."
    ) % {"months": settings.KIJUFAZ_TEAM_DECISION_MONTHS}
    assert page.get_attribute("#id_team_consultation", "aria-invalid") == "true"
    assert Help.objects.count() == helps_before
    # What she typed is still there; only the consultation is missing.
    assert page.input_value("#id_planned_end") == planned_end.isoformat()
    assert page.get_by_label(kita.organisation, exact=True).is_checked()
    assert_accessible(page)
    screenshot(page, "sozialraum-help-error")

    page.select_option("#id_team_consultation", str(consultation.pk))
    with page.expect_navigation():
        page.click("main form [type=submit]")
    assert page.url == f"{live_server.url}/cases/{case.pk}/"
    assert page.locator(".alert-success").inner_text().strip() == german(
        "The help was recorded and now waits for the team lead's approval."
    )
    help = Help.objects.get(case=case, team_consultation=consultation)
    assert (help.start, help.planned_end, help.planned_hours_per_month) == (
        today,
        planned_end,
        Decimal("12.00"),
    )
    assert set(help.resources.all()) == {school, kita}
    assert_accessible(page)
    browser_errors.assert_none()

    # --- 4. the team lead approves it from her desk ---------------------------------------
    switch_user(page, live_server, "asdlead")
    assert_accessible(page)
    approval = help.approvals.get()
    with page.expect_navigation():
        page.click(
            f"section[aria-labelledby='h-approvals'] a[href='/cases/approvals/{approval.pk}/']"
        )
    shown = page.inner_text(".team-consultation")
    assert decision in shown and reasons in shown
    assert str(asd_colleague) in shown and str(asdlead) in shown
    resources_shown = page.locator("dt", has_text=german("Resources")).locator("+ dd").inner_text()
    assert resources_shown == f"{school.organisation}, {kita.organisation}"
    assert_accessible(page)
    screenshot(page, "sozialraum-approval")
    page.check("input[name=decision][value=approved]")
    with page.expect_navigation():
        page.get_by_role("button", name=german("Save decision")).click()
    assert page.url == f"{live_server.url}/"
    assert page.locator(".alert-success").inner_text().strip() == german("Your decision was saved.")
    approval.refresh_from_db()
    help.refresh_from_db()
    assert (help.is_approved, approval.decided_by) == (True, asdlead)
    browser_errors.assert_none()

    # While the help runs, the resource map counts it for the two resources it uses.
    with page.expect_navigation():
        page.click("nav.navbar >> a[href='/resources/']")
    assert_accessible(page)
    counts = {
        row.locator("td").first.inner_text().strip(): row.locator("td.text-end").inner_text()
        for row in page.locator("tr.resource").all()
    }
    assert counts == {
        school.organisation: "1",
        kita.organisation: "1",
        sports_club.organisation: "0",
    }
    screenshot(page, "sozialraum-resources")
    browser_errors.assert_none()

    # --- 5. asd writes the first help plan, then ends the help with end ratings -------------
    switch_user(page, live_server, "asd")
    open_case(page, live_server, case)
    with page.expect_navigation():
        page.click(f"a[href='/cases/helps/{help.pk}/plans/new/']")
    assert_accessible(page)
    page.fill("#id_meeting_date", today.isoformat())
    page.fill("#id_participants", "Mutter, Mehmet, ASD, Fachkraft")
    page.check("#id_parents_present")
    page.check("#id_young_person_present")
    page.fill("#id_agreed_steps", "Wöchentliche Hausbesuche; Hausaufgabenhilfe in der Schule.")
    for i, (text, (professional, own), __) in enumerate(JOURNEY_GOALS):
        page.fill(f"#id_goals-{i}-description", text)
        page.select_option(f"#id_goals-{i}-professional", str(professional))
        page.select_option(f"#id_goals-{i}-own", str(own))
    with page.expect_navigation():
        page.click("main form [type=submit]")
    assert page.url == f"{live_server.url}/cases/{case.pk}/"
    plan = help.plans.get()
    goals = list(plan.goals.order_by("position"))
    assert [g.description for g in goals] == [text for text, __, __ in JOURNEY_GOALS]
    assert [
        (r.professional, r.own)
        for r in GoalRating.objects.filter(goal__in=goals, occasion=RatingOccasion.START).order_by(
            "goal__position"
        )
    ] == [start for __, start, __ in JOURNEY_GOALS]
    browser_errors.assert_none()

    with page.expect_navigation():
        page.click(f"a[href='/cases/helps/{help.pk}/end/']")
    assert_accessible(page)
    screenshot(page, "sozialraum-end")
    page.fill("#id_end", today.isoformat())
    page.select_option("#id_end_reason", HelpEndReason.AS_PLANNED)
    for i, (__, __, (professional, own)) in enumerate(JOURNEY_GOALS):
        page.select_option(f"#id_ratings-{i}-professional", str(professional))
        page.select_option(f"#id_ratings-{i}-own", str(own))
    with page.expect_navigation():
        page.click("main form [type=submit]")
    assert page.url == f"{live_server.url}/cases/{case.pk}/"
    assert page.locator(".alert-success").inner_text().strip() == german("The help was ended.")
    help.refresh_from_db()
    assert (help.end, help.end_reason) == (today, HelpEndReason.AS_PLANNED)
    browser_errors.assert_none()

    # --- 6. the department head sees the effect, without names -----------------------------
    switch_user(page, live_server, "leitung")
    with page.expect_navigation():
        page.click("nav.navbar >> a[href='/budgets/']")
    assert_accessible(page)
    screenshot(page, "sozialraum-dashboard")
    assert page.locator(f"#h-region-{case.family.region_id}").count() == 1
    assert page.inner_text("#h-effect") == german("Effectiveness")

    # By hand, over the goals of the three helps ended this year (all have an end rating).
    ratings = [
        (start, end) for __, start, end in JOURNEY_GOALS + ZABROWSKI_GOALS + OBERHAUSER_GOALS
    ]
    professional = [(start[0], end[0]) for start, end in ratings]  # 5 goals
    own = [(start[1], end[1]) for start, end in ratings if end[1] is not None]  # 4 goals
    assert (len(professional), len(own)) == (5, 4)

    def reached(pairs):
        return sum(end >= 4 for __, end in pairs)

    def change(pairs):
        mean = Decimal(sum(end - start for start, end in pairs)) / len(pairs)
        return decimal_de(mean.quantize(Decimal("0.1")))

    figures = {
        "Goals reached (professional rating 4 or 5)": share(
            reached(professional), len(professional)
        ),  # 80,0 %
        "Goals reached (own rating 4 or 5)": share(reached(own), len(own)),  # 50,0 %
        "Rating change, professional (mean of end − start)": change(professional),  # 2,4
        "Rating change, own rating (mean of end − start)": change(own),  # 1,5
        "Goals with an end rating": str(len(ratings)),  # 5
        "Helps ended": "3",
        "Ended as planned": share(2, 3),  # 66,7 %: Oberhauser was broken off by the family
    }
    assert {label: effect_row(page, label)[0] for label in figures} == figures

    # Suppression: the only § 30 help is a group of one, so all its figures are hidden.
    basis_30 = page.locator("table.effectiveness-breakdown tbody tr").filter(
        has=page.locator("th", has_text=german(LegalBasis.EDUCATIONAL_ASSISTANT.label))
    )
    assert basis_30.count() == 1
    assert set(basis_30.locator("td").all_inner_texts()) == {"–"}

    html = page.content()
    assert [name for name in NAMES if name in html] == []
    browser_errors.assert_none()
