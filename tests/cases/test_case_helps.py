"""The helps of the case page read the same on PostgreSQL (arrays in the helps query)
and elsewhere (SQLite for `make run`: one query each for resources and approvals)."""

import pytest

from cases import selectors
from cases.models import Help, Resource, ResourceKind

pytestmark = pytest.mark.django_db


def shown(helps):
    return [
        (
            help.pk,
            help.resource_names,
            [(a.kind, a.proposed_hours_per_month) for a in help.pending_approvals],
            [plan.pk for plan in help.plan_versions],
        )
        for help in helps
    ]


def test_names_and_pending_approvals_are_the_same_without_postgresql_arrays(
    case, asd, running_help, pending_approval, region
):
    for name in ("Jugendtreff Mitte", "Beratungsstelle Nord"):
        running_help.resources.add(
            Resource.objects.create(region=region, organisation=name, kind=ResourceKind.SCHOOL)
        )
    plain = list(Help.objects.filter(case=case).prefetch_related("plans"))
    for help in plain:
        help.plan_versions = list(help.plans.all())

    arrays = selectors.case_helps_for(case, asd)
    without = selectors._with_names_and_approvals(plain)

    assert shown(sorted(without, key=lambda h: h.pk)) == shown(sorted(arrays, key=lambda h: h.pk))
    by_pk = {help.pk: help for help in without}
    assert by_pk[running_help.pk].resource_names == ["Beratungsstelle Nord", "Jugendtreff Mitte"]
    pending = by_pk[pending_approval.help_id].pending_approvals
    assert [(a.kind, a.proposed_hours_per_month) for a in pending] == [
        (pending_approval.kind, pending_approval.proposed_hours_per_month)
    ]
