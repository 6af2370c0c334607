import importlib

import pytest
from django.apps import apps

default_rules = importlib.import_module("privacy.migrations.0002_default_rules_and_schedule")


@pytest.fixture(autouse=True)
def retention_rules_as_deployed(request):
    """The default retention rules and the nightly schedule as the data migration deploys
    them: a transactional test earlier in the session empties every table, the rows of
    data migrations included. (pytest-django's database fixtures run first.)"""
    if request.node.get_closest_marker("django_db"):
        default_rules.create(apps, None)
