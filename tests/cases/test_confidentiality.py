"""§ 35 SGB I: a confidential case (staff members or their relatives) is seen only by its
owner and the people named in an active access grant; deputies act for an absent
colleague only within the assignment's window; restricted and anonymised cases leave the
ordinary case pages for everyone. Every flag, grant and assignment is audited.
"""

import datetime
import io
import uuid
import zipfile

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.models import Case, CaseAccessGrant, CaseNote, DeputyAssignment
from core.models import AuditAction, AuditEntry
from tests import factories as f

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


@pytest.fixture
def confidential_case(case):
    case.confidential = True
    case.save(update_fields=["confidential"])
    return case


def name(user, case, *, days_back=0, until=None, by=None):
    return CaseAccessGrant.objects.create(
        case=case,
        user=user,
        reason="Vertretung",
        valid_from=f.today() - days_back * DAY,
        valid_until=until,
        granted_by=by or case.owner,
    )


def deputise(absent, deputy, by, *, start, end):
    return DeputyAssignment.objects.create(
        absent=absent,
        deputy=deputy,
        valid_from=start,
        valid_until=end,
        reason="Urlaub",
        created_by=by,
    )


def read_urls(case, *, asd_pages=True) -> list[str]:
    """The case's detail, help, plan, § 8a and family pages (providers never get the
    help-changing and § 8a pages: their role is refused before any lookup)."""
    help = case.helps.get()
    plan = help.plans.get()
    urls = [
        reverse("cases:case_detail", args=[case.pk]),
        reverse("cases:plan_detail", args=[plan.pk]),
        reverse("cases:plan_pdf", args=[plan.pk]),
        reverse("cases:family_detail", args=[case.family_id]),
    ]
    if asd_pages:
        urls += [
            reverse("cases:help_end", args=[help.pk]),
            reverse("cases:help_hours", args=[help.pk]),
            reverse("cases:risk_edit", args=[case.risk_assessments.get().pk]),
        ]
    return urls


def note_url(case) -> str:
    return reverse("cases:note_add", args=[case.pk])


def exported_text(client, name: str, **params) -> str:
    response = client.get(reverse(name), params)
    if name.endswith("xlsx"):
        with zipfile.ZipFile(io.BytesIO(response.content)) as workbook:
            return "".join(
                workbook.read(n).decode() for n in workbook.namelist() if n.endswith(".xml")
            )
    return b"".join(response.streaming_content).decode()


# --- Who sees a confidential case -------------------------------------------------------


@pytest.mark.parametrize("persona", ["asd_colleague", "asdlead", "fachkraft", "traegerleitung"])
def test_confidential_case_answers_404_to_everyone_not_named(
    client, request, confidential_case, persona
):
    user = request.getfixturevalue(persona)
    client.force_login(user)

    urls = read_urls(confidential_case, asd_pages=user.is_asd)
    statuses = [client.get(url).status_code for url in urls]
    note = client.post(note_url(confidential_case), {"kind": "note", "text": "x"})

    assert statuses == [404] * len(statuses)
    assert note.status_code in (403, 404)  # providers are refused by role before the lookup
    assert not CaseNote.objects.filter(text="x").exists()


def test_owner_still_sees_and_writes_her_confidential_case(client, asd, confidential_case):
    client.force_login(asd)

    assert client.get(reverse("cases:case_detail", args=[confidential_case.pk])).status_code == 200
    response = client.post(note_url(confidential_case), {"kind": "note", "text": "Eigener"})

    assert response.status_code == 302
    assert confidential_case.notes.filter(text="Eigener").exists()


@pytest.mark.parametrize("persona", ["asd_colleague", "asdlead"])
def test_confidential_case_disappears_from_list_search_desk_and_exports(
    client, request, confidential_case, persona
):
    client.force_login(request.getfixturevalue(persona))
    family = confidential_case.family.name

    listed = client.get(reverse("cases:case_list")).content.decode()
    searched = client.get(reverse("cases:case_list"), {"q": family})
    desk = client.get(reverse("desk")).content.decode()
    csv = exported_text(client, "cases:case_export_csv")
    xlsx = exported_text(client, "cases:case_export_xlsx")

    assert list(searched.context["page"]) == []
    for text in (listed, desk, csv, xlsx):
        assert confidential_case.reference not in text
        assert family not in text


def test_team_lead_desk_leaves_out_approvals_of_confidential_cases(
    client, asdlead, confidential_case, pending_approval
):
    client.force_login(asdlead)

    desk = client.get(reverse("desk"))

    assert list(desk.context["desk"].approvals) == []
    assert reverse("cases:approval_decide", args=[pending_approval.pk]) not in desk.content.decode()
    assert (
        client.get(reverse("cases:approval_decide", args=[pending_approval.pk])).status_code == 404
    )


