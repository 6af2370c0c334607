import datetime

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.forms import DateInput, GermanDecimalField
from core.models import Role, User
from providers.models import Provider

from .models import (
    FIXED_SETTING,
    ApprovalStatus,
    Case,
    CaseClosingReason,
    CaseNote,
    Family,
    GoalStatus,
    Help,
    HelpEndReason,
    HelpPlan,
    Person,
    Region,
    Resource,
    RiskAssessment,
    RiskAssessmentStatus,
    RiskLevel,
    Setting,
    TeamConsultation,
    allowed_settings,
)
from .services import GoalInput, needs_team_decision, next_review_date


def _not_in_future(day: datetime.date | None, message) -> None:
    if day is not None and day > timezone.localdate():
        raise forms.ValidationError(message)


class FamilyForm(forms.ModelForm):
    class Meta:
        model = Family
        fields = ["name", "street", "postal_code", "city", "region", "phone"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = Region.objects.order_by("name")
        self.fields["postal_code"].widget.attrs.update(inputmode="numeric", pattern="[0-9]{5}")

    def clean_postal_code(self):
        code = self.cleaned_data["postal_code"].strip()
        if code and (len(code) != 5 or not code.isdigit()):
            raise forms.ValidationError(_("A German postal code has exactly five digits."))
        return code


class CaseOpenForm(forms.Form):
    opened_on = forms.DateField(label=_("Case opened on"), widget=DateInput())

    def clean_opened_on(self):
        opened_on = self.cleaned_data["opened_on"]
        _not_in_future(opened_on, _("A case cannot be opened in the future."))
        return opened_on


class PersonForm(forms.ModelForm):
    class Meta:
        model = Person
        fields = ["first_name", "last_name", "birth_date", "role", "gender"]
        widgets = {"birth_date": DateInput()}

    def clean_birth_date(self):
        birth_date = self.cleaned_data["birth_date"]
        _not_in_future(birth_date, _("The date of birth cannot be in the future."))
        if birth_date < datetime.date(1900, 1, 1):
            raise forms.ValidationError(_("Please check the date of birth."))
        return birth_date


class CaseCloseForm(forms.Form):
    closed_on = forms.DateField(label=_("Closed on"), widget=DateInput())
    closing_reason = forms.ChoiceField(label=_("Reason"), choices=CaseClosingReason.choices)
    closing_note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(self, *args, case: Case, **kwargs):
        self.case = case
        super().__init__(*args, **kwargs)

    def clean_closed_on(self):
        closed_on = self.cleaned_data["closed_on"]
        _not_in_future(closed_on, _("A case cannot be closed in the future."))
        if closed_on < self.case.opened_on:
            raise forms.ValidationError(_("A case cannot be closed before it was opened."))
        return closed_on


class ReassignForm(forms.Form):
    owner = forms.ModelChoiceField(label=_("New case owner"), queryset=User.objects.none())

    def __init__(self, *args, case: Case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.filter(
            team_id=case.team_id, role__in=[Role.ASD, Role.ASD_LEAD], is_active=True
        ).order_by("last_name", "first_name")
        self.fields["owner"].initial = case.owner_id


class CaseNoteForm(forms.ModelForm):
    class Meta:
        model = CaseNote
        fields = ["kind", "text", "entrusted"]
        widgets = {
            "kind": forms.Select(attrs={"class": "form-select"}),
            "text": forms.Textarea(attrs={"rows": 4, "class": "form-control"}),
            "entrusted": forms.CheckboxInput(
                attrs={"class": "form-check-input", "aria-describedby": "entrusted-help"}
            ),
        }
        labels = {"entrusted": _("Entrusted (§ 65 SGB VIII)")}
        help_texts = {
            "entrusted": _(
                "Only you and the colleagues you name can read an entrusted entry; it never "
                "appears in exports or reports."
            )
        }

    def clean_text(self):
        text = self.cleaned_data["text"].strip()
        if not text:
            raise forms.ValidationError(_("Please write the journal entry."))
        return text


class HelpForm(forms.ModelForm):
    reason = forms.CharField(
        label=_("Reason for the team lead"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )

    class Meta:
        model = Help
        fields = [
            "recipient",
            "legal_basis",
            "setting",
            "provider",
            "responsible_staff",
            "start",
            "planned_end",
            "planned_hours_per_month",
            "daily_rate",
            "team_consultation",
            "resources",
        ]
        widgets = {
            "start": DateInput(),
            "planned_end": DateInput(),
            "resources": forms.CheckboxSelectMultiple,
        }
        field_classes = {
            "planned_hours_per_month": GermanDecimalField,
            "daily_rate": GermanDecimalField,
        }
        help_texts = {
            "setting": _("Left empty, the setting follows from the legal basis where it is fixed."),
            "planned_hours_per_month": _("For ambulant and flexible help."),
            "daily_rate": _("For stationary help."),
        }

    def __init__(self, *args, case: Case, **kwargs):
        self.case = case
        super().__init__(*args, **kwargs)
        self.fields["recipient"].queryset = case.family.members.all()
        self.fields["provider"].queryset = Provider.objects.order_by("name")
        self.fields["responsible_staff"].queryset = User.objects.filter(
            role__in=[Role.PROVIDER_STAFF, Role.PROVIDER_LEAD], is_active=True
        ).order_by("last_name", "first_name")
        self.fields["setting"].required = False
        self.fields["team_consultation"].queryset = case.consultations.all()
        self.fields["resources"].queryset = Resource.objects.filter(
            region_id=case.family.region_id
        ).order_by("kind", "organisation")

    def clean(self):
        data = super().clean()
        start, planned_end = data.get("start"), data.get("planned_end")
        if start and not self.errors.get("planned_end"):
            probe = Help(case=self.case, start=start, planned_end=planned_end)
            if needs_team_decision(probe) and not data.get("team_consultation"):
                self.add_error(
                    "team_consultation",
                    _(
                        "A help planned for more than %(months)s months (or without a planned "
                        "end) is chosen by several professionals: record the team consultation "
                        "first."
                    )
                    % {"months": settings.KIJUFAZ_TEAM_DECISION_MONTHS},
                )
        basis, setting = data.get("legal_basis"), data.get("setting")
        if basis:
            if not setting and basis in FIXED_SETTING:
                data["setting"] = setting = FIXED_SETTING[basis]
            elif not setting:
                self.add_error("setting", _("Please choose the setting for this legal basis."))
            elif setting not in allowed_settings(basis):
                self.add_error(
                    "setting", _("This setting is not possible for the chosen legal basis.")
                )
        start, planned_end = data.get("start"), data.get("planned_end")
        if start and start < self.case.opened_on:
            self.add_error("start", _("The help cannot start before the case was opened."))
        if start and planned_end and planned_end < start:
            self.add_error("planned_end", _("The planned end must not be before the start."))
        self._clean_money_fields(data, setting)
        staff, provider = data.get("responsible_staff"), data.get("provider")
        if staff and provider and staff.provider_id != provider.pk:
            self.add_error(
                "responsible_staff", _("This professional does not work for the chosen provider.")
            )
        return data

    def _clean_money_fields(self, data, setting):
        hours, rate = data.get("planned_hours_per_month"), data.get("daily_rate")
        if setting == Setting.STATIONARY:
            if rate is None:
                self.add_error("daily_rate", _("A stationary help needs a daily rate."))
            if hours is not None:
                self.add_error(
                    "planned_hours_per_month", _("A stationary help is paid by days, not hours.")
                )
        elif setting in (Setting.AMBULANT, Setting.FLEXIBLE):
            if hours is None:
                self.add_error(
                    "planned_hours_per_month", _("An ambulant help needs planned hours per month.")
                )
            if rate is not None:
                self.add_error("daily_rate", _("Only a stationary help has a daily rate."))
        if rate is not None and rate <= 0:
            self.add_error("daily_rate", _("The daily rate must be more than 0 €."))
        if hours is not None and hours < 0:
            self.add_error("planned_hours_per_month", _("Hours cannot be negative."))


class HelpEndForm(forms.Form):
    end = forms.DateField(label=_("Ended on"), widget=DateInput())
    end_reason = forms.ChoiceField(label=_("End reason"), choices=HelpEndReason.choices)

    def __init__(self, *args, help: Help, **kwargs):
        self.help = help
        super().__init__(*args, **kwargs)

    def clean_end(self):
        end = self.cleaned_data["end"]
        if end < self.help.start:
            raise forms.ValidationError(_("A help cannot end before it started."))
        if end > timezone.localdate() + datetime.timedelta(days=31):
            raise forms.ValidationError(_("The end may be at most one month ahead."))
        return end


class HoursChangeForm(forms.Form):
    proposed_hours_per_month = GermanDecimalField(
        label=_("New approved hours per month"),
        min_value=0,
        max_value=400,
        decimal_places=2,
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class ApprovalDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[(ApprovalStatus.APPROVED, _("approve")), (ApprovalStatus.REJECTED, _("reject"))],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def clean(self):
        data = super().clean()
        if data.get("decision") == ApprovalStatus.REJECTED and not data.get("comment", "").strip():
            self.add_error("comment", _("Please give a reason for the rejection."))
        return data


class HelpPlanForm(forms.ModelForm):
    based_on_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    resources = forms.ModelMultipleChoiceField(
        label=_("Resources of the social space involved"),
        queryset=Resource.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = HelpPlan
        fields = [
            "meeting_date",
            "participants",
            "young_person_present",
            "parents_present",
            "agreed_steps",
            "next_review_due",
        ]
        widgets = {
            "meeting_date": DateInput(),
            "next_review_due": DateInput(),
            "participants": forms.Textarea(attrs={"rows": 2}),
            "agreed_steps": forms.Textarea(attrs={"rows": 5}),
        }
        help_texts = {"next_review_due": _("Left empty: six months after the plan meeting.")}

    def __init__(self, *args, help: Help, **kwargs):
        self.help = help
        super().__init__(*args, **kwargs)
        self.fields["resources"].queryset = Resource.objects.filter(
            region_id=help.case.family.region_id
        ).order_by("kind", "organisation")
        self.fields["next_review_due"].required = False

    def clean_meeting_date(self):
        meeting_date = self.cleaned_data["meeting_date"]
        _not_in_future(meeting_date, _("The plan meeting cannot be in the future."))
        if meeting_date < self.help.case.opened_on:
            raise forms.ValidationError(_("The plan meeting cannot be before the case was opened."))
        return meeting_date

    def clean(self):
        data = super().clean()
        meeting_date = data.get("meeting_date")
        if meeting_date and not data.get("next_review_due"):
            data["next_review_due"] = next_review_date(meeting_date)
            self.instance.next_review_due = data["next_review_due"]
        review = data.get("next_review_due")
        if meeting_date and review and review <= meeting_date:
            self.add_error("next_review_due", _("The review must be after the plan meeting."))
        return data

    def _post_clean(self):
        # Help and version are set by the service; validate the rest only.
        self.instance.help = self.help
        self.instance.version = 1
        super()._post_clean()

    def get_validation_exclusions(self):
        return super().get_validation_exclusions() | {"help", "version"}


RATING_CHOICES = [("", "–")] + [(str(i), str(i)) for i in range(1, 6)]


class RatingFields(forms.Form):
    professional = forms.TypedChoiceField(
        label=_("Rating of the professional (1–5)"),
        choices=RATING_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
    )
    own = forms.TypedChoiceField(
        label=_("Own rating of the young person or parents (1–5)"),
        choices=RATING_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
    )

    def clean(self):
        data = super().clean()
        if data.get("own") is not None and data.get("professional") is None:
            self.add_error("professional", _("Please rate the goal yourself as well."))
        return data


class GoalForm(RatingFields):
    origin = forms.IntegerField(widget=forms.HiddenInput, required=False)
    description = forms.CharField(label=_("Goal"), max_length=500)
    status = forms.ChoiceField(label=_("Status"), choices=GoalStatus.choices, initial="open")

    field_order = ["origin", "description", "status", "professional", "own"]


class EndRatingForm(RatingFields):
    goal = forms.IntegerField(widget=forms.HiddenInput)


EndRatingFormSet = forms.formset_factory(EndRatingForm, extra=0, max_num=50)


class TeamConsultationForm(forms.ModelForm):
    class Meta:
        model = TeamConsultation
        fields = ["held_on", "participants", "options_considered", "decision", "reasons"]
        widgets = {
            "held_on": DateInput(),
            "participants": forms.CheckboxSelectMultiple,
            "options_considered": forms.Textarea(attrs={"rows": 3}),
            "decision": forms.Textarea(attrs={"rows": 2}),
            "reasons": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, case: Case, **kwargs):
        self.case = case
        super().__init__(*args, **kwargs)
        self.fields["participants"].queryset = (
            User.objects.filter(
                role__in=[Role.ASD, Role.ASD_LEAD, Role.PROVIDER_STAFF, Role.PROVIDER_LEAD],
                is_active=True,
            )
            .exclude(pk=case.owner_id)
            .order_by("role", "last_name", "first_name")
        )

    def clean_held_on(self):
        held_on = self.cleaned_data["held_on"]
        _not_in_future(held_on, _("The consultation cannot be in the future."))
        if held_on < self.case.opened_on:
            raise forms.ValidationError(_("The consultation cannot be before the case was opened."))
        return held_on

    def clean_participants(self):
        participants = self.cleaned_data["participants"]
        if len([p for p in participants if p.pk != self.case.owner_id]) < 2:
            raise forms.ValidationError(
                _("At least two professionals besides the case owner take part.")
            )
        return participants


class ResourceForm(forms.ModelForm):
    class Meta:
        model = Resource
        fields = [
            "region",
            "organisation",
            "kind",
            "street",
            "postal_code",
            "city",
            "contact_person",
            "phone",
            "email",
            "offer",
            "opening_times",
            "notes",
        ]
        widgets = {
            "offer": forms.Textarea(attrs={"rows": 3}),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def clean_postal_code(self):
        code = self.cleaned_data["postal_code"].strip()
        if code and (len(code) != 5 or not code.isdigit()):
            raise forms.ValidationError(_("A German postal code has exactly five digits."))
        return code


class ResourceImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"), help_text=_("Semicolon-separated, UTF-8, with a header line.")
    )


class BaseGoalFormSet(forms.BaseFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        filled = [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        if not filled:
            raise forms.ValidationError(_("A help plan needs at least one goal."))

    def goals(self) -> list[GoalInput]:
        return [
            GoalInput(
                description=f.cleaned_data["description"],
                status=f.cleaned_data["status"],
                origin_id=f.cleaned_data.get("origin"),
                professional=f.cleaned_data.get("professional"),
                own=f.cleaned_data.get("own"),
            )
            for f in self.forms
            if f.cleaned_data and f.cleaned_data.get("description")
        ]


GoalFormSet = forms.formset_factory(
    GoalForm, formset=BaseGoalFormSet, extra=2, max_num=20, validate_max=True
)


class RiskAssessmentForm(forms.ModelForm):
    class Meta:
        model = RiskAssessment
        fields = [
            "report_received_on",
            "report_source",
            "report_summary",
            "first_assessment_on",
            "first_assessor",
            "second_assessor",
            "risk_level",
            "assessment",
            "protection_plan",
            "next_follow_up_on",
            "status",
        ]
        widgets = {
            "report_received_on": DateInput(),
            "first_assessment_on": DateInput(),
            "next_follow_up_on": DateInput(),
            "report_summary": forms.Textarea(attrs={"rows": 3}),
            "assessment": forms.Textarea(attrs={"rows": 4}),
            "protection_plan": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, case: Case, **kwargs):
        self.case = case
        super().__init__(*args, **kwargs)
        asd_staff = User.objects.filter(
            role__in=[Role.ASD, Role.ASD_LEAD], is_active=True, team__region_id=case.team.region_id
        ).order_by("last_name", "first_name")
        self.fields["first_assessor"].queryset = asd_staff
        self.fields["second_assessor"].queryset = asd_staff

    def clean_report_received_on(self):
        day = self.cleaned_data["report_received_on"]
        _not_in_future(day, _("The report cannot have been received in the future."))
        return day

    def clean(self):
        data = super().clean()
        first, second = data.get("first_assessor"), data.get("second_assessor")
        assessed_on, received_on = data.get("first_assessment_on"), data.get("report_received_on")
        if assessed_on:
            _check = _("The first assessment is made by two professionals (four-eyes principle).")
            if not first:
                self.add_error("first_assessor", _check)
            if not second:
                self.add_error("second_assessor", _check)
            if received_on and assessed_on < received_on:
                self.add_error(
                    "first_assessment_on", _("The assessment cannot be before the report.")
                )
            if assessed_on > timezone.localdate():
                self.add_error(
                    "first_assessment_on", _("The assessment date cannot be in the future.")
                )
        if first and second and first == second:
            self.add_error("second_assessor", _("The second professional must be another person."))
        status, level = data.get("status"), data.get("risk_level")
        if status != RiskAssessmentStatus.REPORTED and not assessed_on:
            self.add_error("first_assessment_on", _("Record the first assessment first."))
        if assessed_on and level == RiskLevel.NOT_ASSESSED:
            self.add_error("risk_level", _("Please record the result of the assessment."))
        if status == RiskAssessmentStatus.PROTECTION_PLAN and not data.get("protection_plan"):
            self.add_error("protection_plan", _("Please describe the agreed protection plan."))
        follow_up = data.get("next_follow_up_on")
        if follow_up and received_on and follow_up < received_on:
            self.add_error("next_follow_up_on", _("The follow-up cannot be before the report."))
        return data

    def _post_clean(self):
        self.instance.case = self.case
        super()._post_clean()


# --- § 35 SGB I named access, deputies, § 65 SGB VIII readers --------------------------


def _reason_field():
    return forms.CharField(
        label=_("Reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ConfidentialForm(forms.Form):
    """Both fields are single values: a repeated one is refused rather than guessed."""

    confidential = forms.BooleanField(
        label=_("Only the owner and the named people see this case (§ 35 SGB I)"),
        required=False,
    )
    reason = _reason_field()

    def clean(self):
        data = super().clean()
        getlist = getattr(self.data, "getlist", None)
        for name in self.fields:
            if getlist is not None and len(getlist(name)) > 1:
                self.add_error(name, _("Enter one value only."))
        return data


class CaseAccessGrantForm(forms.Form):
    user = forms.ModelChoiceField(label=_("Person"), queryset=User.objects.none())
    reason = _reason_field()
    valid_until = forms.DateField(
        label=_("Valid until"),
        required=False,
        widget=DateInput(),
        help_text=_("Leave empty for as long as the grant is not revoked."),
    )

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = candidates

    def clean_valid_until(self):
        valid_until = self.cleaned_data["valid_until"]
        if valid_until is not None and valid_until < timezone.localdate():
            raise forms.ValidationError(_("The end date must not be in the past."))
        return valid_until


class DeputyAssignmentForm(forms.Form):
    absent = forms.ModelChoiceField(label=_("Absent caseworker"), queryset=User.objects.none())
    deputy = forms.ModelChoiceField(label=_("Deputy"), queryset=User.objects.none())
    valid_from = forms.DateField(label=_("Valid from"), widget=DateInput())
    valid_until = forms.DateField(label=_("Valid until"), widget=DateInput())
    reason = _reason_field()

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["absent"].queryset = candidates
        self.fields["deputy"].queryset = candidates

    def clean(self):
        data = super().clean()
        absent, deputy = data.get("absent"), data.get("deputy")
        if absent is not None and absent == deputy:
            self.add_error(
                "deputy", _("The deputy must be someone else than the absent caseworker.")
            )
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end < start:
            self.add_error("valid_until", _("The end date must not be before the start."))
        return data


class NoteReaderForm(forms.Form):
    user = forms.ModelChoiceField(label=_("Colleague"), queryset=User.objects.none())
    reason = _reason_field()

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = candidates
