"""Who may open which case page (DOMAIN.md "Roles and what each may see").

The matrix below is the contract: every URL of the `cases` namespace plus the
desk, for every persona, GET and (for form pages) POST with an invalid body.
Outside the user's scope → 404 (ids cannot be probed); a role that may never
use a page → 403 before any object is looked up; a read-only user trying to
write → 403; anonymous → the login page.
"""

import datetime

import pytest
from django.urls import reverse

from cases import services
from cases import urls as cases_urls
from cases.models import CaseAccessGrant, CaseNote, CaseStatus, DeputyAssignment, NoteKind
from tests import factories as f
from tests.pages import comparable_page, status_as

pytestmark = pytest.mark.django_db

PERSONAS = (
    "anonymous",
    "asd",
    "asd_colleague",
    "asdlead",
    "asd_other_team",
    "fachkraft",
    "traegerleitung",
    "fachkraft_other_provider",
    "leitung",
    "controlling",
    "datenschutz",
    "admin_user",
)

# A bound but invalid form: no required field is filled, so nothing can be saved.
INVALID_POST = {"unknown_field": ""}

# Which object of the world each URL points at (None: no argument).
TARGET = {
    "desk": None,
    "case_list": None,
    "case_export_csv": None,
    "case_export_xlsx": None,
    "case_open": None,
    "case_detail": "case",
    "case_close": "case",
    "case_reassign": "case",
    "note_add": "case",
    "help_add": "case",
    "risk_add": "case",
    "consultation_add": "case",
    "family_detail": "family",
    "family_edit": "family",
    "person_add": "family",
    "family_case_open": "family",
    "person_edit": "person",
    "help_end": "help",
    "help_hours": "help",
    "plan_new": "help",
    "plan_detail": "plan",
    "plan_pdf": "plan",
    "approval_decide": "approval",
    "risk_edit": "risk",
    "case_access": "case",
    "case_confidential": "case",
    "grant_revoke": "grant",
    "deputy_list": None,
    "deputy_revoke": "deputy",
    "note_readers": "entrusted_note",
}

# fmt: off
# Columns in the order of PERSONAS:
#                      anon asd  coll lead oteam staff plead oprov leit ctrl dsb  admin
READ_ALL_CASE_ROLES = (302, 200, 200, 200, 200, 200, 200, 200, 403, 403, 403, 403)
ASD_ONLY_PAGE       = (302, 200, 200, 200, 200, 403, 403, 403, 403, 403, 403, 403)
CASE_READ           = (302, 200, 200, 200, 404, 200, 200, 404, 403, 403, 403, 403)
ASD_READ            = (302, 200, 200, 200, 404, 403, 403, 403, 403, 403, 403, 403)
OWNER_WRITE         = (302, 200, 403, 200, 404, 403, 403, 403, 403, 403, 403, 403)
LEAD_ONLY           = (302, 403, 403, 200, 404, 403, 403, 403, 403, 403, 403, 403)

