"""Garbage in, a 4xx with a message out: no form and no query parameter answers 500.

Each form is fetched once as the persona allowed to use it; its field names and
initial values are read from the HTML, and hypothesis replaces some of them with
garbage (overlong text, RTL/emoji/combining marks, NUL bytes, huge and negative
numbers, malformed dates, ids of nothing, lists where one value is expected).
Every example runs in a savepoint that is rolled back, so an accepted post does
not change the world the next example sees.
"""

import datetime
import uuid
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from budgets import services as budget_services
from cases import services as case_services
from controlling.models import Workshop
from privacy.models import RetentionRule, RetentionRun
from providers import services as provider_services
from providers.models import Activity, HourKind
from tests import factories as f
from tests.budgets.conftest import make_contract

pytestmark = pytest.mark.django_db

FORM_EXAMPLES = 10
QUERY_EXAMPLES = 12
FUZZ = settings(
    max_examples=FORM_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- Garbage -----------------------------------------------------------------------------

MALFORMED = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "-1",
    "0",
    "-99999999999999999999",
    "99999999999999999999999999999999999999",
    "2147483648",
    "1e309",
    "NaN",
    "-0,00",
    "1.234.567,891",
    "2026-13-45",
    "31.02.2026",
    "0000-00-00",
    "9999-12-31",
    "2026-W99",
    "2026-W",
    "abc",
    "\u202egnirts-lti\u202c",  # RTL override
    "مرحبا بالعالم",
    "שלום",
    "👨‍👩‍👧‍👦🔥",
    "e\u0301\u0301\u0301\u0301",
    "Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f",
    "<script>alert(1)</script>",
    "'; DROP TABLE cases_case; --",
    "%s%s%n",
    "../../../etc/passwd",
    "None",
    "true",
    "[]",
]
text = st.one_of(
    st.sampled_from(MALFORMED),
    st.just("x" * 10_000),
    st.just("ü" * 10_000),
    st.text(max_size=40),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.decimals(allow_nan=True, allow_infinity=True, places=3).map(str),
)
value = st.one_of(text, st.lists(text, min_size=2, max_size=3))

# --- The forms: which page, as whom -----------------------------------------------------


