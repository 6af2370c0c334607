from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.utils.formats import number_format

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