@pytest.mark.parametrize("persona", ["asd_colleague", "asdlead", "fachkraft"])
def test_named_person_sees_the_confidential_case(client, request, confidential_case, persona):
    user = request.getfixturevalue(persona)
    name(user, confidential_case)
    client.force_login(user)

    detail = client.get(reverse("cases:case_detail", args=[confidential_case.pk]))
    listed = client.get(reverse("cases:case_list"))

    assert detail.status_code == 200
    assert confidential_case.pk in {row.pk for row in listed.context["page"]}
    assert "Vertraulich" in detail.content.decode() or "Confidential" in detail.content.decode()


def test_named_colleague_reads_but_does_not_write(client, asd_colleague, confidential_case):
    name(asd_colleague, confidential_case)
    client.force_login(asd_colleague)

    response = client.post(note_url(confidential_case), {"kind": "note", "text": "Nein"})

    assert response.status_code == 403


def test_named_team_lead_may_write_as_on_any_team_case(client, asdlead, confidential_case):
    name(asdlead, confidential_case)
    client.force_login(asdlead)

    response = client.post(note_url(confidential_case), {"kind": "note", "text": "Leitung"})

    assert response.status_code == 302


def test_named_provider_staff_needs_a_running_help_of_her_provider_too(
    client, fachkraft_other_provider, confidential_case
):
    name(fachkraft_other_provider, confidential_case)
    client.force_login(fachkraft_other_provider)

    response = client.get(reverse("cases:case_detail", args=[confidential_case.pk]))

    assert response.status_code == 404


@pytest.mark.parametrize(
    "grant_kwargs",
    [
        {"days_back": 10, "until": f.today() - DAY},  # expired yesterday
        {"days_back": -1},  # starts tomorrow
    ],
    ids=["expired", "not-yet-valid"],
)
def test_grant_outside_its_period_gives_no_access(
    client, asd_colleague, confidential_case, grant_kwargs
):
    name(asd_colleague, confidential_case, **grant_kwargs)
    client.force_login(asd_colleague)

    response = client.get(reverse("cases:case_detail", args=[confidential_case.pk]))

    assert response.status_code == 404


def test_grant_valid_until_today_still_works(client, asd_colleague, confidential_case):
    name(asd_colleague, confidential_case, days_back=3, until=f.today())
    client.force_login(asd_colleague)

    assert client.get(reverse("cases:case_detail", args=[confidential_case.pk])).status_code == 200


def test_revoked_grant_no_longer_works(client, asd, asd_colleague, confidential_case):
    grant = name(asd_colleague, confidential_case)
    client.force_login(asd)
    client.post(reverse("cases:grant_revoke", args=[grant.pk]))
    client.force_login(asd_colleague)

    response = client.get(reverse("cases:case_detail", args=[confidential_case.pk]))

    grant.refresh_from_db()
    assert grant.revoked_at is not None
    assert response.status_code == 404


# --- Flagging and naming through the pages ---------------------------------------------


def test_owner_flags_the_case_confidential_with_a_reason(client, asd, asd_colleague, case):
    client.force_login(asd)

    response = client.post(
        reverse("cases:case_confidential", args=[case.pk]),
        {"confidential": "on", "reason": "Angehörige einer Kollegin"},
    )

    case.refresh_from_db()
    assert response.status_code == 302
    assert case.confidential is True
    entry = AuditEntry.objects.filter(object_type="cases.case", object_id=str(case.pk)).last()
    assert entry.action == AuditAction.CHANGE
    assert entry.changes["confidential"] is True
    client.force_login(asd_colleague)
    assert client.get(reverse("cases:case_detail", args=[case.pk])).status_code == 404


def test_flagging_needs_a_reason(client, asd, case):
    client.force_login(asd)

    response = client.post(
        reverse("cases:case_confidential", args=[case.pk]), {"confidential": "on", "reason": " "}
    )

    case.refresh_from_db()
    assert response.status_code == 400
    assert case.confidential is False


