"""The dashboard links its charts as images instead of carrying them inline: at city
scale 50 inline charts made the page 2.8 MB."""

import re

import pytest
from django.urls import reverse

from tests import factories as f

from .conftest import make_contract

pytestmark = pytest.mark.django_db


def chart_url(region, year, kind="burn"):
    return reverse("budgets:chart", args=[region.pk, year, kind])


def test_the_page_links_each_regions_two_charts_lazily_and_inlines_none(client, leitung, region):
    year = f.today().year
    make_contract(region, year)
    client.force_login(leitung)

    html = client.get(reverse("budgets:dashboard"), {"year": year}).content.decode()

    assert "data:image" not in html
    for kind in ("burn", "share"):
        image = re.search(rf'<img[^>]+src="{re.escape(chart_url(region, year, kind))}"[^>]*>', html)
        assert image, kind
        assert 'loading="lazy"' in image.group(0)
        assert 'alt="' in image.group(0)


@pytest.mark.parametrize("kind", ["burn", "share"])
def test_a_chart_is_an_svg_image_of_the_regions_figures(client, leitung, region, kind):
    year = f.today().year
    make_contract(region, year)
    client.force_login(leitung)

    response = client.get(chart_url(region, year, kind))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in response.content
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("region", "year", "pie"), id="unknown kind"),
        pytest.param(("region", "year_without_contract", "burn"), id="no contract that year"),
        pytest.param(("region", 1999, "burn"), id="year out of range"),
        pytest.param(("region", 99999, "burn"), id="year far out of range"),
        pytest.param(("other_region", "year", "burn"), id="region without contract"),
    ],
)
def test_a_chart_that_does_not_exist_answers_404(client, leitung, region, other_region, args):
    year = f.today().year
    make_contract(region, year)
    values = {"year": year, "year_without_contract": year - 3}
    place, when, kind = args
    target = {"region": region, "other_region": other_region}[place]
    client.force_login(leitung)

    url = reverse("budgets:chart", args=[target.pk, values.get(when, when), kind])

    assert client.get(url).status_code == 404
