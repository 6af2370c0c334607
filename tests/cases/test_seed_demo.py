import datetime
from io import StringIO

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import CommandError, call_command
from django.utils import timezone

from cases.management.commands.seed_demo import DEMO_USERS
from cases.models import (
    Case,
    CaseNote,
    Family,
    Help,
    HelpApproval,
    HelpEndReason,
    HelpPlan,
    HelpPlanGoal,
    LegalBasis,
    Person,
    Region,
    RiskAssessment,
    Setting,
    Team,
)
from core.models import AuditEntry, User
from providers.models import Provider

pytestmark = pytest.mark.django_db

MODELS = [
    Region,
    Team,
    Provider,
    User,
    Family,
    Person,
    Case,
    Help,
    HelpApproval,
    HelpPlan,
    HelpPlanGoal,
    CaseNote,
    RiskAssessment,
]


@pytest.fixture(autouse=True)
def demo_seed_allowed(settings):
    settings.KIJUFAZ_ALLOW_DEMO_SEED = True


def seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def test_second_run_changes_nothing():
    seed()
    first = row_counts()

    output = seed()

    assert "Demo data already present" in output
    assert row_counts() == first
    assert first["Family"] >= 100
    assert first["Case"] >= 140


def test_seeding_writes_no_audit_entries():
    seed()

    assert not AuditEntry.objects.exists()


def test_every_demo_user_logs_in_with_password_demo():
    seed()

    for spec in DEMO_USERS:
        user = User.objects.get(username=spec.username)
        assert user.role == spec.role
        assert check_password("demo", user.password), spec.username


def test_second_run_repairs_a_changed_demo_password():
    seed()
    User.objects.filter(username="asd").update(password="!unusable")

    seed()

    assert check_password("demo", User.objects.get(username="asd").password)


def test_only_admin_is_superuser():
    seed()

    assert list(User.objects.filter(is_superuser=True).values_list("username", flat=True)) == [
        "admin"
    ]
    assert User.objects.get(username="admin").is_staff


def test_fachkraft_provider_has_active_helps_in_both_teams():
    seed()
    fachkraft = User.objects.get(username="fachkraft")

    serving = Help.objects.serving_provider(fachkraft.provider_id)

    assert fachkraft.provider.short_name == "Friedenshort"
    assert serving.filter(case__team__name="ASD-Team Nord").count() >= 5
    assert serving.filter(case__team__name="ASD-Team Mitte").count() >= 3
    assert Case.objects.visible_to(fachkraft).count() >= 10


def test_asd_has_a_caseload_with_work_due():
    seed()
    asd = User.objects.get(username="asd")
    today = timezone.localdate()
    soon = today + datetime.timedelta(days=30)

    assert Case.objects.filter(owner=asd).open().count() == 15
    assert Case.objects.filter(owner=asd).open().review_overdue().exists()
    assert (
        HelpPlan.objects.current()
        .filter(help__case__owner=asd, help__end__isnull=True, next_review_due__range=(today, soon))
        .exists()
    )
    assert Help.objects.ending_within(30).filter(case__owner=asd).exists()
    assert RiskAssessment.objects.follow_up_due(7).filter(case__owner=asd).exists()


def test_asdlead_has_approvals_waiting():
    seed()
    lead = User.objects.get(username="asdlead")

    waiting = HelpApproval.objects.filter(help__case__team=lead.team, decision="requested")

    assert waiting.exists()
    assert not waiting.filter(requested_by=lead).exists()


def test_helps_cover_every_legal_basis_setting_and_end_reason():
    seed()

    assert set(Help.objects.values_list("legal_basis", flat=True)) == set(LegalBasis.values)
    assert set(Help.objects.values_list("setting", flat=True)) == set(Setting.values)
    ended = Help.objects.exclude(end=None)
    assert set(ended.values_list("end_reason", flat=True)) == set(HelpEndReason.values)


def test_refuses_where_demo_data_is_not_allowed(settings):
    settings.KIJUFAZ_ALLOW_DEMO_SEED = False

    with pytest.raises(CommandError, match="KIJUFAZ_ALLOW_DEMO_SEED"):
        seed()

    assert not Region.objects.exists()
    assert not User.objects.exists()


def test_force_seeds_where_demo_data_is_not_allowed(settings):
    settings.KIJUFAZ_ALLOW_DEMO_SEED = False

    seed("--force")

    assert Region.objects.filter(slug="modellregion").exists()
