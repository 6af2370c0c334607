"""Who may open which Hilfeleisterteam page (DOMAIN.md "Roles and what each may see").

The matrix below is the contract: every URL of the `providers` namespace, for
every persona, GET and (for form and action views) POST with an invalid body.
Provider staff log and see only their own entries, the provider's team lead sees
the provider's; department head and controller only get the sums; ASD, data
protection and admin never use these pages (403). Objects outside the user's
scope answer 404, so ids cannot be probed; anonymous users go to the login page.
"""

import csv
import datetime
import io
import uuid

import pytest
from django.urls import reverse
from django.utils.translation import gettext

from core.models import Role
from providers import services
from providers import urls as providers_urls
from providers.models import GroupOffer, HourEntry
from tests import factories as f
from tests.pages import status_as

from .conftest import TODAY

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
    "overview": None,
    "hour_sheet": None,
    "entry_edit": "open_entry",
    # Delete and correct point at an approved entry: a permitted POST is refused by
    # the service and leaves the world unchanged for the personas after it.
    "entry_delete": "approved_entry",
    "entry_correct": "approved_entry",
    "copy_last_week": None,
    "group_split": None,
    "month_review": "staff_month",
    "export_csv": None,
    "export_xlsx": None,
    "proof_of_service": "help_month",
    "summary": None,
    "group_offer_list": None,
    "group_offer_new": None,
    "group_offer_detail": "offer",
}

# fmt: off
# Columns in the order of PERSONAS:
#                     anon asd  coll lead oteam staff plead oprov leit ctrl dsb  admin
PROVIDER_PAGE      = (302, 403, 403, 403, 403, 200, 200, 200, 403, 403, 403, 403)
PROVIDER_FORM_POST = (302, 403, 403, 403, 403, 400, 400, 400, 403, 403, 403, 403)
OWN_ENTRY          = (302, 403, 403, 403, 403, 200, 404, 404, 403, 403, 403, 403)
OWN_PROVIDER       = (302, 403, 403, 403, 403, 200, 200, 404, 403, 403, 403, 403)
OWN_PROVIDER_POST  = (302, 403, 403, 403, 403, 400, 400, 404, 403, 403, 403, 403)
LEAD_ONLY          = (302, 403, 403, 403, 403, 403, 200, 403, 403, 403, 403, 403)
POST_ONLY_GET      = (302, 403, 403, 403, 403, 405, 405, 405, 403, 403, 403, 403)

MATRIX = {
    # The lead's overview; staff land on their sheet, the office on the sums.
    ("overview", "GET"):           (302, 403, 403, 403, 403, 302, 200, 302, 302, 302, 403, 403),
    ("hour_sheet", "GET"):         PROVIDER_PAGE,
    ("hour_sheet", "POST"):        PROVIDER_FORM_POST,
    ("entry_edit", "GET"):         OWN_ENTRY,
    ("entry_edit", "POST"):        (302, 403, 403, 403, 403, 400, 404, 404, 403, 403, 403, 403),
    ("entry_delete", "GET"):       POST_ONLY_GET,
    ("entry_delete", "POST"):      (302, 403, 403, 403, 403, 302, 404, 404, 403, 403, 403, 403),
    # The lead may correct her staff's approved entries too.
    ("entry_correct", "GET"):      OWN_PROVIDER,
    ("entry_correct", "POST"):     OWN_PROVIDER_POST,
    ("copy_last_week", "GET"):     POST_ONLY_GET,
    ("copy_last_week", "POST"):    (302, 403, 403, 403, 403, 302, 302, 302, 403, 403, 403, 403),
    ("group_split", "GET"):        PROVIDER_PAGE,
    ("group_split", "POST"):       PROVIDER_FORM_POST,
    ("month_review", "GET"):       LEAD_ONLY,
    ("month_review", "POST"):      (302, 403, 403, 403, 403, 403, 400, 403, 403, 403, 403, 403),
    ("export_csv", "GET"):         PROVIDER_PAGE,
    ("export_xlsx", "GET"):        PROVIDER_PAGE,
    # The proof of service goes out under the lead's responsibility.
    ("proof_of_service", "GET"):   (302, 403, 403, 403, 403, 403, 200, 404, 403, 403, 403, 403),
    ("summary", "GET"):            (302, 403, 403, 403, 403, 403, 403, 403, 200, 200, 403, 403),
    ("group_offer_list", "GET"):   PROVIDER_PAGE,
    ("group_offer_new", "GET"):    PROVIDER_PAGE,
    ("group_offer_new", "POST"):   PROVIDER_FORM_POST,
    ("group_offer_detail", "GET"): OWN_PROVIDER,
    ("group_offer_detail", "POST"): OWN_PROVIDER_POST,
}
# fmt: on


@pytest.fixture
def world(fachkraft, traegerleitung, help, region, log):
    approved = log(fachkraft, help=help, date=datetime.date(2026, 10, 20))
    services.approve_month(staff=fachkraft, month=approved.date, by=traegerleitung)
    offer = GroupOffer.objects.create(
        provider=help.provider,
        region=region,
        topic="Elterncafé",
        target_group="Eltern mit Kindern unter 6",
        starts_on=TODAY - datetime.timedelta(days=30),
    )
    return {
        "open_entry": [log(fachkraft, help=help).pk],
        "approved_entry": [approved.pk],
        "staff_month": [fachkraft.pk, TODAY.year, TODAY.month],
        "help_month": [help.pk, TODAY.year, TODAY.month],
        "offer": [offer.pk],
    }


