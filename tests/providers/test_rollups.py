"""The monthly hour rollups always equal the sums of the entries they summarise.

The rollups are kept by a PostgreSQL trigger in the same transaction as the entry, so
every path counts: logging, changing (minutes, day, kind), deleting, corrections after
an approval and group sessions split across helps.
"""

import datetime
import uuid
from decimal import Decimal

import pytest

from budgets.models import ServiceContract
from controlling.kpis import Period, compute_kpis
from providers import services
from providers.models import HourKind
from tests import factories as f
from tests.hour_sums import rolled_up, summed_entries

from .conftest import TODAY

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

OCTOBER = datetime.date(2026, 10, 20)


@pytest.fixture
def second_help(asd, provider):
    case = f.make_case(asd, family_name="Schmidt")
    return f.make_help(case, provider)


def test_rollup_equals_the_entries_after_logging_changing_correcting_and_deleting(
    fachkraft, traegerleitung, help, second_help, log
):
    specific = log(fachkraft, help=help, minutes=60, date=OCTOBER)
    unspecific = log(fachkraft, minutes=30, date=OCTOBER)
    cross = log(fachkraft, minutes=45, kind=HourKind.CROSS_CASE, date=TODAY)
    assert rolled_up() == summed_entries()

    services.update_entry(
        entry=cross, by=fachkraft, fields={"minutes": 50, "date": TODAY - datetime.timedelta(1)}
    )
    services.update_entry(
        entry=unspecific, by=fachkraft, fields={"kind": HourKind.CROSS_CASE, "minutes": 35}
    )
    services.log_group_session(
        staff=fachkraft,
        idempotency_key=uuid.uuid4(),
        date=TODAY,
        minutes=91,
        helps=[help, second_help],
    )
    assert rolled_up() == summed_entries()

    services.approve_month(staff=fachkraft, month=OCTOBER.replace(day=1), by=traegerleitung)
    specific.refresh_from_db()
    services.correct_entry(
        original=specific, corrected_minutes=20, reason="Tippfehler", by=fachkraft
    )
    services.delete_entry(entry=cross, by=fachkraft)
    assert rolled_up() == summed_entries()
    assert sum(rolled_up().values()) == 20 + 35 + 91


def test_rebuilding_gives_what_the_trigger_kept(fachkraft, help, log):
    log(fachkraft, help=help, minutes=60, date=OCTOBER)
    entry = log(fachkraft, minutes=30, date=TODAY)
    services.delete_entry(entry=entry, by=fachkraft)
    kept = rolled_up()

    services.rebuild_hour_rollups()

    assert rolled_up() == kept == summed_entries()


def test_kpis_over_whole_months_read_the_rollups_and_match_the_entries(
    fachkraft, help, region, provider, log
):
    contract = ServiceContract.objects.create(region=region, year=2026, title="Vertrag")
    contract.providers.add(provider)
    log(fachkraft, help=help, minutes=60, date=OCTOBER)
    log(fachkraft, minutes=30, date=OCTOBER)
    entry = log(fachkraft, minutes=45, date=TODAY)
    services.delete_entry(entry=entry, by=fachkraft)

    kpis = compute_kpis(regions=[region], period=Period.of_quarter(2026, 4))

    assert kpis.minutes_total == 90
    assert kpis.minutes_by_kind[HourKind.CASE_SPECIFIC] == 60
    assert kpis.minutes_by_provider == {provider.name: 90}
    assert kpis.case_unspecific_share == Decimal("33.3")
