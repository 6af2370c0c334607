"""The region's resource map (Ressourcenplan): who may use it, what each role sees,
search and filters, CSV export and import (all rows or none), the printable list,
and the audit trail of changes.

ASD and provider staff work with the full directory; the department head and
controlling see which parts of the network carry the work (counts only, no
contact details); data protection and admin have no business here.
"""

import datetime
import io
import re
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape, strip_tags
from pypdf import PdfReader

from cases import resource_urls
from cases.models import ApprovalStatus, Resource, ResourceKind
from core.models import AuditAction, AuditEntry
from tests import factories as f
from tests.pages import status_as

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

ONE_DAY = datetime.timedelta(days=1)

CSV_HEADER = (
    "region;organisation;kind;street;postal_code;city;contact_person;phone;email;"
    "offer;opening_times;notes"
)

# The contact details of `jugendtreff`: the office roles must never see them.
CONTACT = {
    "contact_person": "Petra Jungmann",
    "phone": "0271 4711-23",
    "email": "treff@jugendtreff-weidenau.example",
    "street": "Weidenauer Straße 12",
    "postal_code": "57076",
}


def make_resource(region, organisation, kind=ResourceKind.YOUTH_CLUB, **extra) -> Resource:
    return Resource.objects.create(region=region, organisation=organisation, kind=kind, **extra)


@pytest.fixture
def jugendtreff(region):
    return make_resource(
        region,
        "Jugendtreff Weidenau",
        offer="Offener Treff, Hausaufgabenhilfe",
        opening_times="Mo–Fr 14–19 Uhr",
        city="Siegen",
        **CONTACT,
    )


@pytest.fixture
def kita(region):
    return make_resource(region, "Kita Regenbogen", ResourceKind.KINDERGARTEN)


@pytest.fixture
def sportverein(other_region):
    return make_resource(other_region, "TuS Siegen-Mitte", ResourceKind.SPORTS_CLUB)


def login(client, user):
    client.force_login(user)
    return client


def listed(response) -> list[str]:
    return [r.organisation for r in response.context["page"]]


