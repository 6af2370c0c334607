from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


class DateInput(forms.DateInput):
    """The browser's own date picker; the value travels as ISO 8601."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def add_service_errors(form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: next to its field where it names one."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def parse_german_number(value: str) -> str:
    """'12.500,00' -> '12500.00'; '12,5' -> '12.5'; '12.5' (a decimal point) stays.

    The same reading Django applies with USE_THOUSAND_SEPARATOR, which this project
    leaves off so that ids never come out as '2.307' in HTML.
    """
    value = value.strip().replace("\u00a0", "").replace(" ", "")
    whole, comma, decimals = value.partition(",")
    if "." in whole and (comma or whole.count(".") > 1 or len(whole.rsplit(".", 1)[1]) == 3):
        whole = whole.replace(".", "")
    return f"{whole}.{decimals}" if comma else whole


class GermanDecimalField(forms.DecimalField):
    """A decimal typed the German way: 1.234,56 (a plain 1234.56 works too)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal"}))
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        if isinstance(value, str):
            value = parse_german_number(value)
        return super().to_python(value)


class PasswordConfirmForm(forms.Form):
    """The password once more, before an export or a far-reaching decision."""

    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
        error_messages={"required": _("Please enter your password.")},
    )


class OTPTokenForm(forms.Form):
    """The six-digit code from the authenticator app, or one backup code."""

    token = forms.CharField(
        label=_("Code"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
        error_messages={"required": _("Please enter the code.")},
    )
