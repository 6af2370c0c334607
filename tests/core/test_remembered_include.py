"""{% remembered_include %}: a row template rendered with only the values given, kept
in the process for the same values (core/templatetags/kijufaz.py)."""

import datetime
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template, TemplateSyntaxError, engines
from django.utils import translation
from django.utils.safestring import mark_safe

from cases.selectors import CaseRow
from core.templatetags import kijufaz

ROW = "cases/_case_row.html"


@pytest.fixture(autouse=True)
def forget_rows():
    kijufaz.REMEMBERED_ROWS.clear()
    yield
    kijufaz.REMEMBERED_ROWS.clear()


def row(**changes) -> CaseRow:
    values = {
        "pk": 7,
        "reference": "ASD-2026-0007",
        "family_name": "Becker",
        "region_name": "Altstadt",
        "owner": "Anna Schmidt",
        "opened_on": datetime.date(2026, 3, 2),
        "status": "open",
    }
    return CaseRow(**{**values, **changes})


def remembered(case, **context) -> str:
    template = Template('{% load kijufaz %}{% remembered_include "' + ROW + '" case=case %}')
    return template.render(Context({"case": case, **context}))


def plain(case) -> str:
    return engines["django"].get_template(ROW).render({"case": case})


def test_it_renders_what_the_row_template_renders():
    assert remembered(row()) == plain(row())
    assert "Becker" in remembered(row())


def test_the_same_row_is_not_rendered_again(monkeypatch):
    remembered(row())
    engine = engines["django"].engine
    monkeypatch.setattr(engine, "get_template", lambda name: pytest.fail("rendered again"))
    assert "Becker" in remembered(row())
    assert len(kijufaz.REMEMBERED_ROWS) == 1


def test_a_changed_row_is_rendered_anew():
    assert "Becker" in remembered(row())
    assert "Wagner" in remembered(row(family_name="Wagner"))
    assert len(kijufaz.REMEMBERED_ROWS) == 2


def test_the_language_is_part_of_the_key():
    with translation.override("de"):
        german = remembered(row(opened_on=datetime.date(2026, 3, 2)))
    with translation.override("en"):
        english = remembered(row(opened_on=datetime.date(2026, 3, 2)))
    assert "02.03.2026" in german
    assert "02.03.2026" not in english


def test_the_row_sees_only_the_values_given():
    source = '{% load kijufaz %}{% remembered_include "' + ROW + '" case=case %}'
    html = Template(source).render(Context({"case": row(owner=""), "owner": "Geheim"}))
    assert "Geheim" not in html


def test_unhashable_values_are_rendered_every_time():
    case = {"pk": 7, "reference": "ASD-1", "family_name": "Becker"}
    assert "Becker" in remembered(case)
    assert len(kijufaz.REMEMBERED_ROWS) == 0


@pytest.mark.django_db
def test_a_model_instance_is_never_remembered(region):
    # It equals any other instance of the same primary key, whatever its content.
    source = '{% load kijufaz %}{% remembered_include "' + ROW + '" case=case %}'
    Template(source).render(Context({"case": region}))
    assert len(kijufaz.REMEMBERED_ROWS) == 0


@dataclass(frozen=True)
class Holder:
    value: object


@dataclass
class Unfrozen:
    value: object


@pytest.mark.parametrize(
    "value",
    [Decimal("1.0"), 0.5, Holder(Decimal("1.00")), Holder([1]), {"pk": 1}, Unfrozen(1)],
    ids=["decimal", "float", "dataclass-with-decimal", "dataclass-with-list", "dict", "unfrozen"],
)
def test_values_that_may_be_equal_yet_look_different_are_not_remembered(value):
    assert kijufaz.plain_key(value) is None


def test_texts_numbers_dates_and_frozen_rows_of_them_are_plain():
    assert kijufaz.plain_key(row()) is not None
    for value in ("a", 1, True, None, datetime.date(2026, 1, 1), datetime.time(9, 30)):
        assert kijufaz.plain_key(value) is not None
    moment = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.UTC)
    assert kijufaz.plain_key(Holder(moment)) is not None


def test_equal_values_that_look_different_get_different_keys():
    # True == 1, and a SafeString equals its str, but they are shown differently.
    assert kijufaz.plain_key(True) != kijufaz.plain_key(1)
    assert kijufaz.plain_key(Holder(True)) != kijufaz.plain_key(Holder(1))
    assert kijufaz.plain_key(mark_safe("<b>")) is None  # noqa: S308
    utc = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.UTC)
    berlin = utc.astimezone(ZoneInfo("Europe/Berlin"))
    assert kijufaz.plain_key(utc) != kijufaz.plain_key(berlin)


def test_a_safe_string_is_not_served_for_a_plain_one():
    # Were they one key, the unescaped markup would be shown for what the user typed.
    source = Template('{% load kijufaz %}{% remembered_include "' + ROW + '" case=case %}')
    trusted = source.render(Context({"case": row(family_name=mark_safe("<b>x</b>"))}))  # noqa: S308
    assert "<b>x</b>" in trusted
    html = source.render(Context({"case": row(family_name="<b>x</b>")}))
    assert "&lt;b&gt;x&lt;/b&gt;" in html
    assert "<b>x</b>" not in html


def test_with_debug_on_rows_are_rendered_every_time(settings):
    settings.DEBUG = True
    remembered(row())
    assert len(kijufaz.REMEMBERED_ROWS) == 0


@pytest.mark.parametrize(
    "tag",
    [
        '{% remembered_include "x.html" %}',
        '{% remembered_include "x.html" case %}',
        '{% remembered_include "x.html" case=case extra %}',
    ],
)
def test_it_takes_a_name_and_named_values_only(tag):
    with pytest.raises(TemplateSyntaxError):
        Template("{% load kijufaz %}" + tag)