def csv_file(text: str, encoding="utf-8", name="ressourcen.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def import_errors(response) -> list[str]:
    box = re.search(r'<ul class="mb-0 import-errors">(.*?)</ul>', response.content.decode(), re.S)
    assert box is not None, "no error list on the page"
    return [
        unescape(strip_tags(li)).strip() for li in re.findall(r"<li>(.*?)</li>", box.group(1), re.S)
    ]


# --- The permission matrix ------------------------------------------------------------

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

# A bound but invalid form: nothing can be saved.
INVALID_POST = {"unknown_field": ""}

# fmt: off
# Columns in the order of PERSONAS:
#                       anon asd  coll lead oteam staff plead oprov leit ctrl dsb  admin
READ_WITH_COUNTS     = (302, 200, 200, 200, 200, 200, 200, 200, 200, 200, 403, 403)
NETWORK_WORK         = (302, 200, 200, 200, 200, 200, 200, 200, 403, 403, 403, 403)
NETWORK_WORK_INVALID = (302, 400, 400, 400, 400, 400, 400, 400, 403, 403, 403, 403)

MATRIX = {
    ("resource_list", "GET"):    READ_WITH_COUNTS,
    # The list, the export and the printout only read: a POST is answered like a GET.
    ("resource_list", "POST"):   READ_WITH_COUNTS,
    ("resource_new", "GET"):     NETWORK_WORK,
    ("resource_new", "POST"):    NETWORK_WORK_INVALID,
    ("resource_edit", "GET"):    NETWORK_WORK,
    ("resource_edit", "POST"):   NETWORK_WORK_INVALID,
    ("resource_export", "GET"):  NETWORK_WORK,
    ("resource_export", "POST"): NETWORK_WORK,
    ("resource_print", "GET"):   NETWORK_WORK,
    ("resource_print", "POST"):  NETWORK_WORK,
    ("resource_import", "GET"):  NETWORK_WORK,
    ("resource_import", "POST"): NETWORK_WORK_INVALID,
}
# fmt: on

TAKES_RESOURCE = {"resource_edit"}


@pytest.mark.parametrize(("name", "method"), list(MATRIX), ids=[f"{n}-{m}" for n, m in MATRIX])
def test_each_persona_gets_the_status_the_access_rules_say(
    client, request, jugendtreff, name, method
):
    url = reverse(f"resources:{name}", args=[jugendtreff.pk] if name in TAKES_RESOURCE else [])
    expected = dict(zip(PERSONAS, MATRIX[name, method], strict=True))

    actual = {
        persona: status_as(client, request, persona, method, url, INVALID_POST)
        for persona in PERSONAS
    }

    assert actual == expected
    assert Resource.objects.count() == 1  # no invalid POST saved anything


def test_every_resources_url_is_in_the_permission_matrix_with_get_and_post():
    names = {pattern.name for pattern in resource_urls.urlpatterns}
    assert {(name, method) for name in names for method in ("GET", "POST")} == set(MATRIX)


# --- What the office roles see --------------------------------------------------------


@pytest.mark.parametrize("persona", ["leitung", "controlling"])
def test_office_roles_see_the_counts_without_contact_details(client, request, jugendtreff, persona):
    html = login(client, request.getfixturevalue(persona)).get(reverse("resources:resource_list"))
    html = html.content.decode()

    assert "Jugendtreff Weidenau" in html
    assert "Active helps using it" in html
    for field, value in CONTACT.items():
        assert escape(value) not in html, f"{field} is shown to {persona}"
    assert "Offener Treff" not in html  # nor the offer text
    for name in ("resource_new", "resource_import", "resource_export", "resource_print"):
        assert reverse(f"resources:{name}") not in html
    assert reverse("resources:resource_edit", args=[jugendtreff.pk]) not in html


def test_caseworker_sees_the_contact_details(client, asd, jugendtreff):
    """The counterpart of the office test: the values it looks for are on the page."""
    html = login(client, asd).get(reverse("resources:resource_list")).content.decode()

    for value in CONTACT.values():
        assert escape(value) in html
    assert reverse("resources:resource_edit", args=[jugendtreff.pk]) in html


# --- Active helps using a resource ----------------------------------------------------


@pytest.fixture
def helps_using_jugendtreff(asd, provider, jugendtreff):
    """Helps of different families, all involving the youth club; two run today."""
    today = f.today()

    def help_of(family_name, **kwargs):
        case = f.make_case(asd, family_name=family_name)
        help = f.make_help(case, provider, **kwargs)
        help.resources.add(jugendtreff)
        return help

    return {
        "running": help_of("Yilmaz"),
        "last_day_today": help_of("Kowalski", end=today, end_reason="as_planned"),
        "ended_yesterday": help_of("Becker", end=today - ONE_DAY, end_reason="as_planned"),
        "requested": help_of("Nowak", status=ApprovalStatus.REQUESTED),
        "rejected": help_of("Schulte", status=ApprovalStatus.REJECTED),
        "starts_tomorrow": help_of("Hoffmann", start=today + ONE_DAY),
    }


def test_active_help_count_counts_approved_helps_running_today(
    helps_using_jugendtreff, jugendtreff, kita
):
    counts = dict(
        Resource.objects.with_active_help_count().values_list("organisation", "active_helps")
    )

    # Running today: not ended before today, not merely requested or rejected, already started.
    assert counts == {"Jugendtreff Weidenau": 2, "Kita Regenbogen": 0}


def test_resource_list_shows_the_count_and_no_names(
    client, leitung, helps_using_jugendtreff, jugendtreff
):
    response = login(client, leitung).get(reverse("resources:resource_list"))
    html = response.content.decode()

    row = next(
        r for r in re.findall(r'<tr class="resource">(.*?)</tr>', html, re.S) if "Weidenau" in r
    )
    count_cell = re.search(r'<td class="text-end">(.*?)</td>', row, re.S).group(1)
    assert strip_tags(count_cell).strip() == "2"
    for help in helps_using_jugendtreff.values():
        assert help.case.family.name not in html
        assert help.case.reference not in html


# --- Search and filters ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["Jugendtreff Weidenau", "Kita Regenbogen", "TuS Siegen-Mitte"]),
        ({"region": "modellregion"}, ["Jugendtreff Weidenau", "Kita Regenbogen"]),
        ({"region": "siegen-mitte"}, ["TuS Siegen-Mitte"]),
        ({"kind": "kindergarten"}, ["Kita Regenbogen"]),
        ({"region": "siegen-mitte", "kind": "kindergarten"}, []),
        ({"q": "hausaufgaben"}, ["Jugendtreff Weidenau"]),
        ({"q": "regenbogen", "region": "modellregion"}, ["Kita Regenbogen"]),
        ({"kind": "no-such-kind"}, ["Jugendtreff Weidenau", "Kita Regenbogen", "TuS Siegen-Mitte"]),
    ],
    ids=[
        "all",
        "region",
        "other-region",
        "kind",
        "region-and-kind",
        "search",
        "search-in-region",
        "bad-kind-ignored",
    ],
)
def test_search_and_filter_by_region_and_kind(
    client, asd, jugendtreff, kita, sportverein, query, expected
):
    response = login(client, asd).get(reverse("resources:resource_list"), query)

    assert response.status_code == 200
    assert sorted(listed(response)) == expected


