"""Helpers for the page and permission tests: signing in as a persona, the status a
persona gets, and comparing rendered pages."""

import re


def comparable_page(response, url: str) -> str:
    """The page's HTML without what differs per response (its own URL, CSP nonce, CSRF
    tokens of forms and of the session-timeout dialog), so that a forbidden object's 404
    can be compared with a missing one's."""
    html = response.content.decode().replace(url, "URL")
    html = re.sub(r'nonce="[^"]+"', "NONCE", html)
    html = re.sub(r'data-csrf-token="[^"]+"', "CSRF", html)
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "CSRF", html)


LOGIN_URL = "/accounts/login/"


def sign_in_as(client, request, persona: str) -> None:
    """Signs the test client in as the persona fixture (or out, for "anonymous")."""
    client.logout()
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))


def status_as(client, request, persona: str, method: str, url: str, body: dict) -> int:
    """The status `persona` gets for a GET (or a POST of `body`) to `url`; an anonymous
    visitor who is redirected must be sent to the login page."""
    sign_in_as(client, request, persona)
    response = client.post(url, body) if method == "POST" else client.get(url)
    if persona == "anonymous" and response.status_code == 302:
        assert response["Location"].startswith(LOGIN_URL)
    return response.status_code
