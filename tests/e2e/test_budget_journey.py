"""Controlling proposes an Umschichtung, the department head approves it on the dashboard."""

import datetime
from decimal import Decimal

import pytest

from budgets import services
from budgets.models import Reallocation, ReallocationStatus, SubBudgetKind
from budgets.tasks import compute_dashboard
from cases.models import Region
from tests import factories as f
from tests.budgets.conftest import make_ambulant_help, make_contract, make_placement

from .helpers import assert_accessible, german, login, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

# Names of the people behind the figures: none may reach an aggregate page.
NAMES = ("Yilmaz", "Mehmet", "Zabrowski", "Kunigunde", "Quandtmeyer", "Leopoldine")


def euro(text: str) -> Decimal:
    """'112.500,00 €' -> Decimal('112500.00')."""
    digits = text.replace("€", "").replace("\u00a0", "").strip()
    return Decimal(digits.replace(".", "").replace(",", "."))


def planned_flexible(page, region) -> Decimal:
    row = page.locator(
        f"section[aria-labelledby='h-region-{region.pk}'] table.budget-table tr"
    ).filter(has=page.locator("th", has_text=german(SubBudgetKind.FLEXIBLE.label)))
    return euro(row.locator("td").first.inner_text())


def assert_no_names(page) -> None:
    html = page.content()
    assert not [name for name in NAMES if name in html]


@pytest.fixture
def contract(region, provider, stationary_provider, asd, controlling, case):
    """This year's contract of the region: plan, one posting, a placement, ambulant helps."""
    year = f.today().year
    contract = make_contract(
        region,
        year,
        flexible=Decimal("100000.00"),
        stationary=Decimal("80000.00"),
        providers=[provider],
    )
    placement = make_placement(
        asd,
        region,
        stationary_provider,
        start=datetime.date(year, 1, 1),
        rate=Decimal("150.00"),
        family_name="Zabrowski",
    )
    f.make_person(placement.case.family, "Kunigunde")
    other = make_ambulant_help(
        asd, region, provider, start=datetime.date(year, 1, 1), family_name="Quandtmeyer"
    )
    f.make_person(other.case.family, "Leopoldine")
    services.book_posting(
        contract=contract,
        booked_on=datetime.date(year, 1, 31),
        amount=Decimal("8000.00"),
        category="personnel",
        text="Gehälter Januar",
        by=controlling,
    )
    return contract


