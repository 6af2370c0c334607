import pytest

from cases.models import CaseNote
from tests import factories as f

from .helpers import assert_accessible, german, login, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def assert_styled_by_bootstrap(page) -> None:
    # Bootstrap makes the navbar a flex container; unstyled it would be a block.
    assert page.evaluate("getComputedStyle(document.querySelector('.navbar')).display") == "flex"


def test_caseworker_opens_her_case_and_writes_in_the_journal(
    page, live_server, browser_errors, asd, case
):
    page.goto(f"{live_server.url}/accounts/login/")
    assert_styled_by_bootstrap(page)
    assert_accessible(page)

    login(page, live_server, "asd")
    assert page.url == f"{live_server.url}/"
    assert_accessible(page)
    screenshot(page, "desk")

    with page.expect_navigation():
        page.click("#h-cases ~ table >> text=" + case.reference)
    assert page.url == f"{live_server.url}/cases/{case.pk}/"

    with page.expect_navigation():
        page.click("nav.navbar >> a[href='/cases/']")
    assert_accessible(page)
    with page.expect_navigation():
        page.click(f"main table a[href='/cases/{case.pk}/']")
    assert_accessible(page)
    screenshot(page, "case")

    text = "Telefonat mit der Schule: Mehmet war die ganze Woche da."
    page.fill("#id_text", text)
    with page.expect_navigation():
        page.click("#journal form [type=submit]")
    assert page.url.endswith(f"/cases/{case.pk}/#journal")
    entries = page.locator("#journal .journal-text")
    assert entries.first.inner_text() == text
    assert entries.nth(1).inner_text() == "Hausbesuch, Familie angetroffen."
    assert CaseNote.objects.filter(case=case, author=asd, text=text).exists()
    assert_accessible(page)

    browser_errors.assert_none()


def test_login_form_works_with_the_keyboard_alone(page, live_server, browser_errors, asd):
    page.goto(f"{live_server.url}/accounts/login/")
    focused = "document.activeElement.id"
    assert page.evaluate(focused) == "id_username"  # autofocus

    # From the first tab stop of the page (the skip link) Tab reaches the form in order.
    page.focus(".skip-link")
    order = []
    for __ in range(6):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('main form [type=submit]')"):
            order.append("submit")
            break
        order.append(page.evaluate(focused))
    assert order[-3:] == ["id_username", "id_password", "submit"], order

    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate(focused) == "id_username"
    page.keyboard.type("asd")
    page.keyboard.press("Tab")
    assert page.evaluate(focused) == "id_password"
    page.keyboard.type("demo")
    page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == f"{live_server.url}/"

    # The focus stays visible on the dark navbar (WCAG 2.4.7).
    page.focus(".skip-link")
    page.keyboard.press("Tab")
    outline = page.evaluate(
        "(s => `${s.outlineStyle} ${s.outlineColor}`)(getComputedStyle(document.activeElement))"
    )
    assert outline == "solid rgb(255, 255, 255)"
    browser_errors.assert_none()


def test_provider_staff_sees_neither_journal_nor_risk_and_no_other_case(
    page, live_server, browser_errors, fachkraft, case, asd_other_team, other_provider
):
    fixture_note = case.notes.get().text
    foreign_case = f.make_case(asd_other_team, family_name="Becker")
    f.make_help(foreign_case, other_provider)

    login(page, live_server, "fachkraft")
    with page.expect_navigation():
        page.click(f"main table a[href='/cases/{case.pk}/']")
    assert case.reference in page.inner_text("main h1")
    assert page.locator("#h-helps").is_visible()
    assert page.locator("#journal").count() == 0
    assert page.locator("#risk").count() == 0
    assert fixture_note not in page.content()
    assert_accessible(page)
    browser_errors.assert_none()

    response = page.goto(f"{live_server.url}/cases/{foreign_case.pk}/")
    assert response.status == 404
    assert page.inner_text("main h1") == german("Page not found")
    assert german("This page does not exist, or you have no access to it.") in (
        page.inner_text("main")
    )
    assert "Becker" not in page.content()
