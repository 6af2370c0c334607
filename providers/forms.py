import uuid

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.forms import DateInput

from .models import MAX_MINUTES, MIN_MINUTES, Activity, GroupOffer, GroupSession, HourKind


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%H:%M")


def help_label(help) -> str:
    return f"{help.case.family.name} · {help.get_legal_basis_display()} ({help.case.reference})"


class ShownHelpsMixin:
    """Accepts any help of `queryset` but renders only the `shown` ones as choices.

    The queryset (all loggable helps) validates a submitted value with one query; the
    widget lists the short list, so a provider with 1,500 helps does not put 1,500
    options into every page. Assigning `choices` keeps `queryset` for validation."""

    # Its choices name families: its markup is not cached (core.fields).
    shows_personal_data = True

    def show_only(self, helps, *, blank: bool):
        choices = [(h.pk, self.label_from_instance(h)) for h in helps]
        self.choices = ([("", self.empty_label)] if blank else []) + choices

    def label_from_instance(self, help):
        return help_label(help)


class HelpChoiceField(ShownHelpsMixin, forms.ModelChoiceField):
    pass


class HelpMultipleChoiceField(ShownHelpsMixin, forms.ModelMultipleChoiceField):
    pass


class HourEntryForm(forms.Form):
    """Quick entry; the hidden key makes a double submit harmless."""

    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)
    date = forms.DateField(label=_("Date"), widget=DateInput())
    start_time = forms.TimeField(label=_("From"), required=False, widget=TimeInput())
    end_time = forms.TimeField(label=_("Until"), required=False, widget=TimeInput())
    minutes = forms.IntegerField(
        label=_("Minutes"),
        required=False,
        help_text=_("Left empty: the time from start to end."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": 5}),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=HourKind.choices)
    help = HelpChoiceField(label=_("Help"), queryset=None, required=False)
    activity = forms.ChoiceField(label=_("Activity"), choices=Activity.choices)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
    recurring = forms.BooleanField(label=_("Recurring weekly"), required=False)

    def __init__(self, *args, helps, shown, **kwargs):
        """`helps`: the queryset of every help a value may name; `shown`: the choices."""
        super().__init__(*args, **kwargs)
        self.fields["help"].queryset = helps
        self.fields["help"].show_only(shown, blank=True)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4())

    def clean(self):
        data = super().clean()
        start, end, minutes = data.get("start_time"), data.get("end_time"), data.get("minutes")
        if minutes is None and start and end:
            minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
            data["minutes"] = minutes
        if minutes is None and "minutes" not in self.errors:
            self.add_error("minutes", _("Please give the duration or the start and end time."))
        # A help that is not among the choices already has its own error there.
        missing_help = not data.get("help") and "help" not in self.errors
        if data.get("kind") == HourKind.CASE_SPECIFIC and missing_help:
            self.add_error("help", _("A case-specific entry needs the help it was delivered for."))
        if data.get("kind") != HourKind.CASE_SPECIFIC:
            data["help"] = None
        return data


class CorrectionForm(forms.Form):
    corrected_minutes = forms.IntegerField(
        label=_("Correct duration (minutes)"), min_value=0, max_value=MAX_MINUTES
    )
    reason = forms.CharField(label=_("Reason"), max_length=300)


class GroupSplitForm(forms.Form):
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)
    date = forms.DateField(label=_("Date"), widget=DateInput())
    minutes = forms.IntegerField(
        label=_("Duration of the session (minutes)"),
        min_value=MIN_MINUTES * 2,
        max_value=MAX_MINUTES,
    )
    helps = HelpMultipleChoiceField(
        label=_("Helps of the participants"),
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args, helps, shown, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["helps"].queryset = helps
        self.fields["helps"].show_only(shown, blank=False)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4())


class ReturnMonthForm(forms.Form):
    comment = forms.CharField(
        label=_("What needs correcting?"), widget=forms.Textarea(attrs={"rows": 3})
    )


class GroupOfferForm(forms.ModelForm):
    class Meta:
        model = GroupOffer
        fields = ["topic", "target_group", "region", "staff", "starts_on", "ends_on"]
        widgets = {
            "starts_on": DateInput(),
            "ends_on": DateInput(),
            "staff": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, provider, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = provider.staff.filter(is_active=True).order_by("last_name")

    def clean(self):
        data = super().clean()
        if data.get("ends_on") and data.get("starts_on") and data["ends_on"] < data["starts_on"]:
            self.add_error("ends_on", _("The end must not be before the start."))
        return data


class GroupSessionForm(forms.ModelForm):
    class Meta:
        model = GroupSession
        fields = ["date", "duration_minutes", "anonymous_participants", "registered_participants"]
        widgets = {"date": DateInput(), "registered_participants": forms.CheckboxSelectMultiple}

    def __init__(self, *args, offer: GroupOffer, persons, **kwargs):
        self.offer = offer
        super().__init__(*args, **kwargs)
        self.fields["registered_participants"].queryset = persons
        self.fields["registered_participants"].required = False

    def clean_date(self):
        day = self.cleaned_data["date"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("A session cannot be recorded for a future day."))
        if day < self.offer.starts_on or (self.offer.ends_on and day > self.offer.ends_on):
            raise forms.ValidationError(_("The session lies outside the period of the offer."))
        return day

    def clean_duration_minutes(self):
        minutes = self.cleaned_data["duration_minutes"]
        if not MIN_MINUTES <= minutes <= MAX_MINUTES:
            raise forms.ValidationError(
                _("The duration must be between %(min)s and %(max)s minutes.")
                % {"min": MIN_MINUTES, "max": MAX_MINUTES}
            )
        return minutes