def test_controller_proposes_and_department_head_approves_a_reallocation(
    page, live_server, browser_errors, controlling, leitung, region, contract
):
    # --- controlling proposes stationary -> flexible ------------------------------------------
    login(page, live_server, "controlling")
    with page.expect_navigation():
        page.click("nav.navbar >> a[href='/budgets/']")
    assert_accessible(page)
    assert_no_names(page)
    # Years are not numbers to group: "2026", not "2.026", in the heading and the links.
    year = contract.year
    assert page.inner_text("main h1") == german("Budgets %(y)s") % {"y": year}
    assert (
        page.get_by_role("link", name=str(year - 1))
        .get_attribute("href")
        .startswith(f"?year={year - 1}&")
    )
    with page.expect_navigation():
        page.click(f"a[href='/budgets/{contract.pk}/']")
    assert_accessible(page)
    with page.expect_navigation():
        page.click(f"a[href='/budgets/{contract.pk}/reallocations/new/']")
    assert_accessible(page)

    reason = "Rückführung zweier Kinder in die Region: stationäre Plätze werden frei."
    page.select_option("#id_direction", "to_flexible")
    page.fill("#id_amount", "12.500,00")
    page.fill("#id_reason", reason)
    with page.expect_navigation():
        page.get_by_role("button", name=german("Propose")).click()
    assert page.url == f"{live_server.url}/budgets/{contract.pk}/"
    assert page.locator(".alert-success").inner_text().strip() == german(
        "The reallocation was proposed; the department head decides on it."
    )
    proposal = Reallocation.objects.get(contract=contract)
    assert (proposal.direction, proposal.amount, proposal.status) == (
        "to_flexible",
        Decimal("12500.00"),
        ReallocationStatus.PROPOSED,
    )
    assert reason in page.inner_text(".reallocation")
    screenshot(page, "budget-proposed")
    browser_errors.assert_none()

    # --- leitung approves it from the dashboard ------------------------------------------------
    page.context.clear_cookies()
    login(page, live_server, "leitung")
    with page.expect_navigation():
        page.click("nav.navbar >> a[href='/budgets/']")
    before = planned_flexible(page, region)
    assert before == Decimal("100000.00")
    pending = page.locator("section[aria-labelledby='h-pending'] li")
    assert pending.count() == 1
    assert "12.500,00" in pending.inner_text()
    assert_accessible(page)
    assert_no_names(page)
    # The region's two charts are images of their own, loaded and drawn by the browser.
    charts = page.locator(f"section[aria-labelledby='h-region-{region.pk}'] figure img")
    assert charts.count() == 2
    for chart in charts.all():
        chart.scroll_into_view_if_needed()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=chart.element_handle()
        )
    screenshot(page, "budget-pending")

    with page.expect_navigation():
        pending.locator(f"a[href='/budgets/reallocations/{proposal.pk}/decide/']").click()
    assert reason in page.inner_text("main")
    assert_accessible(page)
    page.check("input[name=decision][value=approve]")
    page.fill("#id_comment", "Einverstanden.")
    with page.expect_navigation():
        page.get_by_role("button", name=german("Save decision")).click()

    assert page.url == f"{live_server.url}/budgets/"
    assert page.locator(".alert-success").inner_text().strip() == german("Your decision was saved.")
    assert page.locator("#h-pending").count() == 0
    assert planned_flexible(page, region) == before + Decimal("12500.00")
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by) == (ReallocationStatus.APPROVED, leitung)
    assert_accessible(page)
    assert_no_names(page)
    screenshot(page, "budget-approved")
    browser_errors.assert_none()


def test_the_dashboard_never_waits_for_its_figures_and_takes_them_up_by_itself(
    page, live_server, browser_errors, broker_url, leitung, controlling, region, contract
):
    """With a worker (here: the test, running the queued task), the page does not wait:
    at first it says the figures are being computed, after a change it shows the last."""
    login(page, live_server, "leitung")
    with page.expect_navigation():
        page.click("nav.navbar >> a[href='/budgets/']")
    computing = page.get_by_role("status").filter(
        has_text=german("The figures are being computed and will appear here by themselves.")
    )
    assert computing.count() == 1
    assert_accessible(page)
    screenshot(page, "budget-computing")

    # What the worker does with the queued message; the page asks again by itself.
    regions = list(Region.objects.values_list("pk", flat=True))
    compute_dashboard(contract.year, regions, str(f.today()))
    computing.wait_for(state="detached", timeout=10_000)
    section = page.locator(f"section[aria-labelledby='h-region-{region.pk}']")
    assert "8.000,00" in section.inner_text()
    status = page.get_by_role("status").filter(has_text=german_refreshing())
    assert status.count() == 0

    services.book_posting(
        contract=contract,
        booked_on=datetime.date(contract.year, 2, 28),
        amount=Decimal("1234.00"),
        category="personnel",
        text="Gehälter Februar",
        by=controlling,
    )
    page.reload()
    assert status.count() == 1
    assert "9.234,00" not in section.inner_text()
    assert_accessible(page)
    screenshot(page, "budget-refreshing")

    # What the worker does with the queued message.
    compute_dashboard(contract.year, regions, str(f.today()))

    # The page asks again every two seconds and takes the new figures in place.
    status.wait_for(state="detached", timeout=10_000)
    assert "9.234,00" in section.inner_text()
    assert_accessible(page)
    browser_errors.assert_none()


def german_refreshing() -> str:
    return (
        german(
            "The data has changed since these figures were computed (%(at)s). The current "
            "figures are being computed and will appear here by themselves."
        )
        .split("(")[0]
        .strip()
    )
