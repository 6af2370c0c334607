"""The form renderer: the project's templates (TEMPLATES), with select boxes drawn in Python.

Rendering form fields was the largest single cost of the busiest pages under load
(a fifth of the application's CPU time in `make load`), and most of it was the select
boxes: the hour sheet's list of helps and the case list's filters run the template
engine's loop once per option. `render_select` writes exactly the markup of
templates/django/forms/widgets/select.html, with the template engine's own escaping
and localisation; tests/core/test_renderers.py renders every kind of select both ways
and compares them, so the template stays the specification.
"""

from django.forms.renderers import TemplatesSetting
from django.template import Context
from django.template.base import render_value_in_context
from django.template.defaultfilters import stringformat
from django.utils.safestring import SafeData, mark_safe

SELECT_TEMPLATE = "django/forms/widgets/select.html"

# What `{{ ... }}` sees in a widget template: autoescaping on, the active language's
# formats and time zone.
_CONTEXT = Context(autoescape=True)


def _value(value) -> str:
    """`{{ value }}`."""
    return render_value_in_context(value, _CONTEXT)


def _string(value) -> str:
    """`{{ value|stringformat:'s' }}`."""
    text = stringformat(value, "s")
    if isinstance(value, SafeData):
        # Only text that was safe already: the template engine does the same for this filter.
        text = mark_safe(text)  # noqa: S308  # nosec B308 B703
    return _value(text)


def _attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html."""
    return "".join(
        f" {_value(name)}" if value is True else f' {_value(name)}="{_string(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def render_select(widget: dict) -> str:
    parts = [f'<select name="{_value(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, __ in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_value(group_name)}">')
        parts.extend(
            f'\n  <option value="{_string(option["value"])}"{_attrs(option["attrs"])}>'
            f"{_value(option['label'])}</option>"
            for option in group_choices
        )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


class FormRenderer(TemplatesSetting):
    def render(self, template_name, context, request=None):
        if template_name == SELECT_TEMPLATE:
            return render_select(context["widget"])
        return super().render(template_name, context, request=request)
