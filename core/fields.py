"""Form fields rendered by crispy-forms once per distinct input, then read from the cache.

Rendering one field through crispy's bootstrap5 template costs 0.3–1 ms, and the busy
pages render the same fields for every request: the case list's nine filters, the
hour sheet's entry form. The markup of a field depends only on what the key below
holds: the field's name, id, label, help text, kind, widget and its attributes, its
value and its choices, whether it is required or disabled, the form renderer, the
language and the time zone. The cache's key prefix holds the release
(kijufaz/release.py), so a changed template is never read from an older entry; as a
key always names the same markup, each process also keeps the busy fields in memory
(core.content_cache). A field with errors, or of a form with a crispy helper, is
rendered every time.

Personal data stays out of the cache: a field whose choices name families
(`shows_personal_data` on the form field, e.g. the hour sheet's helps) and a text
field holding what the user typed (a searched name) are rendered every time.
"""

import hashlib

from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field
from django import forms
from django.utils.safestring import mark_safe
from django.utils.timezone import get_current_timezone_name
from django.utils.translation import get_language

from core import content_cache

CACHE_SECONDS = 24 * 3600


def _plain(value):
    """Choices and values as plain strings and tuples: the same input, the same key."""
    if isinstance(value, list | tuple):
        return tuple(_plain(item) for item in value)
    return None if value is None else str(value)


def render_key(field) -> str | None:
    """What the field's markup depends on, or None if it is not to be cached."""
    if field.errors or getattr(field.form, "helper", None) is not None:
        return None
    widget = field.field.widget
    if getattr(field.field, "shows_personal_data", False):
        return None
    # What the user typed (a name searched for); dates and times are no one's name.
    typed = isinstance(widget, forms.Textarea | forms.TextInput) and not isinstance(
        widget, forms.DateInput | forms.TimeInput | forms.DateTimeInput
    )
    if typed and field.value():
        return None
    choices = getattr(widget, "choices", None)
    if choices is not None:
        # Once for the key and for the rendering (a model choice field would query again;
        # list() would also ask for its length, one more query).
        choices = [choice for choice in choices]  # noqa: C416
        widget.choices = choices
    parts = (
        get_language(),
        get_current_timezone_name(),
        field.html_name,
        field.auto_id,
        str(field.label),
        str(field.help_text),
        type(field.field).__name__,
        field.field.required,
        field.field.disabled,
        type(field.form.renderer).__module__,
        type(field.form.renderer).__qualname__,
        field.form.use_required_attribute,
        field.form.empty_permitted,
        field.css_classes(),
        type(widget).__name__,
        getattr(widget, "input_type", None),
        getattr(widget, "format", None),
        _plain(sorted((str(key), str(value)) for key, value in widget.attrs.items())),
        _plain(field.value()),
        _plain(choices),
    )
    return "crispy-field:" + hashlib.sha256(repr(parts).encode()).hexdigest()


def cached_crispy_field(field):
    """`as_crispy_field(field)`, from the cache when the same input was rendered before."""
    key = render_key(field)
    if key is None:
        return as_crispy_field(field)
    html = content_cache.get_or_set(key, lambda: str(as_crispy_field(field)), CACHE_SECONDS)
    return mark_safe(html)  # noqa: S308 (crispy's own escaped markup, as rendered)  # nosec B308 B703