def test_team_lead_who_flags_a_case_loses_sight_of_it(client, asdlead, case):
    client.force_login(asdlead)

    response = client.post(
        reverse("cases:case_confidential", args=[case.pk]),
        {"confidential": "on", "reason": "Mitarbeiterin betroffen"},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("cases:case_list")
    assert client.get(reverse("cases:case_detail", args=[case.pk])).status_code == 404


def test_colleague_cannot_flag_or_name(client, asd_colleague, case):
    client.force_login(asd_colleague)

    flag = client.post(
        reverse("cases:case_confidential", args=[case.pk]),
        {"confidential": "on", "reason": "x"},
    )
    grant = client.post(
        reverse("cases:case_access", args=[case.pk]),
        {"user": asd_colleague.pk, "reason": "x"},
    )

    assert (flag.status_code, grant.status_code) == (403, 403)
    assert not CaseAccessGrant.objects.exists()


def test_owner_names_a_colleague_with_reason_and_end_date(
    client, asd, asd_colleague, confidential_case
):
    client.force_login(asd)
    until = f.today() + 14 * DAY

    response = client.post(
        reverse("cases:case_access", args=[confidential_case.pk]),
        {
            "user": asd_colleague.pk,
            "reason": "Urlaubsvertretung",
            "valid_until": f"{until:%d.%m.%Y}",
        },
    )

    assert response.status_code == 302
    grant = CaseAccessGrant.objects.get()
    assert (grant.user, grant.valid_from, grant.valid_until) == (asd_colleague, f.today(), until)
    entry = AuditEntry.objects.get(object_type="cases.caseaccessgrant", object_id=str(grant.pk))
    assert entry.action == AuditAction.CREATE
    assert entry.changes["user"] == asd_colleague.pk


def test_only_team_members_and_serving_provider_staff_can_be_named(
    client, asd, asd_other_team, fachkraft, fachkraft_other_provider, confidential_case
):
    client.force_login(asd)
    url = reverse("cases:case_access", args=[confidential_case.pk])

    refused = [
        client.post(url, {"user": user.pk, "reason": "x"}).status_code
        for user in (asd_other_team, fachkraft_other_provider, asd)
    ]
    accepted = client.post(url, {"user": fachkraft.pk, "reason": "Hilfe läuft"})

    assert refused == [400, 400, 400]
    assert accepted.status_code == 302
    assert list(CaseAccessGrant.objects.values_list("user", flat=True)) == [fachkraft.pk]


def test_revoking_is_audited(client, asd, asd_colleague, confidential_case):
    grant = name(asd_colleague, confidential_case)
    client.force_login(asd)

    client.post(reverse("cases:grant_revoke", args=[grant.pk]))

    entry = AuditEntry.objects.get(
        object_type="cases.caseaccessgrant", object_id=str(grant.pk), action=AuditAction.CHANGE
    )
    assert entry.changes["fields"] == ["revoked_at"]


def test_access_page_lists_grants_with_who_and_when(client, asd, asd_colleague, confidential_case):
    name(asd_colleague, confidential_case, until=f.today() + 5 * DAY)
    client.force_login(asd)

    html = client.get(reverse("cases:case_access", args=[confidential_case.pk])).content.decode()

    assert str(asd_colleague) in html
    assert "Vertretung" in html
    assert (f.today() + 5 * DAY).strftime("%d.%m.%Y") in html


# --- Deputies -----------------------------------------------------------------------------


def test_deputy_writes_absent_colleagues_case_within_the_window(
    client, asd, asd_colleague, asdlead, case
):
    deputise(asd, asd_colleague, asdlead, start=f.today() - DAY, end=f.today() + DAY)
    client.force_login(asd_colleague)

    response = client.post(note_url(case), {"kind": "note", "text": "Vertretung"})

    assert response.status_code == 302
    assert case.notes.filter(text="Vertretung", author=asd_colleague).exists()


@pytest.mark.parametrize(
    ("start", "end", "revoked"),
    [
        (-10, -1, False),  # ended yesterday
        (1, 10, False),  # starts tomorrow
        (-1, 1, True),  # revoked
    ],
    ids=["ended", "not-started", "revoked"],
)
def test_deputy_cannot_write_outside_the_window(
    client, asd, asd_colleague, asdlead, case, start, end, revoked
):
    assignment = deputise(
        asd, asd_colleague, asdlead, start=f.today() + start * DAY, end=f.today() + end * DAY
    )
    if revoked:
        services.revoke_deputy(assignment=assignment, by=asdlead)
    client.force_login(asd_colleague)

    response = client.post(note_url(case), {"kind": "note", "text": "Vertretung"})

    assert response.status_code == 403


def test_deputy_needs_a_named_access_for_a_confidential_case(
    client, asd, asd_colleague, asdlead, confidential_case
):
    deputise(asd, asd_colleague, asdlead, start=f.today(), end=f.today() + 7 * DAY)
    client.force_login(asd_colleague)
    url = note_url(confidential_case)

    without = client.post(url, {"kind": "note", "text": "ohne"})
    name(asd_colleague, confidential_case, until=f.today() + 7 * DAY)
    with_grant = client.post(url, {"kind": "note", "text": "mit"})

    assert without.status_code == 404
    assert with_grant.status_code == 302


def test_writable_by_matches_the_deputy_window(asd, asd_colleague, asdlead, case):
    deputise(asd, asd_colleague, asdlead, start=f.today(), end=f.today() + 2 * DAY)

    assert case in Case.objects.writable_by(asd_colleague)
    assert case not in Case.objects.writable_by(asd_colleague, today=f.today() + 3 * DAY)
    assert case not in Case.objects.writable_by(asd_colleague, today=f.today() - DAY)


def test_team_lead_assigns_a_deputy_with_reason_and_end_date(client, asd, asd_colleague, asdlead):
    client.force_login(asdlead)
    start, end = f.today(), f.today() + 14 * DAY

    response = client.post(
        reverse("cases:deputy_list"),
        {
            "absent": asd.pk,
            "deputy": asd_colleague.pk,
            "valid_from": f"{start:%d.%m.%Y}",
            "valid_until": f"{end:%d.%m.%Y}",
            "reason": "Elternzeit",
        },
    )

    assert response.status_code == 302
    assignment = DeputyAssignment.objects.get()
    assert (assignment.absent, assignment.deputy, assignment.created_by) == (
        asd,
        asd_colleague,
        asdlead,
    )
    entry = AuditEntry.objects.get(
        object_type="cases.deputyassignment", object_id=str(assignment.pk)
    )
    assert entry.action == AuditAction.CREATE
    page = client.get(reverse("cases:deputy_list")).content.decode()
    assert "Elternzeit" in page and str(asdlead) in page


@pytest.mark.parametrize("missing", ["valid_until", "reason"])
def test_deputy_assignment_needs_end_date_and_reason(client, asd, asd_colleague, asdlead, missing):
    client.force_login(asdlead)
    data = {
        "absent": asd.pk,
        "deputy": asd_colleague.pk,
        "valid_from": f"{f.today():%d.%m.%Y}",
        "valid_until": f"{f.today() + DAY:%d.%m.%Y}",
        "reason": "Urlaub",
    }
    data[missing] = ""

    response = client.post(reverse("cases:deputy_list"), data)

    assert response.status_code == 400
    assert not DeputyAssignment.objects.exists()


def test_team_lead_cannot_assign_members_of_another_team(client, asd, asd_other_team, asdlead):
    client.force_login(asdlead)

    response = client.post(
        reverse("cases:deputy_list"),
        {
            "absent": asd.pk,
            "deputy": asd_other_team.pk,
            "valid_from": f"{f.today():%d.%m.%Y}",
            "valid_until": f"{f.today() + DAY:%d.%m.%Y}",
            "reason": "Urlaub",
        },
    )

    assert response.status_code == 400
    assert not DeputyAssignment.objects.exists()


def test_team_lead_revokes_a_deputy_and_it_is_audited(client, asd, asd_colleague, asdlead, case):
    assignment = deputise(asd, asd_colleague, asdlead, start=f.today(), end=f.today() + DAY)
    client.force_login(asdlead)

    client.post(reverse("cases:deputy_revoke", args=[assignment.pk]))

    assignment.refresh_from_db()
    assert assignment.revoked_at is not None
    assert AuditEntry.objects.filter(
        object_type="cases.deputyassignment",
        object_id=str(assignment.pk),
        action=AuditAction.CHANGE,
    ).exists()
    client.force_login(asd_colleague)
    assert client.post(note_url(case), {"kind": "note", "text": "x"}).status_code == 403


# --- Restricted and anonymised cases -----------------------------------------------------


@pytest.mark.parametrize("field", ["restricted_at", "anonymised_at"])
def test_restricted_or_anonymised_case_leaves_the_case_pages_for_everyone(
    client, request, case, field
):
    setattr(case, field, timezone.now())
    case.save(update_fields=[field])

    for persona in ("asd", "asdlead", "fachkraft"):
        user = request.getfixturevalue(persona)
        client.force_login(user)
        assert client.get(reverse("cases:case_detail", args=[case.pk])).status_code == 404
        assert case not in Case.objects.visible_to(user)
        assert case not in Case.objects.writable_by(user)


def test_flagging_asks_for_the_password_when_the_last_confirmation_is_stale(
    client, asd, case, settings
):
    settings.KIJUFAZ_REAUTH_MAX_AGE = 0
    client.force_login(asd)
    session = client.session
    session["auth_confirmed_at"] = 0
    session.save()

    response = client.post(
        reverse("cases:case_confidential", args=[case.pk]),
        {"confidential": "on", "reason": "Angehörige"},
    )

    case.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("confirm_password"))
    assert case.confidential is False