class _FormFields(HTMLParser):
    """Name -> initial values of the fields of the page's POST forms that submit to `url`."""

    def __init__(self, url: str):
        super().__init__()
        self.url, self.fields, self.files = url, {}, set()
        self.in_form = self.in_select = False
        self.select_name, self.textarea = None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            action = a.get("action") or self.url
            self.in_form = a.get("method", "").lower() == "post" and action == self.url
        if not self.in_form:
            return
        name = a.get("name")
        if tag == "input" and name and name != "csrfmiddlewaretoken":
            kind = a.get("type", "text")
            if kind == "file":
                self.files.add(name)
            elif kind not in ("checkbox", "radio") or "checked" in a:
                self.fields.setdefault(name, []).append(a.get("value", ""))
            else:
                self.fields.setdefault(name, [])
        elif tag == "button" and name:
            self.fields.setdefault(name, []).append(a.get("value", ""))
        elif tag == "textarea" and name:
            self.textarea = name
            self.fields.setdefault(name, []).append("")
        elif tag == "select" and name:
            self.select_name = name
            self.fields.setdefault(name, [])
        elif tag == "option" and self.select_name:
            values = self.fields[self.select_name]
            if "selected" in a or not values:
                values[:] = [a.get("value", "")]

    def handle_data(self, data):
        if self.textarea:
            self.fields[self.textarea][-1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_form = False
        elif tag == "select":
            self.select_name = None
        elif tag == "textarea":
            self.textarea = None


@pytest.fixture
def world(
    asd,
    asd_colleague,
    asdlead,
    fachkraft,
    traegerleitung,
    leitung,
    controlling,
    datenschutz,
    case,
    provider,
    region,
    other_region,
):
    today = timezone.localdate()
    # The verification page needs an account with an authenticator (a wrong code is refused).
    TOTPDevice.objects.create(user=asd_colleague, name="Authenticator-App", confirmed=True)
    help = case.helps.get()
    entry, __ = provider_services.log_hours(
        staff=fachkraft,
        idempotency_key=uuid.uuid4(),
        help=help,
        date=today - datetime.timedelta(days=1),
        minutes=60,
        kind=HourKind.CASE_SPECIFIC,
        activity=Activity.DIRECT_WORK,
    )
    provider_services.approve_month(staff=fachkraft, month=entry.date, by=traegerleitung)
    contract = make_contract(region, today.year, providers=[provider])
    reallocation = budget_services.propose_reallocation(
        contract=contract,
        direction="to_flexible",
        amount=Decimal("300.00"),
        reason="Rückführung in die Region",
        by=controlling,
    )
    workshop = Workshop.objects.create(
        region=region,
        date=today,
        title="Controllingworkshop",
        participants_office="Amtsleitung",
        participants_providers="Teamleitung",
        created_by=controlling,
    )
    staff_month = [fachkraft.pk, entry.date.year, entry.date.month]
    entrusted_note = case_services.add_note(
        case=case, kind="note", text="Anvertraut", by=asd, entrusted=True
    )
    rule = RetentionRule.objects.get(record_type="case_help")
    run = RetentionRun.objects.create(due_on=today, due={"rules": []})
    restricted = f.make_case(
        asd,
        family_name="Gesperrt",
        opened_on=datetime.date(2015, 1, 5),
        status="closed",
        closed_on=datetime.date(2018, 6, 30),
        restricted_at=timezone.now(),
    )
    return {
        "cases:case_open": (asd, []),
        "cases:help_add": (asd, [case.pk]),
        "cases:plan_new": (asd, [help.pk]),
        "cases:note_add": (asd, [case.pk]),
        "cases:risk_add": (asd, [case.pk]),
        "cases:consultation_add": (asd, [case.pk]),
        "cases:case_close": (asd, [case.pk]),
        "cases:family_edit": (asd, [case.family_id]),
        "cases:person_add": (asd, [case.family_id]),
        "cases:case_access": (asd, [case.pk]),
        "cases:case_confidential": (asd, [case.pk]),
        "cases:deputy_list": (asdlead, []),
        "cases:note_readers": (asd, [entrusted_note.pk]),
        "providers:hour_sheet": (fachkraft, []),
        "providers:group_split": (fachkraft, []),
        "providers:group_offer_new": (traegerleitung, []),
        "providers:month_review": (traegerleitung, staff_month),
        "providers:entry_correct": (fachkraft, [entry.pk]),
        "budgets:posting_new": (controlling, [contract.pk]),
        "budgets:reallocation_new": (controlling, [contract.pk]),
        "budgets:reallocation_decide": (leitung, [reallocation.pk]),
        "controlling:report_list": (controlling, []),
        "controlling:workshop_new": (controlling, []),
        "controlling:workshop_detail": (controlling, [workshop.pk]),
        "resources:resource_new": (asd, []),
        "resources:resource_import": (asd, []),
        "confirm_password": (asd, []),
        "two_factor_setup": (asd, []),
        "two_factor_verify": (asd_colleague, []),
        "privacy:retention_rule_edit": (datenschutz, [rule.pk]),
        "privacy:retention_run_reject": (datenschutz, [run.pk]),
        "privacy:retention_holds": (datenschutz, []),
        "privacy:restricted_access": (asd, [restricted.pk]),
    }


FORMS = [
    "cases:case_open",
    "cases:help_add",
    "cases:plan_new",
    "cases:note_add",
    "cases:risk_add",
    "cases:consultation_add",
    "cases:case_close",
    "cases:family_edit",
    "cases:person_add",
    "cases:case_access",
    "cases:case_confidential",
    "cases:deputy_list",
    "cases:note_readers",
    "providers:hour_sheet",
    "providers:group_split",
    "providers:group_offer_new",
    "providers:month_review",
    "providers:entry_correct",
    "budgets:posting_new",
    "budgets:reallocation_new",
    "budgets:reallocation_decide",
    "controlling:report_list",
    "controlling:workshop_new",
    "controlling:workshop_detail",
    "resources:resource_new",
    "resources:resource_import",
    "confirm_password",
    "two_factor_setup",
    "two_factor_verify",
    "privacy:retention_rule_edit",
    "privacy:retention_run_reject",
    "privacy:retention_holds",
    "privacy:restricted_access",
]
# The note form lives on the case page; its own URL takes POST only.
FORM_PAGE = {
    "cases:note_add": ("cases:case_detail", "cases:note_add"),
    "cases:case_confidential": ("cases:case_access", "cases:case_confidential"),
    "privacy:retention_run_reject": ("privacy:retention_run", "privacy:retention_run_reject"),
}
DOMAIN_APPS = ("cases", "providers", "budgets", "controlling")


def _counts() -> dict[str, int]:
    return {
        m._meta.label: m._default_manager.count()
        for app in DOMAIN_APPS
        for m in apps.get_app_config(app).get_models()
    }


def _form_fields(client: Client, name: str, args: list) -> tuple[str, dict, set]:
    url = reverse(name, args=args)
    page_name = FORM_PAGE.get(name, (name,))[0]
    response = client.get(reverse(page_name, args=args))
    assert response.status_code == 200, (name, response.status_code)
    parser = _FormFields(url)
    parser.feed(response.text)
    return url, parser.fields, parser.files


def _garbage_post(data, fields: dict, files: set) -> dict:
    post = {}
    for field, initial in fields.items():
        choice = data.draw(st.sampled_from(["keep", "garbage", "garbage", "drop"]), label=field)
        if choice == "keep":
            post[field] = initial
        elif choice == "garbage":
            post[field] = data.draw(value, label=field)
    for field in files:
        content = data.draw(
            st.one_of(
                st.binary(max_size=200),
                st.just(b"PK\x03\x04" + b"\x00" * 100),
                st.lists(value.map(str), min_size=1, max_size=12).map(
                    lambda cells: (";".join(cells) + "\n").encode("utf-8", "surrogatepass")
                ),
                st.just(b"\xff\xfe" + "Träger;Art\n".encode("utf-16-le")),
            ),
            label=field,
        )
        filename = data.draw(st.sampled_from(["r.csv", "r.xlsx", "r", "ü\u202e.csv"]))
        post[field] = SimpleUploadedFile(filename, content)
    return post


@pytest.mark.parametrize("name", FORMS)
@FUZZ
@given(data=st.data())
def test_garbage_posts_are_refused_with_a_message_never_a_500(world, name, data):
    user, args = world[name]
    client = Client()
    client.force_login(user)
    url, fields, files = _form_fields(client, name, args)
    assert fields or files, f"no fields found on the page of {name}"
    post = _garbage_post(data, fields, files)

    with transaction.atomic():
        before = _counts()
        response = client.post(url, post)
        after = _counts()
        transaction.set_rollback(True)

    assert response.status_code < 500
    if response.status_code in (301, 302, 303):
        return  # accepted: the garbage was valid input (odd text is still text)
    # 409: the help plan's optimistic lock saw a garbled version number.
    assert response.status_code in (200, 400, 409), response.status_code
    assert after == before, "a refused form saved something"
    if not post:
        return  # `request.POST or None`: an empty POST just shows the form again
    if name == "controlling:workshop_detail" and post.get("form") not in fields["form"]:
        return  # no sub-form named: see test_workshop_post_without_a_form_name_says_so
    html = response.text
    shown = list(get_messages(response.wsgi_request))
    assert (
        shown
        or "invalid-feedback" in html
        or "alert-danger" in html
        or "errorlist" in html
        or "is-invalid" in html
    )


@pytest.mark.parametrize("name", FORMS)
def test_every_field_at_once_nul_overlong_or_a_list_is_refused(world, name):
    # Django's form fields refuse NUL ("Null characters are not allowed.") before
    # PostgreSQL would; overlong text and repeated values are refused as well.
    user, args = world[name]
    client = Client()
    client.force_login(user)
    url, fields, files = _form_fields(client, name, args)
    for garbage in ("a\x00b", "x" * 10_000, ["1", "-1", "2026-13-45"]):
        post = dict.fromkeys(fields, garbage)
        post.update({f: SimpleUploadedFile("r.csv", b"a\x00b;\xff\n") for f in files})
        with transaction.atomic():
            before = _counts()
            response = client.post(url, post)
            after = _counts()
            transaction.set_rollback(True)
        assert response.status_code in (200, 400, 409), (garbage[:10], response.status_code)
        assert after == before


# --- Query parameters ------------------------------------------------------------------

PARAMS = [
    "page",
    "week",
    "month",
    "year",
    "ordering",
    "q",
    "region",
    "kind",
    "status",
    "legal_basis",
    "review_overdue",
    # The audit log viewer's filters.
    "user",
    "person",
    "case",
    "action",
    "date_from",
    "date_to",
    # The team lead's help search on the hour sheet.
    "help_q",
]


@pytest.fixture
def pages(asd, fachkraft, traegerleitung, leitung, controlling, datenschutz, case, region):
    contract = make_contract(region, timezone.localdate().year)
    return [
        (asd, reverse("desk")),
        (asd, reverse("cases:case_list")),
        (asd, reverse("cases:case_export_csv")),
        (asd, reverse("resources:resource_list")),
        (asd, reverse("resources:resource_export")),
        (fachkraft, reverse("providers:hour_sheet")),
        (traegerleitung, reverse("providers:overview")),
        (traegerleitung, reverse("providers:hour_sheet")),
        (traegerleitung, reverse("providers:group_offer_list")),
        (fachkraft, reverse("providers:export_csv")),
        (leitung, reverse("providers:summary")),
        (controlling, reverse("budgets:dashboard")),
        (controlling, reverse("budgets:export_csv")),
        (controlling, reverse("budgets:contract_detail", args=[contract.pk])),
        (controlling, reverse("controlling:report_list")),
        (controlling, reverse("controlling:workshop_list")),
        (datenschutz, reverse("privacy:audit_log")),
        (datenschutz, reverse("privacy:audit_export_csv")),
        (datenschutz, reverse("privacy:access_request")),
    ]


@settings(
    max_examples=QUERY_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@example(params=dict.fromkeys(PARAMS, "a\x00b"))
@example(params=dict.fromkeys(PARAMS, ["1", "x" * 10_000]))
@example(params=dict.fromkeys(PARAMS, "99999999999999999999"))
@given(params=st.dictionaries(st.sampled_from(PARAMS), value, min_size=1, max_size=6))
def test_garbage_query_parameters_never_answer_500(pages, params):
    clients = {}
    for user, url in pages:
        if user.pk not in clients:
            clients[user.pk] = Client()
            clients[user.pk].force_login(user)
        with transaction.atomic():
            response = clients[user.pk].get(url, params)
            transaction.set_rollback(True)
        assert response.status_code == 200, (url, params, response.status_code)


@pytest.mark.parametrize(
    ("persona", "page", "param"),
    [
        ("fachkraft", "providers:hour_sheet", "week"),
        ("traegerleitung", "providers:overview", "month"),
        ("controlling", "budgets:dashboard", "year"),
    ],
)
@pytest.mark.parametrize("bad", ["2026-13-45", "31.02.2026", "abc", "\x00", "-1", "9" * 40])
def test_a_period_parameter_not_understood_is_said_so(request, client, persona, page, param, bad):
    client.force_login(request.getfixturevalue(persona))

    response = client.get(reverse(page), {param: bad})

    assert response.status_code == 200
    levels = [m.level_tag for m in get_messages(response.wsgi_request)]
    assert "warning" in levels


def test_workshop_post_without_a_form_name_says_so(client, controlling, region):
    workshop = Workshop.objects.create(
        region=region,
        date=timezone.localdate(),
        title="Controllingworkshop",
        participants_office="Amtsleitung",
        participants_providers="Teamleitung",
        created_by=controlling,
    )
    client.force_login(controlling)

    response = client.post(
        reverse("controlling:workshop_detail", args=[workshop.pk]), {"form": "nonsense"}
    )

    assert response.status_code == 400
    assert list(get_messages(response.wsgi_request))