def _url(name: str, world: dict) -> str:
    target = TARGET[name]
    return reverse(f"providers:{name}", args=world[target] if target else [])


@pytest.mark.parametrize(("name", "method"), list(MATRIX), ids=[f"{n}-{m}" for n, m in MATRIX])
def test_each_persona_gets_the_status_the_access_table_says(client, request, world, name, method):
    url = _url(name, world)
    expected = dict(zip(PERSONAS, MATRIX[name, method], strict=True))
    actual = {
        persona: status_as(client, request, persona, method, url, INVALID_POST)
        for persona in PERSONAS
    }
    assert actual == expected


def test_every_providers_url_is_in_the_permission_matrix():
    names = {pattern.name for pattern in providers_urls.urlpatterns}
    in_matrix = {name for name, __ in MATRIX}
    assert names == in_matrix
    assert set(TARGET) == in_matrix


def test_every_post_row_has_a_get_row():
    assert {name for name, method in MATRIX if method == "POST"} <= {
        name for name, method in MATRIX if method == "GET"
    }


# --- Focused rules ----------------------------------------------------------------


@pytest.fixture
def colleague(provider):
    """A second professional of `provider`, fachkraft's colleague."""
    return f.make_user(
        "kollegin", Role.PROVIDER_STAFF, provider=provider, first_name="Gerda", last_name="Hahn"
    )


def test_staff_cannot_see_a_colleagues_entry(staff_client, colleague, help, log):
    theirs = log(colleague, help=help, note="Hausbesuch Gerda")

    for name in ("entry_edit", "entry_correct"):
        assert staff_client.get(reverse(f"providers:{name}", args=[theirs.pk])).status_code == 404
    assert staff_client.post(reverse("providers:entry_delete", args=[theirs.pk])).status_code == 404
    sheet = staff_client.get(reverse("providers:hour_sheet")).content.decode()
    assert "Hausbesuch Gerda" not in sheet
    assert HourEntry.objects.filter(pk=theirs.pk).exists()


def test_staff_cannot_log_on_another_providers_help(staff_client, other_help):
    response = staff_client.post(
        reverse("providers:hour_sheet"),
        {
            "idempotency_key": str(uuid.uuid4()),
            "date": TODAY.isoformat(),
            "minutes": "60",
            "kind": "case_specific",
            "help": other_help.pk,
            "activity": "direct_work",
        },
    )

    assert response.status_code == 400
    assert "help" in response.context["form"].errors
    assert not HourEntry.objects.exists()


def test_lead_cannot_open_another_providers_help_or_offer(
    lead_client, other_help, other_provider, region
):
    offer = GroupOffer.objects.create(
        provider=other_provider,
        region=region,
        topic="Väterfrühstück",
        target_group="Väter",
        starts_on=TODAY,
    )

    proof = reverse("providers:proof_of_service", args=[other_help.pk, TODAY.year, TODAY.month])
    assert lead_client.get(proof).status_code == 404
    detail = reverse("providers:group_offer_detail", args=[offer.pk])
    assert lead_client.get(detail).status_code == 404


def _csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body.removeprefix("\ufeff")), delimiter=";"))


def test_leads_export_holds_only_her_providers_entries(
    lead_client, fachkraft, traegerleitung, fachkraft_other_provider, help, other_help, log
):
    log(fachkraft, help=help, note="Eintrag Fachkraft")
    log(traegerleitung, minutes=30, note="Eintrag Leitung")
    log(fachkraft_other_provider, help=other_help, note="Eintrag SkF")

    response = lead_client.get(reverse("providers:export_csv") + "?month=2026-11")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    header, *rows = _csv_rows(response)
    note, professional = header.index(gettext("Note")), header.index(gettext("Professional"))
    assert sorted(row[note] for row in rows) == ["Eintrag Fachkraft", "Eintrag Leitung"]
    assert {row[professional] for row in rows} == {"Eva Fuchs", "Frank Berg"}
    assert other_help.case.reference not in {cell for row in rows for cell in row}


def test_staff_export_holds_only_her_own_entries(staff_client, fachkraft, colleague, help, log):
    log(fachkraft, help=help, note="meins")
    log(colleague, help=help, note="Kollegin")

    header, *rows = _csv_rows(staff_client.get(reverse("providers:export_csv")))

    assert [row[header.index(gettext("Note"))] for row in rows] == ["meins"]


def test_department_heads_summary_shows_sums_but_no_names(
    client, leitung, fachkraft, traegerleitung, help, log
):
    log(fachkraft, help=help, minutes=90, note="Hausbesuch Yilmaz")
    log(traegerleitung, minutes=30)
    client.force_login(leitung)

    html = client.get(reverse("providers:summary")).content.decode()

    assert help.provider.name in html
    assert "2,00" in html  # 120 minutes in total
    for name in ("Eva Fuchs", "Fuchs", "Frank Berg", "Yilmaz", "Mehmet", help.case.reference):
        assert name not in html


def test_case_page_shows_delivered_hours_to_the_caseworker(client, asd, case, fachkraft, log):
    help = case.helps.get()
    log(fachkraft, help=help, minutes=90)
    log(fachkraft, help=help, minutes=60, date=datetime.date(2026, 10, 5))
    client.force_login(asd)

    html = client.get(reverse("cases:case_detail", args=[case.pk])).content.decode()

    assert '<dd class="col-sm-3 delivered-month">1,50 h</dd>' in html
    assert '<dd class="col-sm-3 delivered-total">2,50 h</dd>' in html
