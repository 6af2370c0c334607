"""Browser journeys: headless Debian Chromium, driven by Playwright against `live_server`.

Fixtures: `page` (pytest-playwright; German locale, Berlin time, 1280x900) and
`browser_errors` (console errors, exceptions and CSP violations of that page).
Helpers in tests/e2e/helpers.py: `login`, `assert_accessible`, `screenshot`.
Tests here need `@pytest.mark.django_db(transaction=True)`: the live server answers
from another thread and must see the test's data.
"""

import os
from pathlib import Path

import pytest

from .helpers import BrowserErrors

# Playwright's sync API keeps an asyncio loop running in the main thread, and Django
# refuses ORM calls from a thread with a running loop. The fixtures and test bodies are
# plain synchronous code, so the check only gets in the way. Set at import: the
# Playwright fixtures are session-scoped, so the loop outlives the browser tests.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

HERE = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"  # Debian's; `playwright install` cannot download here.


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not os.path.exists(CHROMIUM):
        message = f"{CHROMIUM} is missing: apt-get install chromium"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return {
        "headless": True,
        **browser_type_launch_args,  # keeps --headed, --slowmo from the command line
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-dev-shm-usage",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {
        **browser_context_args,
        "locale": "de-DE",
        "timezone_id": "Europe/Berlin",
        "viewport": {"width": 1280, "height": 900},
    }


@pytest.fixture
def browser_errors(page):
    return BrowserErrors(page)
