from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import DateInput, GermanDecimalField

from .models import Direction, PlanCategory

MAX_AMOUNT = 10_000_000


class PostingForm(forms.Form):
    booked_on = forms.DateField(label=_("Booked for (date)"), widget=DateInput())
    amount = GermanDecimalField(
        label=_("Amount (€)"),
        max_digits=12,
        decimal_places=2,
        min_value=-MAX_AMOUNT,
        max_value=MAX_AMOUNT,
    )
    category = forms.ChoiceField(
        label=_("Category"),
        choices=[c for c in PlanCategory.choices if c[0] != PlanCategory.PLACEMENTS],
    )
    text = forms.CharField(label=_("Text"), max_length=200)
    corrects = forms.ModelChoiceField(
        label=_("Corrects posting"),
        queryset=None,
        required=False,
        help_text=_("Only for corrections; a closed month takes only these."),
    )
    override_reason = forms.CharField(
        label=_("Reason for exceeding the budget"), max_length=300, required=False
    )

    def __init__(self, *args, postings, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["corrects"].queryset = postings


class ReallocationForm(forms.Form):
    direction = forms.ChoiceField(label=_("Direction"), choices=Direction.choices)
    amount = GermanDecimalField(
        label=_("Amount (€)"),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=MAX_AMOUNT,
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))


class ReverseReallocationForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for reversing"), widget=forms.Textarea(attrs={"rows": 3})
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approve", _("approve")), ("reject", _("reject"))],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    override_reason = forms.CharField(
        label=_("Reason for going below zero"), max_length=300, required=False
    )


class CloseMonthForm(forms.Form):
    month = forms.DateField(label=_("Month (any day of it)"), widget=DateInput())
