"""Who may open which budget page (DOMAIN.md "Roles and what each may see").

The matrix below is the contract: every URL of the `budgets` namespace, for every
persona, GET and (for form pages) POST with an invalid body. The department head and
the controller see every contract; a provider team lead reads the contracts her
provider is a party to (another contract → 404, writing → 403); every other role → 403;
anonymous → the login page.
"""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from budgets import services
from budgets import urls as budgets_urls
from budgets.dashboard import drill_down
from cases.models import LegalBasis
from core.templatetags.kijufaz import euro
from tests import factories as f
from tests.pages import comparable_page, status_as

from .conftest import make_ambulant_help, make_contract, make_placement

pytestmark = pytest.mark.django_db

PERSONAS = (
    "anonymous",
    "asd",
    "asdlead",
    "fachkraft",
    "traegerleitung",
    "traegerleitung_other",
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
    "dashboard": None,
    "export_csv": None,
    "export_xlsx": None,
    "chart": "chart",
    "contract_detail": "contract",
    "posting_new": "contract",
    "reallocation_new": "contract",
    "close_month": "contract",
    "reallocation_decide": "pending",
    "reallocation_reverse": "approved",
}

# fmt: off
# Columns in the order of PERSONAS (plead: lead of the contract's provider; olead: lead of
# a provider outside the contract):
#              anon asd  alead staff plead olead ostaf leit ctrl dsb  admin
READ       = (302, 403, 403,  403,  200,  200,  403,  200, 200, 403, 403)
CONTRACT   = (302, 403, 403,  403,  200,  404,  403,  200, 200, 403, 403)
OFFICE     = (302, 403, 403,  403,  403,  403,  403,  200, 200, 403, 403)
OFFICE_BAD = (302, 403, 403,  403,  403,  403,  403,  400, 400, 403, 403)
HEAD       = (302, 403, 403,  403,  403,  403,  403,  200, 403, 403, 403)
HEAD_BAD   = (302, 403, 403,  403,  403,  403,  403,  400, 403, 403, 403)

MATRIX = {
    ("dashboard", "GET"):             READ,
    ("export_csv", "GET"):            READ,
    ("export_xlsx", "GET"):           READ,
    # A chart of a region she does not see answers 404, like a missing one.
    ("chart", "GET"):                 CONTRACT,
    ("contract_detail", "GET"):       CONTRACT,
    ("posting_new", "GET"):           OFFICE,
    ("posting_new", "POST"):          OFFICE_BAD,
    ("reallocation_new", "GET"):      OFFICE,
    ("reallocation_new", "POST"):     OFFICE_BAD,
    # POST only: the role check comes first, then 405 for GET; an invalid form redirects
    # back to the contract page with an error message.
    ("close_month", "GET"):           (302, 403, 403, 403, 403, 403, 403, 405, 403, 403, 403),
    ("close_month", "POST"):          (302, 403, 403, 403, 403, 403, 403, 302, 403, 403, 403),
    # Four-eyes: only the department head decides (the pending proposal is the controller's).
    ("reallocation_decide", "GET"):   HEAD,
    ("reallocation_decide", "POST"):  HEAD_BAD,
    ("reallocation_reverse", "GET"):  OFFICE,
    ("reallocation_reverse", "POST"): OFFICE_BAD,
}
# fmt: on


@pytest.fixture
def world(region, provider, controlling, leitung):
    contract = make_contract(region, f.today().year, providers=[provider])
    pending = services.propose_reallocation(
        contract=contract,
        direction="to_flexible",
        amount=Decimal("100.00"),
        reason="Rückführung",
        by=controlling,
    )
    approved = services.propose_reallocation(
        contract=contract,
        direction="to_flexible",
        amount=Decimal("200.00"),
        reason="Rückführung",
        by=controlling,
    )
    approved = services.decide_reallocation(reallocation=approved, approve=True, by=leitung)
    return {"contract": contract, "pending": pending, "approved": approved}


