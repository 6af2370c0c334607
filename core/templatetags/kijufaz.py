import dataclasses
import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.conf import settings
from django.template.base import token_kwargs
from django.urls import get_script_prefix
from django.utils.formats import number_format
from django.utils.safestring import mark_safe
from django.utils.timezone import get_current_timezone_name
from django.utils.translation import get_language

from core import content_cache
from core.fields import cached_crispy_field

register = template.Library()


@register.filter
def euro(value) -> str:
    """1234.5 -> '1.234,50 €' (German locale), never through float."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except (InvalidOperation, TypeError, ValueError):
        return ""
    return f"{number_format(amount, decimal_pos=2, force_grouping=True)}\u00a0€"


@register.filter
def as_cached_crispy_field(field):
    """`field|as_crispy_field`, rendered once per distinct input (core.fields)."""
    return cached_crispy_field(field)


# Rendered rows of the busy tables (hour sheet, case list, desk): about 1 kB each.
REMEMBERED_ROWS = content_cache.Remembered(max_size=8_000_000)


@register.tag
def remembered_include(parser, token):
    """{% remembered_include "template.html" name=value ... %}: the template rendered
    with only these values, remembered in this process for the same values.

    A busy table renders the same rows request after request (under load, the hour
    sheet's hundred entries were its largest cost). The row template sees nothing but
    the values given (no request, no user, no context processors), so its output
    depends only on them and on the language, time zone and script prefix, which are
    part of the key; nothing needs invalidating. Only plain values are remembered
    (`plain_key`: texts, whole numbers, dates and times, and frozen dataclasses of
    those, such as the selectors' rows), keyed with their types. Any other value (a
    model instance equals another of the same primary key, whatever its content)
    makes the row be rendered every time. Rows name families, so they stay in the
    process's memory (core.content_cache.Remembered), never in the cache server. With
    DEBUG on, every row is rendered anew (an edited template shows at once)."""
    bits = token.split_contents()
    if len(bits) < 3:
        raise template.TemplateSyntaxError(
            f"{bits[0]} takes a template name and at least one name=value."
        )
    rest = bits[2:]
    values = token_kwargs(rest, parser, support_legacy=False)  # takes what it reads
    if rest or not values:
        raise template.TemplateSyntaxError(f"{bits[0]} takes only name=value after the name.")
    return RememberedIncludeNode(parser.compile_filter(bits[1]), values)


# Exactly these types: equal values of them look the same once their type is known
# (True equals 1, and a SafeString equals the str it was made from, but neither looks
# the same). Not float or Decimal: 0.0 and -0.0, 1.0 and 1.00 are equal but shown
# differently.
PLAIN_TYPES = frozenset(
    {str, int, bool, type(None), datetime.date, datetime.datetime, datetime.time}
)
_plain_fields: dict[type, tuple[str, ...] | None] = {}


def plain_key(value):
    """A key that values share only if they look the same, or None if `value` is not
    plain: see remembered_include."""
    kind = type(value)
    if kind in PLAIN_TYPES:
        return _typed(kind, value)
    if kind not in _plain_fields:
        params = getattr(kind, "__dataclass_params__", None)
        frozen = params is not None and params.frozen
        _plain_fields[kind] = tuple(f.name for f in dataclasses.fields(kind)) if frozen else None
    names = _plain_fields[kind]
    if names is None:
        return None
    parts = [kind]
    for name in names:
        field = getattr(value, name)
        field_kind = type(field)
        if field_kind not in PLAIN_TYPES:
            return None
        parts.append(_typed(field_kind, field))
    return tuple(parts)


def _typed(kind, value) -> tuple:
    # Equal moments in other time zones: equal, but not shown alike without conversion.
    return (kind, value, value.tzinfo) if kind is datetime.datetime else (kind, value)


class RememberedIncludeNode(template.Node):
    def __init__(self, template_name, values):
        self.template_name = template_name
        self.values = values

    def render(self, context):
        name = self.template_name.resolve(context)
        values = {key: value.resolve(context) for key, value in self.values.items()}
        typed = tuple(sorted((n, plain_key(value)) for n, value in values.items()))
        remember = not settings.DEBUG and all(k is not None for __, k in typed)
        key = (
            name,
            typed,
            get_language(),
            get_current_timezone_name(),
            get_script_prefix(),
            context.autoescape,
            context.use_l10n,
            context.use_tz,
        )
        html = REMEMBERED_ROWS.get(key) if remember else None
        if html is None:
            row = context.template.engine.get_template(name)
            html = row.render(
                template.Context(
                    values,
                    autoescape=context.autoescape,
                    use_l10n=context.use_l10n,
                    use_tz=context.use_tz,
                )
            )
            if remember:
                REMEMBERED_ROWS.keep(key, html)
        return mark_safe(html)  # noqa: S308 (the row template's own escaped output)  # nosec B308 B703
