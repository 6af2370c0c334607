"""A professional logs a week of hours, her team lead approves the month, the ASD sees them."""

import datetime

import pytest

from providers.models import MAX_MINUTES, MIN_MINUTES, HourEntry
from tests import factories as f

from .helpers import assert_accessible, german, login, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def days_of_this_week_and_month(today: datetime.date) -> list[datetime.date]:
    """Three days up to today, inside both today's ISO week and month (repeated if too few).

    The hour sheet shows one week and its month total; early in a week or a month the
    journey logs on fewer distinct days rather than moving the server's clock.
    """
    first = max(today - datetime.timedelta(days=today.weekday()), today.replace(day=1))
    return [max(first, today - datetime.timedelta(days=n)) for n in (2, 1, 0)]


def log_entry(page, *, date, minutes, kind, activity, help=None, note=""):
    page.fill("#id_date", date.isoformat())
    page.fill("#id_minutes", str(minutes))
    page.select_option("#id_kind", kind)
    if help is not None:
        page.select_option("#id_help", str(help.pk))
    page.select_option("#id_activity", activity)
    page.fill("#id_note", note)
    with page.expect_navigation() as navigation:
        page.click("#hour-entry-form [type=submit]")
    return navigation.value


def switch_user(page, live_server, username):
    page.context.clear_cookies()
    login(page, live_server, username)


def assert_only_bad_request_logged(browser_errors) -> None:
    # Chromium logs the 400 answer to an invalid form as a console error; anything else
    # (a CSP violation, a script error) still fails the test.
    unexpected = [m for m in browser_errors.messages if "status of 400" not in m]
    assert not unexpected, unexpected
    browser_errors.clear()


def test_professional_logs_a_week_lead_approves_and_asd_sees_the_hours(
    page, live_server, browser_errors, fachkraft, traegerleitung, asd, case
):
    help = case.helps.get()
    today = f.today()
    day_case, day_team, day_network = days_of_this_week_and_month(today)

    # --- fachkraft logs her week -----------------------------------------------------
    login(page, live_server, "fachkraft")
    with page.expect_navigation():
        page.click("nav.navbar >> a[href='/providers/hours/']")
    assert_accessible(page)

    log_entry(
        page,
        date=day_case,
        minutes=90,
        kind="case_specific",
        help=help,
        activity="direct_work",
        note="Hausbesuch mit Mehmet",
    )
    assert page.locator(".alert-success").inner_text().strip() == german("The entry was saved.")
    log_entry(page, date=day_team, minutes=60, kind="cross_case", activity="team_meeting")
    log_entry(page, date=day_network, minutes=45, kind="case_unspecific", activity="networking")
    assert HourEntry.objects.filter(staff=fachkraft).count() == 3

    # An entry over the 600 minutes one entry may have is refused, and nothing is saved.
    response = log_entry(page, date=today, minutes=700, kind="cross_case", activity="other")
    assert response.status == 400
    assert_only_bad_request_logged(browser_errors)
    # The message sits under the field and is announced with it (aria-describedby).
    assert "id_minutes_error" in page.get_attribute("#id_minutes", "aria-describedby").split()
    assert page.inner_text("#id_minutes_error").strip() == german(
        "The duration must be between %(min)s and %(max)s minutes."
    ) % {"min": MIN_MINUTES, "max": MAX_MINUTES}
    assert page.get_attribute("#id_minutes", "aria-invalid") == "true"
    assert HourEntry.objects.filter(staff=fachkraft).count() == 3
    assert_accessible(page)
    screenshot(page, "hours-rejected")

    with page.expect_navigation():
        page.click("nav.navbar >> a[href='/providers/hours/']")
    day_totals = {}
    for day, minutes in ((day_case, 90), (day_team, 60), (day_network, 45)):
        day_totals[day] = day_totals.get(day, 0) + minutes
    shown = page.locator("#h-week ~ table tr.table-light td strong").all_inner_texts()
    assert shown == [str(m) for __, m in sorted(day_totals.items())]
    assert page.inner_text("#week-total") == "195"
    assert page.inner_text("#month-total") == "195"
    assert page.locator("tr.hour-entry").count() == 3
    assert page.locator("tr.hour-entry >> text=" + german("edit")).count() == 3
    assert_accessible(page)
    screenshot(page, "hours-week")
    browser_errors.assert_none()

    # --- traegerleitung approves the month -----------------------------------------------
    switch_user(page, live_server, "traegerleitung")
    with page.expect_navigation():
        page.click("nav.navbar >> a[href='/providers/']")
    assert_accessible(page)
    row = page.locator("#h-staff ~ div table tbody tr", has_text="Eva Fuchs")
    assert row.locator("td strong").inner_text() == "195"
    with page.expect_navigation():
        row.locator("a", has_text=german("review")).click()
    assert page.url.endswith(f"/providers/approvals/{fachkraft.pk}/{today:%Y}-{today.month}/")
    assert page.locator("tbody tr").count() == 3
    assert page.locator("tfoot strong").inner_text() == "195"
    assert_accessible(page)
    screenshot(page, "hours-review")
    with page.expect_navigation():
        page.get_by_role("button", name=german("Approve month")).click()
    assert page.locator(".alert-success").inner_text().strip() == german(
        "The month was approved; its entries are locked."
    )
    row = page.locator("#h-staff ~ div table tbody tr", has_text="Eva Fuchs")
    assert row.locator(".badge").inner_text() == german("approved")
    assert_accessible(page)
    browser_errors.assert_none()

    # --- fachkraft sees her entries locked ------------------------------------------------
    switch_user(page, live_server, "fachkraft")
    with page.expect_navigation():
        page.click("nav.navbar >> a[href='/providers/hours/']")
    entries = page.locator("tr.hour-entry")
    assert entries.count() == 3
    for i in range(3):
        entry = entries.nth(i)
        assert entry.locator(".badge").inner_text().strip() == german("approved")
        assert entry.locator("a", has_text=german("edit")).count() == 0
        assert (
            entry.locator("a", has_text=german("correct"))
            .get_attribute("href")
            .endswith("/correct/")
        )
    assert_accessible(page)
    screenshot(page, "hours-locked")
    browser_errors.assert_none()

    # --- asd sees the delivered hours on the help ------------------------------------------
    switch_user(page, live_server, "asd")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    article = page.locator(f"article[aria-labelledby='help-{help.pk}']")
    # Say what the page showed if the help is missing (seen once under a loaded CI run).
    assert article.count() == 1, (
        page.url,
        page.locator("article").evaluate_all("els => els.map(e => e.outerHTML.slice(0, 300))"),
        page.inner_text("section[aria-labelledby='h-helps']")[:1500],
        list(case.helps.values_list("pk", "status", "start", "end")),
    )
    assert article.locator(".delivered-month").inner_text() == "1,50 h"  # 90 minutes
    assert_accessible(page)
    browser_errors.assert_none()