def _url(name: str, world: dict) -> str:
    target = TARGET[name]
    if target == "chart":
        contract = world["contract"]
        return reverse("budgets:chart", args=[contract.region_id, contract.year, "burn"])
    return reverse(f"budgets:{name}", args=[world[target].pk] if target else [])


@pytest.mark.parametrize(("name", "method"), list(MATRIX), ids=[f"{n}-{m}" for n, m in MATRIX])
def test_each_persona_gets_the_status_the_access_table_says(client, request, world, name, method):
    url = _url(name, world)
    expected = dict(zip(PERSONAS, MATRIX[name, method], strict=True))

    actual = {
        persona: status_as(client, request, persona, method, url, INVALID_POST)
        for persona in PERSONAS
    }

    assert actual == expected


def test_every_budgets_url_is_in_the_permission_matrix():
    names = {pattern.name for pattern in budgets_urls.urlpatterns}
    assert names == {name for name, __ in MATRIX}
    assert names == set(TARGET)


def test_every_post_row_has_a_get_row():
    assert {name for name, method in MATRIX if method == "POST"} <= {
        name for name, method in MATRIX if method == "GET"
    }


# --- Focused rules -------------------------------------------------------------------


def test_contract_of_another_provider_answers_404_like_a_missing_one(
    client, region, provider, traegerleitung_other
):
    contract = make_contract(region, f.today().year, providers=[provider])
    client.force_login(traegerleitung_other)
    forbidden_url = reverse("budgets:contract_detail", args=[contract.pk])
    missing_url = reverse("budgets:contract_detail", args=[contract.pk + 10_000])

    forbidden, missing = client.get(forbidden_url), client.get(missing_url)

    assert forbidden.status_code == missing.status_code == 404
    assert comparable_page(forbidden, forbidden_url) == comparable_page(missing, missing_url)


def test_provider_lead_sees_only_regions_of_her_contracts(
    client, region, other_region, provider, traegerleitung
):
    own = make_contract(region, f.today().year, providers=[provider])
    make_contract(other_region, f.today().year)
    client.force_login(traegerleitung)

    response = client.get(reverse("budgets:dashboard"))

    assert [row["now"].region_id for row in response.context["rows"]] == [region.pk]
    assert own.title in response.text
    assert other_region.name not in response.text


def test_provider_lead_does_not_see_a_contract_of_her_region_without_her_provider(
    client, region, provider, other_provider, traegerleitung
):
    year = f.today().year
    make_contract(region, year, providers=[provider])
    earlier = make_contract(region, year - 1, flexible=Decimal("777777.00"))
    earlier.providers.set([other_provider])
    client.force_login(traegerleitung)

    response = client.get(reverse("budgets:dashboard"), {"year": year - 1})

    assert reverse("budgets:contract_detail", args=[earlier.pk]) not in response.text
    assert "777.777,00" not in response.text


def test_provider_lead_sees_pending_reallocations_of_her_contracts_only_without_decide_link(
    client, region, other_region, provider, controlling, traegerleitung
):
    own = make_contract(region, f.today().year, providers=[provider])
    other = make_contract(other_region, f.today().year)
    for contract, amount in ((own, "1111.00"), (other, "2222.00")):
        services.propose_reallocation(
            contract=contract,
            direction="to_flexible",
            amount=Decimal(amount),
            reason="Rückführung",
            by=controlling,
        )
    client.force_login(traegerleitung)

    html = client.get(reverse("budgets:dashboard")).content.decode()

    assert euro(Decimal("1111.00")) in html
    assert euro(Decimal("2222.00")) not in html
    assert "/decide/" not in html


# --- No names on the aggregate pages ---------------------------------------------------

TODAY = datetime.date(2026, 6, 30)
FAMILY_NAMES = ("Zwackelmann", "Quastenbrink", "Oppermeyer", "Würfelbaum", "Xanderhof")
FIRST_NAMES = ("Kunigunde", "Wendelin", "Philippa", "Leberecht", "Apollonia")