def test_export_follows_the_filter(client, asd, jugendtreff, kita, sportverein):
    response = login(client, asd).get(
        reverse("resources:resource_export"), {"region": "siegen-mitte"}
    )

    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "TuS Siegen-Mitte" in text
    assert "Jugendtreff Weidenau" not in text


# --- CSV export and import --------------------------------------------------------------


def _snapshot() -> list[tuple]:
    fields = [field.name for field in Resource._meta.fields]
    fields = [name for name in fields if name not in ("id", "updated_at")]
    return sorted(Resource.objects.values_list(*fields))


def test_exported_csv_imports_back_to_the_same_entries(client, asd, jugendtreff, kita, sportverein):
    make_resource(
        kita.region,
        'Beratungsstelle "Känguru"; Erziehungs- und Familienberatung',
        ResourceKind.COUNSELLING,
        offer="Beratung für Eltern\nund Jugendliche; auch anonym",
        notes="Wartezeit ca. 3 Wochen",
    )
    login(client, asd)
    before = _snapshot()
    exported = b"".join(client.get(reverse("resources:resource_export")).streaming_content)
    Resource.objects.all().delete()

    response = client.post(
        reverse("resources:resource_import"), {"file": SimpleUploadedFile("x.csv", exported)}
    )

    assert response.status_code == 302
    assert _snapshot() == before
    imported = AuditEntry.objects.filter(action=AuditAction.CREATE, object_type="cases.resource")
    assert imported.count() == 4


def test_import_reports_every_bad_line_and_saves_nothing(client, asd, jugendtreff):
    before = Resource.objects.count()
    rows = [
        "modellregion;Familienzentrum Lindenberg;initiative;;57072;Siegen;;;;;;",
        "nordpol;Eisbärenclub;youth_club;;57072;Siegen;;;;;;",
        "modellregion;Zirkus Kunterbunt;zirkus;;57072;Siegen;;;;;;",
        "modellregion;Grundschule Weidenau;school;;5707;Siegen;;;;;;",
        "modellregion;;church;;57072;Siegen;;;;;;",
        "modellregion;Stadtteilbüro Weidenau;other;;57076;Siegen;;;;;;",
        "modellregion;Stadtteilbüro Weidenau;other;;57076;Siegen;;;;;;",
        "modellregion;Jugendtreff Weidenau;youth_club;;57076;Siegen;;;;;;",
    ]

    response = login(client, asd).post(
        reverse("resources:resource_import"),
        {"file": csv_file("\n".join([CSV_HEADER, *rows]))},
    )

    assert response.status_code == 400
    assert import_errors(response) == [
        "Line 3: Region: Select a valid choice. That choice is not one of the available choices.",
        "Line 4: Kind: Select a valid choice. zirkus is not one of the available choices.",
        "Line 5: Postal code: A German postal code has exactly five digits.",
        "Line 6: Organisation: This field is required.",
        "Line 8: the organisation appears twice in the file.",
        "Line 9: This organisation is already on the region's map.",
    ]
    assert Resource.objects.count() == before
    assert not Resource.objects.filter(organisation="Familienzentrum Lindenberg").exists()


