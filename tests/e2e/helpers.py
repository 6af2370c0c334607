"""Helpers for browser journeys: log in, check accessibility, collect browser errors."""

import json
import os
from pathlib import Path

import pytest
from django.utils import translation
from django.utils.translation import gettext

ROOT = Path(__file__).resolve().parent.parent.parent
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# axe-core reaches the page from this same-origin URL, answered by a Playwright route (the
# request never gets to Django). A script from 'self' passes the app's CSP, so the tests
# keep the real CSP on and still see every violation the app itself causes.
# `add_script_tag(path=...)` would insert an inline script, which the CSP blocks, and
# `bypass_csp=True` would hide exactly the violations `BrowserErrors` is there to catch.
AXE_URL_PATH = "/__e2e__/axe.min.js"
WCAG_21_AA = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
AXE_RUN = """tags => axe.run(document, {
    runOnly: {type: 'tag', values: tags},
    resultTypes: ['violations'],  // skips the details of passed checks: faster
})"""


def login(page, live_server, username: str, password: str = "demo") -> None:
    """Log in through the real login form and wait for the page after the redirect."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("main form [type=submit]")
    assert "/accounts/login/" not in page.url, f"login as {username!r} failed"


def assert_accessible(page, tags=WCAG_21_AA) -> None:
    """Fail with a readable list when axe-core finds WCAG violations on the current page."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        axe_url = page.evaluate("location.origin") + AXE_URL_PATH
        page.route(axe_url, _serve_axe)
        page.add_script_tag(url=axe_url)
    result = page.evaluate(AXE_RUN, list(tags))
    if result["violations"]:
        pytest.fail(
            f"axe-core found WCAG violations on {page.url}:\n"
            + format_violations(result["violations"]),
            pytrace=False,
        )


def _serve_axe(route) -> None:
    route.fulfill(path=AXE_JS, content_type="text/javascript")


def format_violations(violations) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:10]:
            lines.append(f"    {json.dumps(node['target'])}")
    return "\n".join(lines)


def german(text: str) -> str:
    """The German UI text for an English msgid, whether or not it is translated yet."""
    with translation.override("de"):
        return gettext(text)


def screenshot(page, name: str) -> None:
    """Full-page screenshot to look at while writing a test; only with E2E_SCREENSHOTS=1."""
    if os.environ.get("E2E_SCREENSHOTS"):
        page.screenshot(path=f"/tmp/e2e-{name}.png", full_page=True)


class BrowserErrors:
    """Console errors, uncaught exceptions and CSP violations seen by one page."""

    # Chromium also logs CSP violations as console errors; this listener adds the
    # directive and the blocked URL. Init scripts run outside the page's CSP.
    CSP_LISTENER = """
        document.addEventListener("securitypolicyviolation", (e) => {
          const where = `${e.sourceFile || e.documentURI}:${e.lineNumber}`;
          console.error(`CSP violation: ${e.violatedDirective}, ${e.blockedURI} at ${where}`);
        });
    """

    def __init__(self, page):
        self.messages: list[str] = []
        page.add_init_script(self.CSP_LISTENER)
        page.on("console", self._on_console)
        page.on("pageerror", self._on_page_error)

    def _on_console(self, message) -> None:
        # Chromium asks for /favicon.ico on its own; the app ships no icon (yet).
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            self.messages.append(f"[console] {message.text} ({message.location.get('url')})")

    def _on_page_error(self, error) -> None:
        self.messages.append(f"[exception] {error}")

    def clear(self) -> None:
        """Forget what was seen so far, e.g. after a page that is meant to answer 404."""
        self.messages.clear()

    def assert_none(self) -> None:
        assert not self.messages, "errors in the browser:\n" + "\n".join(self.messages)
