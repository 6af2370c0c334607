from django import forms
from django.utils.translation import gettext_lazy as _

from cases.models import Region
from core.forms import DateInput

from .kpis import FORMATS, parse_period
from .models import ActionItem, Decision, GoalReview, Workshop


class ReportRequestForm(forms.Form):
    region = forms.ModelChoiceField(
        label=_("Region"),
        queryset=Region.objects.order_by("name"),
        required=False,
        empty_label=_("all regions"),
    )
    period = forms.CharField(
        label=_("Period"),
        max_length=40,
        help_text=_("For example %(formats)s") % {"formats": FORMATS},
    )

    def clean_period(self):
        try:
            return parse_period(self.cleaned_data["period"])
        except ValueError as error:
            raise forms.ValidationError(str(error)) from error


class WorkshopForm(forms.ModelForm):
    class Meta:
        model = Workshop
        fields = [
            "region",
            "date",
            "title",
            "participants_office",
            "participants_providers",
            "notes",
        ]
        widgets = {
            "date": DateInput(),
            "participants_office": forms.Textarea(attrs={"rows": 2}),
            "participants_providers": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }


class GoalReviewForm(forms.ModelForm):
    class Meta:
        model = GoalReview
        fields = ["goal", "status", "evidence"]
        widgets = {"evidence": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, workshop, **kwargs):
        self.workshop = workshop
        super().__init__(*args, **kwargs)

    def clean_goal(self):
        goal = self.cleaned_data["goal"]
        if self.workshop.goal_reviews.filter(goal=goal).exists():
            raise forms.ValidationError(_("This goal has already been reviewed in this workshop."))
        return goal


class DecisionForm(forms.ModelForm):
    class Meta:
        model = Decision
        fields = ["text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 2})}


class ActionItemForm(forms.ModelForm):
    class Meta:
        model = ActionItem
        fields = ["text", "owner", "due_on"]
        widgets = {"due_on": DateInput(), "text": forms.Textarea(attrs={"rows": 2})}