MATRIX = {
    ("desk", "GET"):              (302, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("case_list", "GET"):         READ_ALL_CASE_ROLES,
    ("case_export_csv", "GET"):   READ_ALL_CASE_ROLES,
    ("case_export_xlsx", "GET"):  READ_ALL_CASE_ROLES,
    ("case_open", "GET"):         ASD_ONLY_PAGE,
    ("case_open", "POST"):        ASD_ONLY_PAGE,
    ("case_detail", "GET"):       CASE_READ,
    ("case_close", "GET"):        OWNER_WRITE,
    ("case_close", "POST"):       OWNER_WRITE,
    ("case_reassign", "GET"):     LEAD_ONLY,
    ("case_reassign", "POST"):    LEAD_ONLY,
    # POST only: the role check comes first, then 405 for GET, then the object lookup.
    ("note_add", "GET"):          (302, 405, 405, 405, 405, 403, 403, 403, 403, 403, 403, 403),
    ("note_add", "POST"):         (302, 400, 403, 400, 404, 403, 403, 403, 403, 403, 403, 403),
    ("help_add", "GET"):          OWNER_WRITE,
    ("help_add", "POST"):         OWNER_WRITE,
    ("risk_add", "GET"):          OWNER_WRITE,
    ("risk_add", "POST"):         OWNER_WRITE,
    # § 36 (2): an invalid (empty) consultation form answers 400 with its messages.
    ("consultation_add", "GET"):  OWNER_WRITE,
    ("consultation_add", "POST"): (302, 400, 403, 400, 404, 403, 403, 403, 403, 403, 403, 403),
    ("family_detail", "GET"):     CASE_READ,
    ("family_edit", "GET"):       OWNER_WRITE,
    ("family_edit", "POST"):      OWNER_WRITE,
    ("person_add", "GET"):        OWNER_WRITE,
    ("person_add", "POST"):       OWNER_WRITE,
    # Any ASD member of the team may open a *new* case for a team family (she owns it then).
    ("family_case_open", "GET"):  ASD_READ,
    ("family_case_open", "POST"): ASD_READ,
    ("person_edit", "GET"):       OWNER_WRITE,
    ("person_edit", "POST"):      OWNER_WRITE,
    ("help_end", "GET"):          OWNER_WRITE,
    ("help_end", "POST"):         OWNER_WRITE,
    ("help_hours", "GET"):        OWNER_WRITE,
    ("help_hours", "POST"):       OWNER_WRITE,
    ("plan_new", "GET"):          OWNER_WRITE,
    ("plan_new", "POST"):         OWNER_WRITE,
    ("plan_detail", "GET"):       CASE_READ,
    ("plan_pdf", "GET"):          CASE_READ,
    # Four-eyes: only the team lead decides, and never on her own request.
    ("approval_decide", "GET"):   LEAD_ONLY,
    ("approval_decide", "POST"):  LEAD_ONLY,
    # § 8a: ASD only; the colleague reads, only owner and lead change it.
    ("risk_edit", "GET"):         ASD_READ,
    ("risk_edit", "POST"):        OWNER_WRITE,
    # § 35 SGB I: owner and team lead decide who sees the case; an empty form answers 400.
    ("case_access", "GET"):       OWNER_WRITE,
    ("case_access", "POST"):      (302, 400, 403, 400, 404, 403, 403, 403, 403, 403, 403, 403),
    # Flagging asks for the password when stale; its GET leads back to the access page.
    ("case_confidential", "GET"): (302, 302, 403, 302, 404, 403, 403, 403, 403, 403, 403, 403),
    ("case_confidential", "POST"):(302, 400, 403, 400, 404, 403, 403, 403, 403, 403, 403, 403),
    # Revoking needs no form: the owner revokes, the lead's second revoke changes nothing.
    ("grant_revoke", "GET"):      (302, 405, 405, 405, 405, 403, 403, 403, 403, 403, 403, 403),
    ("grant_revoke", "POST"):     (302, 302, 403, 302, 404, 403, 403, 403, 403, 403, 403, 403),
    # Deputies are assigned by the team lead for her own team.
    ("deputy_list", "GET"):       (302, 403, 403, 200, 403, 403, 403, 403, 403, 403, 403, 403),
    ("deputy_list", "POST"):      (302, 403, 403, 400, 403, 403, 403, 403, 403, 403, 403, 403),
    ("deputy_revoke", "GET"):     (302, 403, 403, 405, 403, 403, 403, 403, 403, 403, 403, 403),
    ("deputy_revoke", "POST"):    (302, 403, 403, 302, 403, 403, 403, 403, 403, 403, 403, 403),
    # § 65 SGB VIII: only the author names readers; nobody else even sees the entry.
    ("note_readers", "GET"):      (302, 200, 404, 404, 404, 403, 403, 403, 403, 403, 403, 403),
    ("note_readers", "POST"):     (302, 400, 404, 404, 404, 403, 403, 403, 403, 403, 403, 403),
}
# fmt: on


@pytest.fixture
def world(case, running_help, pending_approval, asd, asd_colleague, asdlead, fachkraft):
    tomorrow = f.today() + datetime.timedelta(days=1)
    return {
        "case": case,
        "family": case.family,
        "person": case.family.members.get(),
        "help": running_help,
        "plan": running_help.plans.get(),
        "approval": pending_approval,
        "risk": case.risk_assessments.get(),
        # A named access on a case that is not confidential changes nobody's view.
        "grant": CaseAccessGrant.objects.create(
            case=case, user=fachkraft, reason="Hilfe", valid_from=f.today(), granted_by=asd
        ),
        # Starts tomorrow, so the colleague cannot write asd's case yet.
        "deputy": DeputyAssignment.objects.create(
            absent=asd,
            deputy=asd_colleague,
            valid_from=tomorrow,
            valid_until=tomorrow + datetime.timedelta(days=7),
            reason="Urlaub",
            created_by=asdlead,
        ),
        "entrusted_note": CaseNote.objects.create(
            case=case, author=asd, text="Anvertraut", entrusted=True
        ),
    }


def _url(name: str, world: dict) -> str:
    target = TARGET[name]
    full_name = name if name == "desk" else f"cases:{name}"
    return reverse(full_name, args=[world[target].pk] if target else [])


@pytest.mark.parametrize(("name", "method"), list(MATRIX), ids=[f"{n}-{m}" for n, m in MATRIX])
def test_each_persona_gets_the_status_the_access_table_says(client, request, world, name, method):
    url = _url(name, world)
    expected = dict(zip(PERSONAS, MATRIX[name, method], strict=True))
    actual = {
        persona: status_as(client, request, persona, method, url, INVALID_POST)
        for persona in PERSONAS
    }
    assert actual == expected


def test_every_cases_url_is_in_the_permission_matrix():
    names = {pattern.name for pattern in cases_urls.urlpatterns}
    in_matrix = {name for name, __ in MATRIX}
    assert names | {"desk"} == in_matrix
    assert set(TARGET) == in_matrix


def test_every_post_row_has_a_get_row():
    assert {name for name, method in MATRIX if method == "POST"} <= {
        name for name, method in MATRIX if method == "GET"
    }


# --- Focused rules ----------------------------------------------------------------


def test_forbidden_case_id_answers_404_like_a_missing_one(client, asd_other_team, case):
    client.force_login(asd_other_team)
    forbidden_url = reverse("cases:case_detail", args=[case.pk])
    missing_url = reverse("cases:case_detail", args=[case.pk + 10_000])

    forbidden, missing = client.get(forbidden_url), client.get(missing_url)

    assert forbidden.status_code == missing.status_code == 404
    assert [t.name for t in forbidden.templates] == [t.name for t in missing.templates]
    assert "404.html" in [t.name for t in forbidden.templates]
    # The same page, apart from the requested path and the per-response CSRF token and nonce.
    assert comparable_page(forbidden, forbidden_url) == comparable_page(missing, missing_url)


def test_provider_loses_access_when_help_ends(client, fachkraft, asd, case, running_help):
    url = reverse("cases:case_detail", args=[case.pk])
    client.force_login(fachkraft)
    assert client.get(url).status_code == 200

    services.end_help(
        help=running_help,
        on=f.today() - datetime.timedelta(days=1),
        reason="as_planned",
        by=asd,
    )

    assert client.get(url).status_code == 404
    assert client.get(reverse("cases:family_detail", args=[case.family_id])).status_code == 404


@pytest.mark.parametrize("persona", ["fachkraft", "traegerleitung"])
def test_provider_never_sees_risk_assessment_or_journal_on_case_page(
    client, request, case, persona
):
    note = case.notes.get()
    risk = case.risk_assessments.get()
    client.force_login(request.getfixturevalue(persona))

    html = client.get(reverse("cases:case_detail", args=[case.pk])).content.decode()

    assert case.reference in html  # the page itself is readable
    assert note.text not in html
    assert risk.report_summary not in html
    assert risk.report_source not in html
    assert reverse("cases:risk_edit", args=[risk.pk]) not in html
    assert 'id="journal"' not in html
    assert 'id="risk"' not in html


def test_owner_sees_journal_and_risk_assessment_on_case_page(client, asd, case):
    """The counterpart of the provider test: the markers it looks for do exist."""
    client.force_login(asd)
    risk = case.risk_assessments.get()

    html = client.get(reverse("cases:case_detail", args=[case.pk])).content.decode()

    assert case.notes.get().text in html
    assert reverse("cases:risk_edit", args=[risk.pk]) in html


def test_caseworker_reads_but_cannot_change_colleagues_case(client, asd_colleague, case):
    client.force_login(asd_colleague)
    assert client.get(reverse("cases:case_detail", args=[case.pk])).status_code == 200

    response = client.post(
        reverse("cases:note_add", args=[case.pk]), {"kind": NoteKind.NOTE, "text": "Vertretung"}
    )

    assert response.status_code == 403
    assert not CaseNote.objects.filter(text="Vertretung").exists()


def test_team_lead_can_reassign(client, asdlead, asd_colleague, case):
    client.force_login(asdlead)

    response = client.post(
        reverse("cases:case_reassign", args=[case.pk]), {"owner": asd_colleague.pk}
    )

    assert response.status_code == 302
    case.refresh_from_db()
    assert case.owner == asd_colleague
    assert case.team_id == asdlead.team_id


def test_closed_case_is_read_only(client, asd, asdlead, team):
    today = f.today()
    case = f.make_case(asd, status=CaseStatus.CLOSED, closed_on=today, closing_reason="no_need")
    write_urls = [
        reverse("cases:help_add", args=[case.pk]),
        reverse("cases:risk_add", args=[case.pk]),
        reverse("cases:case_close", args=[case.pk]),
        reverse("cases:case_reassign", args=[case.pk]),
        reverse("cases:family_edit", args=[case.family_id]),
    ]
    for user in (asd, asdlead):
        client.force_login(user)
        page = client.get(reverse("cases:case_detail", args=[case.pk]))
        assert page.status_code == 200
        assert page.context["can_write"] is False
        assert page.context["can_reassign"] is False
        assert [client.get(url).status_code for url in write_urls] == [403] * len(write_urls)
        note = client.post(reverse("cases:note_add", args=[case.pk]), {"kind": "note", "text": "x"})
        assert note.status_code == 403
    assert not case.notes.exists()


@pytest.mark.parametrize("persona", ["asd_other_team", "fachkraft_other_provider"])
def test_case_list_and_export_leave_out_cases_outside_the_scope(client, request, case, persona):
    client.force_login(request.getfixturevalue(persona))

    listed = client.get(reverse("cases:case_list")).content.decode()
    exported = b"".join(client.get(reverse("cases:case_export_csv")).streaming_content).decode()

    assert case.reference not in listed
    assert case.reference not in exported
    assert case.family.name not in exported


def test_provider_desk_lists_only_reviews_of_its_own_helps(client, fachkraft, case, other_provider):
    other_help = f.make_help(case, other_provider, legal_basis="35a", setting="ambulant")
    other_plan = f.make_plan(other_help, next_review_due=f.today() + datetime.timedelta(days=5))
    client.force_login(fachkraft)

    desk = client.get(reverse("desk")).context["desk"]

    assert other_plan.pk not in {row.pk for row in desk.reviews}
    assert desk.reviews  # its own help's review is there


@pytest.mark.parametrize("persona", ["leitung", "controlling", "datenschutz", "admin_user"])
def test_roles_without_case_access_get_a_start_page_without_case_data(
    client, request, case, persona
):
    client.force_login(request.getfixturevalue(persona))

    response = client.get(reverse("desk"))

    assert "core/home.html" in [t.name for t in response.templates]
    assert "desk" not in response.context
    html = response.content.decode()
    assert case.reference not in html
    assert case.family.name not in html


def test_provider_cannot_find_other_providers_helps_by_filtering(
    client, fachkraft, case, other_provider
):
    f.make_help(case, other_provider, legal_basis="35a", setting="ambulant")
    client.force_login(fachkraft)

    response = client.get(reverse("cases:case_list"), {"legal_basis": "35a"})

    assert case.pk not in {row.pk for row in response.context["page"]}
