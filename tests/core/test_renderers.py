"""Select boxes are drawn in Python (core.renderers) with exactly the markup of the
template templates/django/forms/widgets/select.html, for every kind of select."""

import datetime
import re
from decimal import Decimal

import pytest
from django import forms
from django.forms.renderers import TemplatesSetting
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy
from django_filters.widgets import BaseCSVWidget

from cases.models import Region
from core.renderers import FormRenderer
from tests import factories as f

CHOICES = [
    ("", "---------"),
    ("a", "Familie Müller & Söhne"),
    ("b<c", 'Anführungszeichen " und <b>Tags</b>'),
    (3, 1234567),
    (Decimal("2.50"), Decimal("1234.5")),
    (datetime.date(2026, 11, 26), datetime.date(2026, 11, 26)),
    ("safe", mark_safe("<em>schon sicher</em>")),
    ("lazy", gettext_lazy("Search")),
]
# django-filter's widget of the case list's sort order (OrderingFilter).
CSV_SELECT = type("CSVSelect", (BaseCSVWidget, forms.Select), {})
GROUPED = [
    ("Ambulant", [("1", "§ 31"), ("2", "§ 30")]),
    (gettext_lazy("Status"), [("3", "§ 34")]),
    ("4", "ohne Gruppe"),
]


def both(widget: forms.Widget, value, attrs=None) -> tuple[str, str]:
    template = widget.render("field", value, attrs, renderer=TemplatesSetting())
    python = widget.render("field", value, attrs, renderer=FormRenderer())
    return template, python


@pytest.mark.parametrize(
    ("widget", "value", "attrs"),
    [
        (forms.Select(choices=CHOICES), None, None),
        (forms.Select(choices=CHOICES), "a", {"id": "id_field", "required": True}),
        (forms.Select(choices=CHOICES), 3, {"disabled": True, "autofocus": False}),
        (forms.Select(choices=CHOICES), "b<c", {"aria-describedby": 'x" y', "class": "a&b"}),
        (forms.Select(choices=GROUPED), "3", {"id": "g"}),
        (forms.Select(choices=[]), None, None),
        (forms.SelectMultiple(choices=CHOICES), ["a", "safe"], {"id": "m"}),
        (forms.NullBooleanSelect(), True, None),
        (CSV_SELECT(choices=CHOICES), ["lazy"], None),
    ],
)
@pytest.mark.parametrize("language", ["de", "en"])
def test_a_select_has_the_markup_of_the_template(widget, value, attrs, language):
    with translation.override(language):
        template, python = both(widget, value, attrs)
    assert python == template
    assert python.startswith('<select name="field"')


@pytest.mark.django_db
def test_model_choices_have_the_markup_of_the_template():
    f.make_region("Nord <1>", slug="nord")
    f.make_region("Süd & West", slug="sued-west")
    field = forms.ModelChoiceField(queryset=Region.objects.order_by("name"))
    template, python = both(field.widget, Region.objects.first().pk)
    assert python == template
    assert "Süd &amp; West" in python


# What differs between two requests anyway.
TOKENS = re.compile(
    r'(csrf-token="|name="csrfmiddlewaretoken" value="|nonce="|name="idempotency_key" value=")'
    r'[^"]*"'
)


def _page(client, url: str) -> str:
    return TOKENS.sub(r'\1…"', client.get(url).content.decode())


@pytest.mark.django_db
@pytest.mark.parametrize(("who", "url"), [("fachkraft", "/providers/hours/"), ("asd", "/cases/")])
def test_the_busiest_pages_are_the_same_with_either_renderer(who, url, client, settings, request):
    """The hour sheet (its dropdown of helps) and the case list (its filters), whole."""
    user = request.getfixturevalue(who)
    case = f.make_case(request.getfixturevalue("asd"), family_name="Grün & <Blau>")
    f.make_help(case, request.getfixturevalue("provider"))
    client.force_login(user)
    python = _page(client, url + "?status=open")
    settings.FORM_RENDERER = "django.forms.renderers.TemplatesSetting"
    template = _page(client, url + "?status=open")
    assert python == template
    assert "<select" in python
