"""Labels of choice fields, translated one at a time."""

from django.db import models


def label_of(choices: type[models.Choices], value) -> str:
    """The translated label of `value`, or the value itself if it is not a choice.

    Django's get_FOO_display translates every label of the field on each call (it hashes
    the lazy labels); pages that show a label per row use this instead.
    """
    try:
        return str(choices(value).label)
    except ValueError:
        return value
