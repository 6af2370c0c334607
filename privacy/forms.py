from django import forms
from django.utils.translation import gettext_lazy as _

from .models import RetentionRule


class OneValueEach:
    """A field sent twice (?reason=a&reason=b) is refused, not silently cut to the last."""

    def clean(self):
        data = super().clean()
        getlist = getattr(self.data, "getlist", None)
        for name in self.fields:
            if getlist is not None and len(getlist(name)) > 1:
                self.add_error(name, _("Enter one value only."))
        return data


class RetentionRuleForm(OneValueEach, forms.ModelForm):
    class Meta:
        model = RetentionRule
        fields = [
            "start_event",
            "restrict_after_months",
            "remove_after_months",
            "action",
            "legal_reasoning",
            "confirmed_by_office",
        ]
        widgets = {"legal_reasoning": forms.Textarea(attrs={"rows": 6})}

    def clean_remove_after_months(self):
        months = self.cleaned_data["remove_after_months"]
        if months < 1 or months > 12 * 120:
            raise forms.ValidationError(_("Enter between 1 and 1440 months (120 years)."))
        return months

    def clean(self):
        data = super().clean()
        restrict, remove = data.get("restrict_after_months"), data.get("remove_after_months")
        if restrict is not None and remove is not None and restrict > remove:
            self.add_error(
                "restrict_after_months",
                _("Restriction must come before (or with) anonymisation or deletion."),
            )
        if self.instance.is_case_rule and data.get("start_event") == "entry_date":
            self.add_error("start_event", _("A case file's period starts when it was closed."))
        if not self.instance.is_case_rule and data.get("start_event") != "entry_date":
            self.add_error("start_event", _("These records count from their own date."))
        if not self.instance.is_case_rule and restrict is not None:
            self.add_error("restrict_after_months", _("Only case files are restricted."))
        return data


class DecisionForm(OneValueEach, forms.Form):
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class RejectForm(OneValueEach, forms.Form):
    comment = forms.CharField(
        label=_("Reason for the rejection"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class LegalHoldForm(OneValueEach, forms.Form):
    reference = forms.CharField(label=_("File number"), max_length=20)
    reason = forms.CharField(
        label=_("Reason for the legal hold"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, cases=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.cases = cases

    def clean_reference(self):
        reference = self.cleaned_data["reference"].strip()
        case = self.cases.filter(reference=reference).first()
        if case is None:
            raise forms.ValidationError(
                _("No case with this file number that you may put on hold.")
            )
        self.cleaned_data["case"] = case
        return reference


class LiftHoldForm(OneValueEach, forms.Form):
    reason = forms.CharField(
        label=_("Reason for lifting the hold"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RestrictedReasonForm(OneValueEach, forms.Form):
    reason = forms.CharField(
        label=_("Why do you need to read this restricted case?"),
        min_length=10,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The reason is written to the audit log."),
    )
