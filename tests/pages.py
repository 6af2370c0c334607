"""Helpers for comparing rendered pages in tests."""

import re


def comparable_page(response, url: str) -> str:
    """The page's HTML without what differs per response (its own URL, CSP nonce, CSRF
    tokens of forms and of the session-timeout dialog), so that a forbidden object's 404
    can be compared with a missing one's."""
    html = response.content.decode().replace(url, "URL")
    html = re.sub(r'nonce="[^"]+"', "NONCE", html)
    html = re.sub(r'data-csrf-token="[^"]+"', "CSRF", html)
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "CSRF", html)