def test_provider_hour_sheet_offers_the_confidential_help_only_to_named_staff(
    client, fachkraft, confidential_case
):
    client.force_login(fachkraft)
    family = confidential_case.family.name

    unnamed = client.get(reverse("providers:hour_sheet")).content.decode()
    name(fachkraft, confidential_case)
    named = client.get(reverse("providers:hour_sheet")).content.decode()

    assert family not in unnamed
    assert family in named


def test_provider_lead_prints_no_proof_of_service_for_a_confidential_case_unless_named(
    client, traegerleitung, confidential_case
):
    help = confidential_case.helps.get()
    url = reverse("providers:proof_of_service", args=[help.pk, f.today().year, f.today().month])
    client.force_login(traegerleitung)

    unnamed = client.get(url)
    name(traegerleitung, confidential_case)
    named = client.get(url)

    assert (unnamed.status_code, named.status_code) == (404, 200)


def test_unnamed_team_lead_cannot_reach_the_access_page_of_a_confidential_case(
    client, asdlead, confidential_case
):
    client.force_login(asdlead)

    page = client.get(reverse("cases:case_access", args=[confidential_case.pk]))
    unflag = client.post(
        reverse("cases:case_confidential", args=[confidential_case.pk]), {"reason": "x"}
    )

    confidential_case.refresh_from_db()
    assert (page.status_code, unflag.status_code) == (404, 404)
    assert confidential_case.confidential is True


