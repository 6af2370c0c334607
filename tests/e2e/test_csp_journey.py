"""The Content-Security-Policy is sent on the main pages and nothing on them breaks it.

Two independent witnesses per page: Chromium's console messages about the Content
Security Policy, and `securitypolicyviolation` events caught by a listener that an
init script installs (init scripts run outside the page's CSP, so the listener itself
is no violation). The CSP stays fully on: axe-core is not needed here.
"""

import pytest
from django.urls import reverse

from tests import factories as f
from tests.budgets.conftest import make_contract

from .helpers import login

pytestmark = pytest.mark.django_db(transaction=True)

VIOLATION_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} ` +
    `at ${event.sourceFile || event.documentURI}:${event.lineNumber}`
  );
});
"""


class CspWatch:
    """CSP violations one page reports, by console message and by DOM event."""

    def __init__(self, page):
        self.page = page
        self.console: list[str] = []
        page.add_init_script(VIOLATION_LISTENER)
        page.on("console", self._on_console)

    def _on_console(self, message) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.console.append(message.text)

    def visit(self, url: str) -> dict:
        """Open `url`, let its scripts and requests finish; return what was seen."""
        response = self.page.goto(url)
        self.page.wait_for_load_state("networkidle")
        return {
            "status": response.status,
            "csp": response.headers.get("content-security-policy", ""),
            "events": self.page.evaluate("window.__cspViolations"),
            "console": list(self.console),
        }


@pytest.fixture
def world(region, provider, case):
    """Data behind the pages: a case with a help, plan and § 8a record; this year's budget."""
    make_contract(region, f.today().year, providers=[provider])
    return case


def _pages(persona: str, case) -> list[str]:
    help = case.helps.get()
    pages = {
        "asd": [
            reverse("desk"),
            reverse("cases:case_list"),
            reverse("cases:case_detail", args=[case.pk]),
            reverse("cases:plan_new", args=[help.pk]),
            reverse("cases:risk_add", args=[case.pk]),
            reverse("resources:resource_list"),
            reverse("controlling:report_list"),
        ],
        "fachkraft": [
            reverse("desk"),
            reverse("providers:hour_sheet"),
            reverse("cases:case_list"),
            reverse("cases:case_detail", args=[case.pk]),
        ],
        "traegerleitung": [
            reverse("providers:overview"),
            reverse("providers:hour_sheet"),
            reverse("budgets:dashboard"),
        ],
        "leitung": [
            reverse("desk"),
            reverse("budgets:dashboard"),
            reverse("controlling:report_list"),
            reverse("resources:resource_list"),
        ],
        "controlling": [reverse("budgets:dashboard"), reverse("providers:summary")],
        "datenschutz": [reverse("desk")],
    }
    return pages[persona]


def _assert_clean(seen: dict, url: str) -> None:
    assert seen["status"] == 200, url
    assert "script-src 'self'" in seen["csp"], f"no strict CSP header on {url}"
    assert "default-src 'self'" in seen["csp"], url
    assert seen["events"] == [], f"CSP violations on {url}: {seen['events']}"
    assert seen["console"] == [], f"CSP console messages on {url}: {seen['console']}"


def test_the_login_page_sends_the_csp_and_breaks_none_of_it(page, live_server):
    watch = CspWatch(page)

    _assert_clean(watch.visit(f"{live_server.url}{reverse('login')}"), "login")


@pytest.mark.parametrize(
    "persona", ["asd", "fachkraft", "traegerleitung", "leitung", "controlling", "datenschutz"]
)
def test_main_pages_of_each_role_send_the_csp_and_cause_no_violation(
    page,
    live_server,
    request,
    world,
    persona,
    fachkraft,
    traegerleitung,
    leitung,
    controlling,
    datenschutz,
):
    watch = CspWatch(page)
    login(page, live_server, request.getfixturevalue(persona).username)

    for path in _pages(persona, world):
        _assert_clean(watch.visit(f"{live_server.url}{path}"), path)


def test_a_detector_that_sees_nothing_would_be_noticed(page, live_server, asd):
    """Guards the witnesses: an inline script on our page is caught by both of them."""
    watch = CspWatch(page)
    login(page, live_server, "asd")

    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.__inline = true";
            document.body.append(script);
        }"""
    )
    page.wait_for_timeout(200)

    assert page.evaluate("window.__inline === undefined")
    assert any("script-src" in event for event in page.evaluate("window.__cspViolations"))
    assert any("Content Security Policy" in text for text in watch.console)
