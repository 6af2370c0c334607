"""Choice labels on rows are translated one at a time (core.choices.label_of)."""

from django.utils import translation

from cases.models import Case, CaseStatus, Help, LegalBasis
from core.choices import label_of
from providers.models import HourEntry


def test_a_label_is_the_translated_label_of_the_value():
    with translation.override("de"):
        assert label_of(CaseStatus, CaseStatus.CLOSED) == str(CaseStatus.CLOSED.label)
        assert label_of(CaseStatus, CaseStatus.CLOSED) != "closed"


def test_a_value_that_is_no_choice_is_shown_as_it_is():
    assert label_of(LegalBasis, "99") == "99"
    assert label_of(LegalBasis, "") == ""


def test_the_models_show_the_same_labels_as_djangos_own_display():
    """The overridden get_FOO_display methods agree with the field's choices."""
    fields = [
        (Case, "status"),
        (Help, "legal_basis"),
        (Help, "setting"),
        (HourEntry, "kind"),
        (HourEntry, "activity"),
    ]
    with translation.override("de"):
        for model, field in fields:
            for value, label in model._meta.get_field(field).flatchoices:
                obj = model(**{field: value})
                assert getattr(obj, f"get_{field}_display")() == str(label), (model, value)