def test_import_accepts_the_kind_as_shown_in_the_list(client, asd, region):
    response = login(client, asd).post(
        reverse("resources:resource_import"),
        {"file": csv_file(f"{CSV_HEADER}\nmodellregion;SV Weidenau;Sports club;;;Siegen;;;;;;")},
    )

    assert response.status_code == 302
    assert Resource.objects.get(organisation="SV Weidenau").kind == ResourceKind.SPORTS_CLUB


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (
            csv_file(
                f"{CSV_HEADER}\nmodellregion;Jugendhilfe Träger;other;;;Siegen;;;;;;", "latin-1"
            ),
            "The file is not UTF-8 encoded text.",
        ),
        (csv_file(""), "The submitted file is empty."),
        (csv_file(CSV_HEADER + "\n"), "The file has no data lines."),
        (csv_file("a,b,c\n1,2,3\n"), "The header line must name the columns"),
    ],
    ids=["latin-1", "empty", "header-only", "no-header"],
)
def test_an_unreadable_file_gets_a_clear_message(client, asd, region, upload, message):
    response = login(client, asd).post(reverse("resources:resource_import"), {"file": upload})

    assert response.status_code == 400
    assert escape(message) in response.content.decode()
    assert not Resource.objects.exists()


# --- The printable list -------------------------------------------------------------------


def test_printable_list_is_a_pdf_with_the_regions_organisations(
    client, traegerleitung, jugendtreff, kita, sportverein
):
    response = login(client, traegerleitung).get(
        reverse("resources:resource_print"), {"region": "modellregion"}
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    pages = PdfReader(io.BytesIO(response.content)).pages
    text = " ".join(" ".join(page.extract_text().split()) for page in pages)  # unwrap lines
    assert "Jugendtreff Weidenau" in text
    assert "Kita Regenbogen" in text
    assert "TuS Siegen-Mitte" not in text
    assert "Modellregion Siegen-Nord" in text


# --- Audit ----------------------------------------------------------------------------------


def test_new_entry_is_audited_as_created(client, fachkraft, region):
    response = login(client, fachkraft).post(
        reverse("resources:resource_new"),
        {
            "region": region.pk,
            "organisation": "Tafel Siegen",
            "kind": "initiative",
            "city": "Siegen",
        },
    )

    assert response.status_code == 302
    resource = Resource.objects.get(organisation="Tafel Siegen")
    entry = AuditEntry.objects.get(object_type="cases.resource", object_id=str(resource.pk))
    assert (entry.user, entry.action) == (fachkraft, AuditAction.CREATE)
    assert {"region", "organisation", "kind"} <= set(entry.changes["fields"])


def test_edit_is_audited_with_the_changed_field_names_only(client, asd, jugendtreff):
    data = {
        field: getattr(jugendtreff, field)
        for field in ("organisation", "kind", "street", "postal_code", "city", "contact_person")
        + ("email", "offer", "opening_times", "notes")
    }

    response = login(client, asd).post(
        reverse("resources:resource_edit", args=[jugendtreff.pk]),
        {**data, "region": jugendtreff.region_id, "phone": "0271 999"},
    )

    assert response.status_code == 302
    jugendtreff.refresh_from_db()
    assert jugendtreff.phone == "0271 999"
    entry = AuditEntry.objects.get(object_type="cases.resource", object_id=str(jugendtreff.pk))
    assert (entry.user, entry.action) == (asd, AuditAction.CHANGE)
    assert entry.changes == {"fields": ["phone"]}  # names, never values


def test_a_csv_file_with_a_stray_carriage_return_is_refused_with_a_message(asd):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from cases import services as case_services

    broken = SimpleUploadedFile(
        "ressourcen.csv", b"region;organisation;kind\nmodellregion;Kita\rSonne;kindergarten\n"
    )

    with pytest.raises(case_services.ImportErrors) as failure:
        case_services.import_resources(file=broken, by=asd)

    assert failure.value.lines
