"""Who may open which data-protection page (DOMAIN.md: the data protection officer
reads the audit log; issue #6: retention runs, access requests).

The matrix is the contract for every URL of the `privacy` namespace, for every
persona, GET and (where the page takes one) POST.
"""

import pytest
from django.urls import reverse

from privacy import urls as privacy_urls

pytestmark = pytest.mark.django_db

PERSONAS = (
    "anonymous",
    "asd",
    "asd_colleague",
    "asd_other_team",
    "asdlead",
    "fachkraft",
    "traegerleitung",
    "fachkraft_other_provider",
    "leitung",
    "controlling",
    "datenschutz",
    "admin_user",
)

# Which object of the world each URL points at (None: no argument).
TARGET = {
    "audit_log": None,
    "audit_export_csv": None,
    "audit_export_xlsx": None,
    "audit_verify": None,
    "access_request": None,
    "access_request_preview": "person",
    "access_request_json": "person",
    "access_request_pdf": "person",
}

# What a POST sends: an invalid form where there is one (nothing can be saved), else
# the smallest valid body.
BODY = {
    "audit_verify": lambda world: {},
}

# fmt: off
# Columns in the order of PERSONAS:
#                anon asd  coll other alead staff plead ostaf leit ctrl dsb  admin
DSB_ONLY     = (302, 403, 403, 403,  403,  403,  403,  403,  403, 403, 200, 403)
AUDIT_405    = (302, 403, 403, 403,  403,  403,  403,  403,  403, 403, 405, 403)
AUDIT_POST   = (302, 403, 403, 403,  403,  403,  403,  403,  403, 403, 302, 403)

MATRIX = {
    # The audit log viewer: the data protection officer alone; the chain check is POST
    # only (the role check comes first, then 405 for GET).
    ("audit_log", "GET"):               DSB_ONLY,
    ("audit_export_csv", "GET"):        DSB_ONLY,
    ("audit_export_xlsx", "GET"):       DSB_ONLY,
    ("audit_verify", "GET"):            AUDIT_405,
    ("audit_verify", "POST"):           AUDIT_POST,
    # Access requests (Art. 15 GDPR): the data protection officer alone.
    ("access_request", "GET"):          DSB_ONLY,
    ("access_request_preview", "GET"):  DSB_ONLY,
    ("access_request_json", "GET"):     DSB_ONLY,
    ("access_request_pdf", "GET"):      DSB_ONLY,
}
# fmt: on


@pytest.fixture
def world(case):
    return {
        "person": case.family.members.first(),
    }


def _url(name: str, world: dict) -> str:
    target = TARGET[name]
    return reverse(f"privacy:{name}", args=[world[target].pk] if target else [])


def _status(client, request, persona: str, method: str, url: str, body: dict) -> int:
    client.logout()
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    response = client.post(url, body) if method == "POST" else client.get(url)
    if persona == "anonymous":
        assert response["Location"].startswith("/accounts/login/")
    return response.status_code


@pytest.mark.parametrize(("name", "method"), list(MATRIX), ids=[f"{n}-{m}" for n, m in MATRIX])
def test_each_persona_gets_the_status_the_access_table_says(client, request, world, name, method):
    url = _url(name, world)
    body = BODY[name](world) if method == "POST" else {}
    expected = dict(zip(PERSONAS, MATRIX[name, method], strict=True))

    actual = {persona: _status(client, request, persona, method, url, body) for persona in PERSONAS}

    assert actual == expected


def test_every_privacy_url_is_in_the_permission_matrix():
    names = {pattern.name for pattern in privacy_urls.urlpatterns}
    assert names == {name for name, __ in MATRIX}
    assert names == set(TARGET)
    assert {name for name, method in MATRIX if method == "POST"} == set(BODY)