def test_named_team_lead_lifts_the_restriction_and_the_team_sees_the_case_again(
    client, asdlead, asd_colleague, confidential_case
):
    name(asdlead, confidential_case)
    client.force_login(asdlead)

    response = client.post(
        reverse("cases:case_confidential", args=[confidential_case.pk]),
        {"reason": "Kollegin ausgeschieden"},
    )

    confidential_case.refresh_from_db()
    assert response.status_code == 302
    assert confidential_case.confidential is False
    assert confidential_case in Case.objects.visible_to(asd_colleague)


# --- Hours on a confidential case at the provider -----------------------------------------


def _log_on(help, staff, minutes=75):
    from providers import services as provider_services
    from providers.models import Activity, HourKind

    entry, __ = provider_services.log_hours(
        staff=staff,
        idempotency_key=uuid.uuid4(),
        help=help,
        date=f.today(),
        minutes=minutes,
        kind=HourKind.CASE_SPECIFIC,
        activity=Activity.DIRECT_WORK,
    )
    return entry


def _lead_pages(client, staff) -> dict[str, str]:
    today = f.today()
    pages = {
        "overview": reverse("providers:overview"),
        "month review": reverse("providers:month_review", args=[staff.pk, today.year, today.month]),
    }
    text = {what: client.get(url).content.decode() for what, url in pages.items()}
    text["export"] = exported_text(client, "providers:export_csv", month=f"{today:%Y-%m}")
    return text


def test_provider_lead_sees_the_hours_on_a_confidential_case_but_not_whose_unless_named(
    client, english, fachkraft, traegerleitung, confidential_case
):
    """She approves her staff's hours on it, so they are on her pages; the family name and
    the file number are not, until she is named herself."""
    name(fachkraft, confidential_case)
    _log_on(confidential_case.helps.get(), fachkraft)
    family, reference = confidential_case.family.name, confidential_case.reference
    client.force_login(traegerleitung)

    unnamed = _lead_pages(client, fachkraft)
    name(traegerleitung, confidential_case)
    named = _lead_pages(client, fachkraft)

    for what, text in unnamed.items():
        assert family not in text, what
        assert reference not in text, what
        assert "confidential case" in text, what
    assert "75" in unnamed["month review"]
    for what, text in named.items():
        assert reference in text, what
        assert "confidential case" not in text, what


def test_a_staff_members_own_entries_hide_whose_they_are_once_her_access_ended(
    client, english, fachkraft, confidential_case
):
    grant = name(fachkraft, confidential_case)
    _log_on(confidential_case.helps.get(), fachkraft)
    client.force_login(fachkraft)
    assert confidential_case.family.name in client.get(reverse("providers:hour_sheet")).text

    grant.revoked_at = timezone.now()
    grant.save(update_fields=["revoked_at"])
    sheet = client.get(reverse("providers:hour_sheet")).text

    assert confidential_case.family.name not in sheet
    assert "confidential case" in sheet
