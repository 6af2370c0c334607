"""No typed text is lost: a journal note outlives the idle timeout and a new sign-in.

The live server runs with an idle timeout of a few seconds (the settings fixture
changes it for the server thread too); the browser waits for the real clock.
"""

import re

import pytest
from django.utils import translation
from django.utils.translation import ngettext
from playwright.sync_api import expect

from cases.models import CaseNote
from core.models import AuditAction, AuditEntry, Draft

from .helpers import assert_accessible, german, login, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

IDLE = 12
WARNING = 7
NOTE = (
    "Hausbesuch bei Familie Yılmaz am Vormittag.\n"
    "Mehmet (9) öffnet die Tür, die Mutter kommt später dazu; sie wirkt erschöpft, "
    "berichtet über Schlafprobleme und Streit über die Hausaufgaben.\n\n"
    "Vereinbart: Gespräch mit der Klassenlehrerin – Frau Groß – bis Freitag; "
    "nächster Hausbesuch in 14 Tagen. Anteil der Eltern: 50 %, „gut machbar“."
)


def idle_message(minutes: int) -> str:
    with translation.override("de"):
        return ngettext(
            "You were signed out after %(minutes)d minute without activity. Please sign in again.",
            "You were signed out after %(minutes)d minutes without activity. Please sign in again.",
            minutes,
        ) % {"minutes": minutes}


@pytest.fixture
def short_session(settings):
    settings.KIJUFAZ_IDLE_TIMEOUT = IDLE
    settings.KIJUFAZ_IDLE_WARNING = WARNING


def test_a_journal_note_typed_before_the_timeout_is_restored_after_signing_in_again(
    page, live_server, browser_errors, short_session, asd, case
):
    login(page, live_server, "asd")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    note_key = f"/cases/{case.pk}/notes/"
    page.fill("#id_text", NOTE)

    # The warning comes before the end: an alert dialog, focus on "Stay signed in".
    dialog = page.locator("#session-timeout-dialog")
    dialog.wait_for(state="visible", timeout=(IDLE + 10) * 1000)
    # (wait_for_function would evaluate a string, which the page's CSP forbids.)
    expect(dialog.locator("[data-session-stay]")).to_be_focused()
    assert dialog.get_attribute("role") == "alertdialog"
    assert german("Your session is about to end") in dialog.inner_text()
    assert german("Stay signed in") == dialog.locator("[data-session-stay]").inner_text()
    assert re.fullmatch(r"0:0\d", dialog.locator("[data-session-countdown]").inner_text())
    assert_accessible(page)
    screenshot(page, "session-warning")

    # Nobody answers: the draft is saved, then the server signs her out.
    page.wait_for_url(re.compile(r"/accounts/login/\?next="), timeout=(IDLE + 10) * 1000)
    assert page.url.endswith(f"/accounts/login/?next=/cases/{case.pk}/")
    assert idle_message(1) in page.inner_text("main .messages")
    assert Draft.objects.get(user=asd, key=note_key).data["text"] == [NOTE]
    logout = AuditEntry.objects.filter(user=asd, action=AuditAction.LOGOUT).get()
    assert logout.changes == {"reason": "idle timeout"}
    assert_accessible(page)

    # She signs in again and lands on the case, where the draft is offered.
    page.fill("#id_username", "asd")
    page.fill("#id_password", "demo")
    with page.expect_navigation():
        page.click("main form [type=submit]")
    assert page.url == f"{live_server.url}/cases/{case.pk}/"
    banner = page.locator(".draft-banner")
    banner.wait_for()
    assert german("There is an unsaved draft from") in banner.inner_text()
    assert page.input_value("#id_text") == ""
    assert_accessible(page)
    screenshot(page, "draft-banner")

    banner.get_by_role("button", name=german("Restore")).click()
    assert page.input_value("#id_text") == NOTE
    assert page.evaluate("document.activeElement.id") == "id_text"
    assert banner.count() == 0

    with page.expect_navigation():
        page.click("#journal form [type=submit]")
    assert page.url.endswith(f"/cases/{case.pk}/#journal")

    saved = CaseNote.objects.filter(case=case, author=asd).latest("created_at")
    assert saved.text.replace("\r\n", "\n") == NOTE
    assert not Draft.objects.filter(user=asd).exists()
    browser_errors.assert_none()


def test_stay_signed_in_keeps_the_session_and_the_page(
    page, live_server, browser_errors, short_session, asd, case
):
    login(page, live_server, "asd")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    page.focus("#id_text")
    dialog = page.locator("#session-timeout-dialog")
    dialog.wait_for(state="visible", timeout=(IDLE + 10) * 1000)
    # (wait_for_function would evaluate a string, which the page's CSP forbids.)
    expect(dialog.locator("[data-session-stay]")).to_be_focused()

    page.keyboard.press("Enter")

    dialog.wait_for(state="hidden")
    expect(page.locator("#id_text")).to_be_focused()  # back where she was
    page.wait_for_timeout(WARNING * 1000)  # past the moment the session would have ended
    assert page.url == f"{live_server.url}/cases/{case.pk}/"
    assert not AuditEntry.objects.filter(user=asd, action=AuditAction.LOGOUT).exists()
    browser_errors.assert_none()


def test_at_the_end_of_the_session_lifetime_the_dialog_offers_no_extension(
    page, live_server, browser_errors, settings, asd, case
):
    settings.KIJUFAZ_IDLE_TIMEOUT = 60
    settings.KIJUFAZ_IDLE_WARNING = WARNING
    settings.KIJUFAZ_SESSION_MAX_AGE = IDLE
    login(page, live_server, "asd")
    page.goto(f"{live_server.url}/cases/{case.pk}/")

    dialog = page.locator("#session-timeout-dialog")
    dialog.wait_for(state="visible", timeout=(IDLE + 10) * 1000)
    expect(dialog).to_be_focused()
    expect(dialog.locator("[data-session-reason='lifetime']")).to_be_visible()
    expect(dialog.locator("[data-session-stay]")).to_be_hidden()
    assert_accessible(page)

    page.wait_for_url(re.compile(r"/accounts/login/\?next="), timeout=(IDLE + 10) * 1000)
    logout = AuditEntry.objects.filter(user=asd, action=AuditAction.LOGOUT).get()
    assert logout.changes == {"reason": "session lifetime reached"}
    browser_errors.assert_none()
