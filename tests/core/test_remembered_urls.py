"""{% url %} remembers what it reversed, and still gives exactly what Django's would."""

import pytest
from django.template import Context, Template
from django.urls import NoReverseMatch, reverse, set_script_prefix

from core.templatetags import remembered_urls


@pytest.fixture(autouse=True)
def forget_urls():
    remembered_urls._reverse.cache_clear()
    yield
    remembered_urls._reverse.cache_clear()
    set_script_prefix("/")


def render(source: str, **context) -> str:
    return Template(source).render(Context(context))


def test_the_url_tag_is_the_remembered_one_without_loading_it():
    assert render("{% url 'desk' %}") == reverse("desk")
    assert remembered_urls._reverse.cache_info().currsize == 1


def test_it_gives_what_django_gives_for_names_arguments_and_namespaces():
    assert render("{% url 'cases:case_detail' 17 %}") == reverse("cases:case_detail", args=[17])
    assert render("{% url 'cases:case_detail' pk=pk %}", pk=17) == reverse(
        "cases:case_detail", kwargs={"pk": 17}
    )
    assert render("{% url 'cases:case_list' as link %}<{{ link }}>") == (
        f"<{reverse('cases:case_list')}>"
    )


def test_a_second_rendering_does_not_reverse_again():
    template = Template("{% for pk in pks %}{% url 'cases:case_detail' pk %} {% endfor %}")
    template.render(Context({"pks": [1, 2, 1, 2, 1]}))
    info = remembered_urls._reverse.cache_info()
    assert (info.misses, info.hits) == (2, 3)


def test_the_script_prefix_is_part_of_the_key():
    plain = render("{% url 'desk' %}")
    set_script_prefix("/jugendamt/")
    assert render("{% url 'desk' %}") == "/jugendamt/" + plain.lstrip("/")


def test_equal_arguments_of_other_types_are_not_mixed_up():
    # True == 1 in Python; as URL arguments they are "True" and "1".
    assert remembered_urls.remembered_reverse("cases:case_detail", [1]) == "/cases/1/"
    with pytest.raises(NoReverseMatch):
        remembered_urls.remembered_reverse("cases:case_detail", [True])


def test_an_unknown_name_fails_as_with_django_and_is_empty_with_as():
    with pytest.raises(NoReverseMatch):
        render("{% url 'no_such_page' %}")
    assert render("{% url 'no_such_page' as link %}[{{ link }}]") == "[]"


def test_unhashable_arguments_are_reversed_every_time():
    class Unhashable(int):
        __hash__ = None

    assert remembered_urls.remembered_reverse("cases:case_detail", [Unhashable(5)]) == ("/cases/5/")
    assert remembered_urls._reverse.cache_info().currsize == 0