@pytest.fixture
def named_region(region, asd, provider, stationary_provider):
    """A region-year whose families carry names that appear nowhere else on any page."""
    make_contract(region, 2026, providers=[provider])
    start = datetime.date(2026, 1, 1)
    helps = [
        make_placement(
            asd,
            region,
            stationary_provider,
            start=start,
            rate=Decimal("111.11"),
            family_name=FAMILY_NAMES[0],
        ),
        make_placement(
            asd,
            region,
            stationary_provider,
            start=datetime.date(2026, 2, 1),
            rate=Decimal("123.45"),
            family_name=FAMILY_NAMES[1],
        ),
        *(
            make_ambulant_help(asd, region, provider, start=start, family_name=n)
            for n in FAMILY_NAMES[2:]
        ),
    ]
    for help, first_name in zip(helps, FIRST_NAMES, strict=True):
        f.make_person(help.case.family, first_name)
        help.recipient = help.case.family.members.get()
        help.save(update_fields=["recipient"])
    return region


@time_machine.travel(datetime.datetime(2026, 6, 30, 12, 0), tick=False)
@pytest.mark.parametrize("persona", ["leitung", "controlling", "traegerleitung"])
@pytest.mark.parametrize("name", ["dashboard", "export_csv", "contract_detail"])
def test_aggregate_pages_name_no_family_and_no_person(client, request, named_region, persona, name):
    client.force_login(request.getfixturevalue(persona))
    args = [named_region.contracts.get().pk] if name == "contract_detail" else []

    response = client.get(reverse(f"budgets:{name}", args=args), {"year": 2026})

    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode()
    assert "Modellregion" in text or name == "contract_detail"  # the page has content
    for word in (*FAMILY_NAMES, *FIRST_NAMES):
        assert word not in text


@time_machine.travel(datetime.datetime(2026, 6, 30, 12, 0), tick=False)
def test_drill_down_hides_groups_under_three(
    client, region, asd, provider, other_provider, stationary_provider, leitung
):
    make_contract(region, 2026)
    start = datetime.date(2026, 1, 1)
    # Two residential placements (§ 34): a group of two is hidden, count and cost.
    for rate in ("131.00", "137.00"):
        make_placement(asd, region, stationary_provider, start=start, rate=Decimal(rate))
    # Three foster placements (§ 33): shown.
    for __ in range(3):
        make_placement(
            asd,
            region,
            stationary_provider,
            start=start,
            rate=Decimal("50.00"),
            legal_basis=LegalBasis.FOSTER_CARE,
        )
    # Three family supports of one provider and one of another.
    for p in (provider, provider, provider, other_provider):
        make_ambulant_help(asd, region, p, start=start)

    drill = drill_down(2026, [region.pk], TODAY)
    client.force_login(leitung)
    html = client.get(reverse("budgets:dashboard"), {"year": 2026}).content.decode()

    by_basis = {row["label"]: row for row in drill["by_basis"]}
    foster = by_basis[LegalBasis.FOSTER_CARE.label]
    residential = by_basis[LegalBasis.RESIDENTIAL.label]
    # 181 days (1 January to 30 June) × 3 × 50 €.
    assert (foster["count"], foster["days"], foster["cost"]) == (3, 543, Decimal("27150.00"))
    assert (residential["count"], residential["days"], residential["cost"]) == (None, None, None)
    assert by_basis[LegalBasis.FAMILY_SUPPORT.label]["count"] == 4
    by_provider = {(r["provider"], str(r["setting"])): r["count"] for r in drill["by_provider"]}
    assert by_provider[(provider.name, "ambulant")] == 3
    assert by_provider[(other_provider.name, "ambulant")] is None
    assert by_provider[(stationary_provider.name, "stationär")] == 5
    # The hidden group's cost (181 × (131 + 137) € = 48.508 €) is nowhere on the page.
    assert euro(Decimal("27150.00")) in html
    assert euro(Decimal("48508.00")) not in html
    assert ">2<" not in html
