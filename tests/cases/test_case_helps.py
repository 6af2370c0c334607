"""The helps of the case page read the same on PostgreSQL (arrays in the helps query)
and elsewhere (SQLite for `make run`: one query each for resources and approvals)."""

import datetime

import pytest

from cases import selectors
from cases.access import get_case_for
from cases.models import Help, HelpEndReason, Resource, ResourceKind
from tests import factories as f

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


@pytest.mark.parametrize("who", ["asd", "fachkraft", "leitung", "fachkraft_other_provider"])
def test_the_case_page_shows_the_helps_the_user_sees_without_asking_again(
    request, who, case, running_help, provider, other_provider, asd
):
    f.make_help(case, other_provider)
    f.make_help(
        case,
        provider,
        start=case.opened_on - datetime.timedelta(days=400),
        end=case.opened_on - datetime.timedelta(days=200),
        end_reason=HelpEndReason.AS_PLANNED,
    )
    user = request.getfixturevalue(who)
    expected = set(Help.objects.visible_to(user).filter(case=case).values_list("pk", flat=True))
    # A case read for this user by get_case_for: its visibility is not asked again.
    if expected:
        read = get_case_for(user, case.pk)
        assert {h.pk for h in Help.objects.on_case_seen_by(read, user)} == expected
    # Any other case object: asked again (nothing for a user who does not see the case).
    assert {h.pk for h in Help.objects.on_case_seen_by(case, user)} == expected
    if who == "fachkraft":
        assert expected == {running_help.pk}
    if who == "asd":
        assert len(expected) == 3
