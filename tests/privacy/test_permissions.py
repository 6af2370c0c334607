"""Who may open which data-protection page (DOMAIN.md: the data protection officer
reads the audit log; issue #6: retention runs, access requests).

The matrix is the contract for every URL of the `privacy` namespace, for every
persona, GET and (where the page takes one) POST.
"""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from privacy import urls as privacy_urls
from privacy.models import RetentionRule, RetentionRun
from tests import factories as f
from tests.pages import status_as

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
    # Retention (Löschfristen) and restricted cases.
    "retention_due": None,
    "retention_rules": None,
    "retention_rule_edit": "rule",
    "retention_runs": None,
    "retention_run": "run",
    "retention_run_status": "run",
    "retention_run_approve": "run",
    "retention_run_reject": "run",
    "retention_holds": None,
    "retention_hold_lift": "held_case",
    "restricted_cases": None,
    "restricted_access": "restricted_case",
    "restricted_case": "restricted_case",
}

# What a POST sends: an invalid form where there is one (nothing can be saved), else
# the smallest valid body.
BODY = {
    "audit_verify": lambda world: {},
    "retention_due": lambda world: {},
    "retention_rule_edit": lambda world: {"remove_after_months": "abc"},
    "retention_run_approve": lambda world: {},
    "retention_run_reject": lambda world: {"comment": ""},
    "retention_holds": lambda world: {"reference": "", "reason": ""},
    "retention_hold_lift": lambda world: {"reason": ""},
    "restricted_access": lambda world: {"reason": "kurz"},
}

# fmt: off
# Columns in the order of PERSONAS:
#                anon asd  coll other alead staff plead ostaf leit ctrl dsb  admin
DSB_ONLY     = (302, 403, 403, 403,  403,  403,  403,  403,  403, 403, 200, 403)
DSB_REDIRECT = (302, 403, 403, 403,  403,  403,  403,  403,  403, 403, 302, 403)
DSB_INVALID  = (302, 403, 403, 403,  403,  403,  403,  403,  403, 403, 400, 403)
HOLDS        = (302, 403, 403, 403,  200,  403,  403,  403,  403, 403, 200, 403)
HOLDS_INVAL  = (302, 403, 403, 403,  400,  403,  403,  403,  403, 403, 400, 403)
HOLD_LIFT    = (302, 403, 403, 403,  302,  403,  403,  403,  403, 403, 302, 403)
RESTRICTED   = (302, 200, 200, 200,  200,  403,  403,  403,  403, 403, 200, 403)
RESTR_TEAM   = (302, 200, 200, 404,  200,  403,  403,  403,  403, 403, 200, 403)
RESTR_INVAL  = (302, 400, 400, 404,  400,  403,  403,  403,  403, 403, 400, 403)
RESTR_READ   = (302, 302, 302, 404,  302,  403,  403,  403,  403, 403, 302, 403)
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
    # Retention: rules, runs and their approval are the data protection officer's; the
    # approval asks for the password again (302 to the prompt).
    ("retention_due", "GET"):           DSB_ONLY,
    ("retention_due", "POST"):          DSB_REDIRECT,
    ("retention_rules", "GET"):         DSB_ONLY,
    ("retention_rule_edit", "GET"):     DSB_ONLY,
    ("retention_rule_edit", "POST"):    DSB_INVALID,
    ("retention_runs", "GET"):          DSB_ONLY,
    ("retention_run", "GET"):           DSB_ONLY,
    ("retention_run_status", "GET"):    DSB_ONLY,
    ("retention_run_approve", "POST"):  DSB_REDIRECT,
    ("retention_run_reject", "POST"):   DSB_INVALID,
    # Legal holds: the data protection officer and the ASD team lead (own team).
    ("retention_holds", "GET"):         HOLDS,
    ("retention_holds", "POST"):        HOLDS_INVAL,
    ("retention_hold_lift", "POST"):    HOLD_LIFT,
    # Restricted cases (§ 84 SGB X): the case's ASD team and the data protection officer,
    # a logged reason first (without one the summary redirects to the reason form).
    ("restricted_cases", "GET"):        RESTRICTED,
    ("restricted_access", "GET"):       RESTR_TEAM,
    ("restricted_access", "POST"):      RESTR_INVAL,
    ("restricted_case", "GET"):         RESTR_READ,
}
# fmt: on


@pytest.fixture
def world(case):
    return {
        "person": case.family.members.first(),
        **_retention_world(case),
    }


def _retention_world(case) -> dict:
    closed = {
        "status": "closed",
        "opened_on": datetime.date(2018, 3, 1),
        "closed_on": datetime.date(2020, 1, 31),
    }
    return {
        "rule": RetentionRule.objects.first(),
        "run": RetentionRun.objects.create(due_on=datetime.date(2026, 1, 1), due={"rules": []}),
        "held_case": f.make_case(
            case.owner, family_name="Gehalten", legal_hold=True, legal_hold_reason="Klage", **closed
        ),
        "restricted_case": f.make_case(
            case.owner, family_name="Gesperrt", restricted_at=timezone.now(), **closed
        ),
    }


def _url(name: str, world: dict) -> str:
    target = TARGET[name]
    return reverse(f"privacy:{name}", args=[world[target].pk] if target else [])


@pytest.mark.parametrize(("name", "method"), list(MATRIX), ids=[f"{n}-{m}" for n, m in MATRIX])
def test_each_persona_gets_the_status_the_access_table_says(client, request, world, name, method):
    url = _url(name, world)
    body = BODY[name](world) if method == "POST" else {}
    expected = dict(zip(PERSONAS, MATRIX[name, method], strict=True))

    actual = {
        persona: status_as(client, request, persona, method, url, body) for persona in PERSONAS
    }

    assert actual == expected


def test_every_privacy_url_is_in_the_permission_matrix():
    names = {pattern.name for pattern in privacy_urls.urlpatterns}
    assert names == {name for name, __ in MATRIX}
    assert names == set(TARGET)
    assert {name for name, method in MATRIX if method == "POST"} == set(BODY)
