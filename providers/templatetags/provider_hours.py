from django import template

from providers.selectors import delivered_by_help

register = template.Library()


@register.simple_tag
def delivered_hours(helps) -> dict:
    """{help id: {"month": hours, "total": hours}} for the helps on a case page, in one query."""
    return delivered_by_help([h.pk for h in helps])


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None
