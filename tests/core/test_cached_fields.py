"""The busy forms' fields come from the cache only when their markup would be the same:
rendered fresh and read back, every field equals crispy's own rendering, and any
change of what it shows renders it again (core.fields)."""

import pytest
from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field
from django.core.cache import cache
from django.utils import timezone, translation

from cases.filters import CaseFilter
from cases.models import Case
from core.fields import cached_crispy_field, render_key
from core.models import Role
from providers.forms import HourEntryForm
from providers.selectors import loggable_helps, shown_helps
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()


def hour_form(user, data=None):
    today = timezone.localdate()
    helps = loggable_helps(user.provider_id, today, user=user)
    return HourEntryForm(data, helps=helps, shown=shown_helps(user, today), initial={"date": today})


def case_filter(user, data):
    return CaseFilter(data, queryset=Case.objects.visible_to(user), user=user).form


def assert_same_as_crispy(form):
    for name in form.fields:
        if form[name].is_hidden:
            continue
        direct = str(as_crispy_field(form[name]))
        assert str(cached_crispy_field(form[name])) == direct  # rendered and cached
        assert str(cached_crispy_field(form[name])) == direct  # read back


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_hour_sheet_form_is_the_same_from_the_cache(fachkraft, asd, provider, language):
    case = f.make_case(asd, family_name="Grün & <Blau>")
    f.make_help(case, provider)
    with translation.override(language):
        assert_same_as_crispy(hour_form(fachkraft))
        assert_same_as_crispy(hour_form(fachkraft, {"date": "2026-11-02", "minutes": "45"}))


def test_the_case_filters_are_the_same_from_the_cache(asd, region):
    f.make_case(asd, family_name="Muster")
    assert_same_as_crispy(case_filter(asd, {}))
    assert_same_as_crispy(case_filter(asd, {"status": "open", "region": str(region.pk)}))


def test_another_value_language_or_choice_renders_again(fachkraft, asd, provider, region):
    first = cached_crispy_field(case_filter(asd, {"status": "open"})["status"])
    other_value = cached_crispy_field(case_filter(asd, {"status": "closed"})["status"])
    assert first != other_value
    assert 'value="closed" selected' in other_value
    with translation.override("en"):
        english = cached_crispy_field(case_filter(asd, {"status": "open"})["status"])
    assert english != first

    before = str(cached_crispy_field(case_filter(asd, {})["owner"]))
    f.make_user("neu.kollegin", Role.ASD, team=asd.team, first_name="Neue", last_name="Kollegin")
    after = str(cached_crispy_field(case_filter(asd, {})["owner"]))
    assert "Kollegin" not in before
    assert "Kollegin" in after == str(as_crispy_field(case_filter(asd, {})["owner"]))


def test_family_names_and_typed_searches_stay_out_of_the_cache(fachkraft, asd, provider):
    f.make_help(f.make_case(asd, family_name="Vertraulich"), provider)
    help_field = hour_form(fachkraft)["help"]
    search = case_filter(asd, {"q": "Vertraulich"})["q"]
    assert render_key(help_field) is None
    assert render_key(search) is None
    assert "Vertraulich" in str(cached_crispy_field(help_field))
    assert 'value="Vertraulich"' in str(cached_crispy_field(search))
    assert render_key(case_filter(asd, {})["q"]) is not None  # empty: nobody's name
    assert render_key(hour_form(fachkraft)["date"]) is not None


def test_a_field_with_errors_is_never_cached(fachkraft):
    form = hour_form(fachkraft, {"date": "kein Datum", "minutes": "-5"})
    assert not form.is_valid()
    assert render_key(form["date"]) is None
    assert str(cached_crispy_field(form["date"])) == str(as_crispy_field(form["date"]))
    assert "is-invalid" in str(cached_crispy_field(form["date"]))


def test_the_choices_of_a_model_field_are_read_once(asd, region, django_assert_num_queries):
    form = case_filter(asd, {})
    with django_assert_num_queries(1):
        cached_crispy_field(form["region"])  # the key and the markup share one query
