import datetime

import pytest
from django.urls import reverse

from tests import factories as f

from .conftest import make_contract

pytestmark = pytest.mark.django_db


def test_budget_pages_render(client, leitung, controlling, region, case):
    year = f.today().year
    contract = make_contract(region, year)
    client.force_login(controlling)
    for url in [
        reverse("budgets:dashboard"),
        reverse("budgets:dashboard") + "?year=abc",
        reverse("budgets:contract_detail", args=[contract.pk]),
        reverse("budgets:posting_new", args=[contract.pk]),
        reverse("budgets:reallocation_new", args=[contract.pk]),
        reverse("budgets:export_csv"),
        reverse("budgets:export_xlsx"),
    ]:
        assert client.get(url).status_code == 200, url
    response = client.post(
        reverse("budgets:posting_new", args=[contract.pk]),
        {
            "booked_on": datetime.date(year, 1, 15).isoformat(),
            "amount": "1234,56",
            "category": "personnel",
            "text": "Gehälter Januar",
        },
    )
    assert response.status_code == 302, response.content[:3000]
    response = client.post(
        reverse("budgets:reallocation_new", args=[contract.pk]),
        {"direction": "to_flexible", "amount": "1000", "reason": "Rückführung"},
    )
    assert response.status_code == 302
    realloc = contract.reallocations.get()
    client.force_login(leitung)
    assert client.get(reverse("budgets:reallocation_decide", args=[realloc.pk])).status_code == 200
    response = client.post(
        reverse("budgets:reallocation_decide", args=[realloc.pk]), {"decision": "approve"}
    )
    assert response.status_code == 302
    response = client.get(reverse("budgets:dashboard"))
    assert "101.000,00" in response.text
    assert "Yilmaz" not in response.text
