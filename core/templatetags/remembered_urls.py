"""`{% url %}` that remembers what it reversed: a built-in of the template engine
(settings.TEMPLATES), so every template's `{% url %}` is this one.

Django reverses each `{% url %}` anew, 10–20 µs a time. A page reverses the navigation's
dozen names and one link per table row, the same ones request after request: under
load, reversing was 5 % of the application's CPU. A reversed URL depends only on the
key of `remembered_reverse`, so each process keeps the most recent ones.
"""

from functools import lru_cache

from django import template
from django.template.defaulttags import URLNode
from django.template.defaulttags import url as parse_url
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape

register = template.Library()


@lru_cache(maxsize=8192)
def _reverse(view_name, typed_args, typed_kwargs, current_app, script_prefix, urlconf):
    # script_prefix is part of the key only: reverse() reads the same value itself.
    return reverse(
        view_name,
        urlconf=urlconf,
        args=[value for __, value in typed_args],
        kwargs={key: value for key, __, value in typed_kwargs},
        current_app=current_app,
    )


def remembered_reverse(view_name, args=(), kwargs=None, current_app=None) -> str:
    """reverse(), remembered per process. The arguments' types are part of the key
    (True and 1 are equal in Python, not in a URL); unhashable arguments are reversed
    every time."""
    typed_args = tuple((type(value), value) for value in args)
    typed_kwargs = tuple(sorted((key, type(value), value) for key, value in (kwargs or {}).items()))
    try:
        return _reverse(
            view_name, typed_args, typed_kwargs, current_app, get_script_prefix(), get_urlconf()
        )
    except TypeError:
        return reverse(view_name, args=args, kwargs=kwargs, current_app=current_app)


class RememberedURLNode(URLNode):
    """Django's URLNode.render with remembered_reverse."""

    def render(self, context):
        args = [arg.resolve(context) for arg in self.args]
        kwargs = {key: value.resolve(context) for key, value in self.kwargs.items()}
        view_name = self.view_name.resolve(context)
        try:
            current_app = context.request.current_app
        except AttributeError:
            try:
                current_app = context.request.resolver_match.namespace
            except AttributeError:
                current_app = None
        url = ""
        try:
            url = remembered_reverse(view_name, args, kwargs, current_app)
        except NoReverseMatch:
            if self.asvar is None:
                raise
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser, token):
    """Parsed as Django's {% url %} is."""
    node = parse_url(parser, token)
    return RememberedURLNode(node.view_name, node.args, node.kwargs, node.asvar)
