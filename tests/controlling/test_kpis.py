"""The KPI service against a hand-built data set: every expected value is worked out by hand.

The main period is Q3 2025: 01.07.2025–30.09.2025, 92 days (31 + 31 + 30).
Region Nord holds the data set below; region Mitte a little more, to show that
regions are kept apart and add up.

Helps in Nord (approved unless said otherwise):
  H1  § 31 ambulant    F1 Yilmaz    01.03.2025–15.08.2025 as_planned        crosses the start
  H2  § 27(2) flexible F2 Becker    01.09.2025–20.10.2025 broken_off_family crosses the end
  H3  § 35 ambulant    F2 Becker    01.11.2024–open                         open-ended
  H4  § 34 stationary  F3 Schneider 20.06.2025–10.08.2025 return            rate 200 → 220
  H5  § 33 stationary  F4 Wagner    01.01.2025–open (planned 30.06.2026)    rate 100
  H6  § 32 day care    F5 Klein     01.07.2025–30.09.2025 broken_off_provider
  H7  § 30 ambulant    F5 Klein     01.02.2025–01.07.2025 changed
  H8  § 28 ambulant    F1 Yilmaz    01.01.2024–30.06.2025 as_planned        ended before
  H9  § 31 ambulant    F6 Meyer     01.08.2025–open, only requested         never counts
  H10 § 41 ambulant    F3 Schneider 10.07.2025–10.07.2025 broken_off_family one day
  H11 § 31 ambulant    F6 Meyer     01.10.2025–open                         starts after
"""

import datetime
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from budgets.models import PlanLine, Posting, Reallocation, ServiceContract, SubBudget
from budgets.selectors import money, stationary_cost, stationary_rates
from cases.models import DailyRate, LegalBasis, Region, Setting
from controlling.kpis import KpiSet, Period, compute_kpis, kpi_comparison, parse_period
from core.models import Role
from providers.models import Consortium, GroupOffer, GroupSession, HourEntry, HourKind
from tests import factories as f

pytestmark = pytest.mark.django_db

d = datetime.date
AMB, FLEX, DAY, STAT = Setting.AMBULANT, Setting.FLEXIBLE, Setting.DAY_CARE, Setting.STATIONARY
Q3 = Period.of_quarter(2025, 3)
BERLIN = ZoneInfo("Europe/Berlin")

# The query count of one compute_kpis call, measured (it does not grow with regions or rows):
# 12, plus one grouped query for the goal ratings of the helps ended in the period. (The
# budget figures take plan lines and reallocations in one query and the commitment with
# the stationary costs, and leave out the families reached, counted once for the period.)
MAX_QUERIES = 13


# --- The data set ------------------------------------------------------------------


def make_family(region, name, *first_names):
    family = f.make_family(region, name)
    people = [f.make_person(family, first_name) for first_name in first_names]
    return family, people


def make_help(owner, family, provider, legal_basis, setting, start, end=None, reason="", **extra):
    case = family.cases.first() or f.make_case(owner, family=family, opened_on=d(2024, 1, 1))
    return f.make_help(
        case,
        provider,
        legal_basis=legal_basis,
        setting=setting,
        start=start,
        end=end,
        end_reason=reason,
        **extra,
    )


def rate(help, valid_from, amount, valid_until=None):
    return DailyRate.objects.create(
        help=help, valid_from=valid_from, valid_until=valid_until, amount=Decimal(amount)
    )


def make_contract(region, year, plan: dict, providers=()):
    contract = ServiceContract.objects.create(region=region, year=year, title=f"LV {year}")
    contract.providers.set(providers)
    for kind, lines in plan.items():
        sub = SubBudget.objects.create(contract=contract, kind=kind)
        for category, amount in lines:
            PlanLine.objects.create(sub_budget=sub, category=category, amount=Decimal(amount))
    return contract


def post(contract, booked_on, amount, by, kind="cost"):
    return Posting.objects.create(
        sub_budget=contract.sub_budgets.get(kind="flexible"),
        booked_on=booked_on,
        amount=Decimal(amount),
        kind=kind,
        category="personnel",
        text="Personalkosten",
        created_by=by,
    )


def reallocate(contract, amount, status, decided_on, proposer, decider):
    return Reallocation.objects.create(
        contract=contract,
        direction="to_flexible",
        amount=Decimal(amount),
        reason="Rückführung",
        status=status,
        proposed_by=proposer,
        decided_by=decider if status == "approved" else None,
        decided_at=datetime.datetime.combine(decided_on, datetime.time(12), BERLIN)
        if status == "approved"
        else None,
    )


def hours(staff, day, minutes, kind, help=None, **extra):
    return HourEntry.objects.create(
        staff=staff,
        provider=staff.provider,
        date=day,
        minutes=minutes,
        kind=kind,
        help=help,
        **extra,
    )


def session(offer, day, anonymous, registered=()):
    group_session = GroupSession.objects.create(
        offer=offer, date=day, duration_minutes=90, anonymous_participants=anonymous
    )
    group_session.registered_participants.set(registered)
    return group_session


@pytest.fixture
def world(
    region,
    other_region,
    asd,
    asd_other_team,
    provider,
    other_provider,
    stationary_provider,
    fachkraft,
    fachkraft_other_provider,
    leitung,
    controlling,
):
    nord, mitte = region, other_region
    diakonie = f.make_provider("Diakonisches Werk")
    staff_diakonie = f.make_user("fachkraft_dw", Role.PROVIDER_STAFF, provider=diakonie)
    w = SimpleNamespace(nord=nord, mitte=mitte, provider=provider, other_provider=other_provider)

    # Families: F1–F5 have helps; F6 only a requested and a later help; F7 and F8 no case.
    f1, (f1_mother, f1_child, __) = make_family(nord, "Yilmaz", "Ayse", "Mehmet", "Elif")
    f2, __ = make_family(nord, "Becker", "Tom", "Paul")
    f3, __ = make_family(nord, "Schneider", "Julia", "Leon")
    f4, __ = make_family(nord, "Wagner", "Mia", "Sandra")
    f5, __ = make_family(nord, "Klein", "Noah")
    f6, (f6_child, __) = make_family(nord, "Meyer", "Lina", "Jan")
    f7, (f7_mother, __) = make_family(nord, "Fischer", "Sabine", "Emma")
    f8, (f8_child,) = make_family(nord, "Hoffmann", "Ben")
    schulz, (m1, __) = make_family(mitte, "Schulz", "Lara", "Tim")

    def grant(family, provider, basis, setting, start, end=None, reason="", **extra):
        owner = asd if family.region == nord else asd_other_team
        end = end and datetime.date.fromisoformat(end)
        start = datetime.date.fromisoformat(start)
        return make_help(owner, family, provider, basis, setting, start, end, reason, **extra)

    a, b, stat = provider, other_provider, stationary_provider
    w.h1 = grant(f1, a, "31", AMB, "2025-03-01", "2025-08-15", "as_planned")
    w.h2 = grant(f2, b, "27_2", FLEX, "2025-09-01", "2025-10-20", "broken_off_family")
    w.h3 = grant(f2, a, "35", AMB, "2024-11-01")
    w.h4 = grant(f3, stat, "34", STAT, "2025-06-20", "2025-08-10", "return")
    w.h5 = grant(f4, stat, "33", STAT, "2025-01-01", planned_end=d(2026, 6, 30))
    w.h6 = grant(f5, a, "32", DAY, "2025-07-01", "2025-09-30", "broken_off_provider")
    w.h7 = grant(f5, b, "30", AMB, "2025-02-01", "2025-07-01", "changed")
    w.h8 = grant(f1, a, "28", AMB, "2024-01-01", "2025-06-30", "as_planned")
    w.h9 = grant(f6, a, "31", AMB, "2025-08-01", status="requested")
    w.h10 = grant(f3, a, "41", AMB, "2025-07-10", "2025-07-10", "broken_off_family")
    w.h11 = grant(f6, a, "31", AMB, "2025-10-01")
    w.hm1 = grant(schulz, a, "31", AMB, "2025-08-01")

    # Daily rates: H4 changes from 200 to 220 on 15.07.2025; H5 costs 100 throughout.
    rate(w.h4, d(2025, 6, 20), "200.00", valid_until=d(2025, 7, 14))
    rate(w.h4, d(2025, 7, 15), "220.00")
    rate(w.h5, d(2025, 1, 1), "100.00")

    # Group offers: Nord's by the consortium, Mitte's by the Diakonie.
    nord_offer = GroupOffer.objects.create(
        provider=provider,
        region=nord,
        topic="Elterncafé",
        target_group="Eltern",
        starts_on=d(2025, 1, 1),
    )
    mitte_offer = GroupOffer.objects.create(
        provider=diakonie,
        region=mitte,
        topic="Spielgruppe",
        target_group="Kinder",
        starts_on=d(2025, 1, 1),
    )
    session(nord_offer, d(2025, 7, 5), 8, [f1_child, f6_child])
    session(nord_offer, d(2025, 9, 30), 5, [f7_mother, f1_child, m1])
    session(nord_offer, d(2025, 6, 30), 20, [f8_child])  # before Q3
    session(nord_offer, d(2025, 10, 1), 7)  # after Q3
    session(mitte_offer, d(2025, 8, 1), 4)

    # Where providers work: both consortium members in Nord; the Diakonie under Mitte's contract.
    consortium = Consortium.objects.create(region=nord, name="HLT Nord", valid_from=d(2025, 1, 1))
    consortium.members.set([provider, other_provider])
    w.contract = make_contract(
        nord,
        2025,
        {
            "flexible": [("personnel", "80000"), ("rent", "20000")],
            "stationary": [("placements", "60000")],
        },
    )
    w.mitte_contract = make_contract(
        mitte,
        2025,
        {"flexible": [("personnel", "50000")], "stationary": [("placements", "0")]},
        providers=[diakonie],
    )

    # Hours of Friedenshort (staff_a) and SkF (staff_b).
    staff_a, staff_b, cs = fachkraft, fachkraft_other_provider, HourKind.CASE_SPECIFIC
    hours(staff_a, d(2025, 7, 3), 90, cs, w.h1)
    hours(staff_a, d(2025, 8, 20), 60, cs, w.h6)
    hours(staff_a, d(2025, 8, 21), 45, HourKind.CROSS_CASE)
    hours(staff_a, d(2025, 9, 30), 30, HourKind.CASE_UNSPECIFIC)
    e5 = hours(staff_b, d(2025, 9, 15), 120, cs, w.h2)
    hours(staff_b, d(2025, 9, 15), -20, cs, w.h2, corrects=e5)  # a correction: the difference
    hours(staff_b, d(2025, 7, 1), 75, HourKind.CASE_UNSPECIFIC)
    hours(staff_b, d(2025, 9, 2), 30, HourKind.CROSS_CASE)
    hours(staff_a, d(2025, 6, 30), 60, HourKind.CASE_UNSPECIFIC)  # before Q3
    hours(staff_b, d(2025, 10, 1), 60, cs, w.h2)  # after Q3
    hours(staff_diakonie, d(2025, 8, 1), 50, HourKind.CASE_UNSPECIFIC)  # Mitte
    hours(staff_a, d(2025, 8, 5), 40, cs, w.hm1)  # Friedenshort on a Mitte help: Mitte

    # Flexible postings and reallocations.
    post(w.contract, d(2025, 3, 31), "10000", controlling)  # before Q3, in the year
    post(w.contract, d(2025, 7, 31), "8000", controlling)
    post(w.contract, d(2025, 9, 30), "8000", controlling)
    post(w.contract, d(2025, 9, 30), "-500", controlling, kind="correction")
    post(w.contract, d(2025, 10, 31), "8000", controlling)  # after Q3
    post(w.mitte_contract, d(2025, 8, 15), "1000", controlling)
    reallocate(w.contract, "5000", "approved", d(2025, 8, 1), controlling, leitung)
    reallocate(w.contract, "3000", "approved", d(2025, 10, 15), controlling, leitung)  # later
    reallocate(w.contract, "1000", "proposed", None, controlling, leitung)  # never decided
    return w


@pytest.fixture
def nord_q3(world):
    return compute_kpis(regions=[world.nord], period=Q3)


# --- Helps -------------------------------------------------------------------------


def test_active_helps_by_setting_and_legal_basis(nord_q3):
    # Active in Q3: H1 H2 H3 H4 H5 H6 H7 H10 (not H8: ended 30.06.; H9: requested; H11: later).
    assert nord_q3.active_helps == 8
    assert nord_q3.active_by_setting == {
        "flexible": 1,  # H2
        "ambulant": 4,  # H1 H3 H7 H10
        "day_care": 1,  # H6
        "stationary": 2,  # H4 H5
    }
    assert nord_q3.active_by_legal_basis == {
        "27_2": 1, "28": 0, "29": 0, "30": 1, "31": 1, "32": 1,
        "33": 1, "34": 1, "35": 1, "35a": 0, "41": 1,
    }  # fmt: skip
    # (flexible 1 + ambulant 4) ÷ 8 active
    assert nord_q3.ambulant_share_by_count == Decimal("62.5")


def test_new_and_ended_helps_by_setting_and_legal_basis(nord_q3):
    # Started in Q3: H2 (01.09.), H6 (01.07.), H10 (10.07.).
    assert nord_q3.new_helps == 3
    assert nord_q3.new_by_setting == {"flexible": 1, "ambulant": 1, "day_care": 1, "stationary": 0}
    assert {k: n for k, n in nord_q3.new_by_legal_basis.items() if n} == {
        "27_2": 1, "32": 1, "41": 1,
    }  # fmt: skip
    # Ended in Q3: H1 (15.08.), H4 (10.08.), H6 (30.09.), H7 (01.07.), H10 (10.07.); H2 ends later.
    assert nord_q3.ended_helps == 5
    assert nord_q3.ended_by_setting == {
        "flexible": 0,
        "ambulant": 3,
        "day_care": 1,
        "stationary": 1,
    }
    assert {k: n for k, n in nord_q3.ended_by_legal_basis.items() if n} == {
        "31": 1, "34": 1, "32": 1, "30": 1, "41": 1,
    }  # fmt: skip


def test_end_reasons_returns_and_ended_as_planned(nord_q3):
    assert nord_q3.ended_by_reason == {
        "as_planned": 1,  # H1 (H8 ended before Q3)
        "broken_off_family": 1,  # H10 (H2 ends after Q3)
        "broken_off_provider": 1,  # H6
        "changed": 1,  # H7
        "return": 1,  # H4
    }
    assert nord_q3.returns == 1  # H4: stationary, ended with return
    assert nord_q3.ended_as_planned_share == Decimal("20.0")  # 1 of 5


def test_help_duration_mean_and_median(nord_q3):
    durations = {
        "H1": (d(2025, 8, 15) - d(2025, 3, 1)).days + 1,  # 31+30+31+30+31+14 + 1 = 168
        "H4": (d(2025, 8, 10) - d(2025, 6, 20)).days + 1,  # 11+31+9 + 1 = 52
        "H6": (d(2025, 9, 30) - d(2025, 7, 1)).days + 1,  # 92
        "H7": (d(2025, 7, 1) - d(2025, 2, 1)).days + 1,  # 28+31+30+31+30 + 1 = 151
        "H10": 1,  # started and ended on 10.07.
    }
    assert list(durations.values()) == [168, 52, 92, 151, 1]
    assert nord_q3.help_duration_mean == Decimal("92.8")  # 464 / 5
    assert nord_q3.help_duration_median == Decimal("92.0")  # 1, 52, [92], 151, 168


# --- Reach -------------------------------------------------------------------------


def test_people_and_families_reached_count_each_person_once(nord_q3):
    # Families with an active help: F1 (3 persons), F2 (2), F3 (2), F4 (2), F5 (1) = 10 persons;
    # registered in Q3: Mehmet of F1 (twice, already counted), Lina of F6, Sabine of F7 = +2;
    # Lara Schulz lives in Mitte and counts there; Ben of F8 came before Q3.
    assert nord_q3.people_reached == 3 + 2 + 2 + 2 + 1 + 1 + 1
    assert nord_q3.families_reached == 5 + 2  # F1–F5, plus F6 and F7 through the group


def test_group_participations_are_not_deduplicated(nord_q3):
    # Nord's sessions in Q3: 05.07. (8 anonymous + 2 registered), 30.09. (5 + 3).
    assert nord_q3.group_sessions == 2
    assert nord_q3.group_participations == (8 + 2) + (5 + 3)


# --- Money -------------------------------------------------------------------------


def test_stationary_days_and_cost_follow_the_rate_change(nord_q3):
    # H4 is billed 01.07.–09.08. (the discharge day is not billed):
    #   01.07.–14.07. = 14 days at 200, 15.07.–09.08. = 17 + 9 = 26 days at 220;
    # H5 is billed every day of Q3: 92 days at 100.
    assert nord_q3.stationary_days == 14 + 26 + 92
    assert nord_q3.stationary_cost == 14 * Decimal("200") + 26 * Decimal("220") + 92 * Decimal(100)
    assert nord_q3.stationary_spent == Decimal("17720.00")


def test_flexible_spent_shares_by_cost_and_cost_per_family(nord_q3):
    flexible = Decimal("8000") + Decimal("8000") - Decimal("500")  # 31.07., 30.09., correction
    stationary = Decimal("17720")
    assert nord_q3.flexible_spent == flexible
    assert nord_q3.ambulant_share_by_cost == Decimal("46.7")  # 15500 / 33220 = 46.66 %
    assert nord_q3.cost_per_family_reached == money((flexible + stationary) / 7)  # 4745.71
    assert nord_q3.cost_per_family_reached == Decimal("4745.71")


def test_budget_utilisation_as_of_the_period_end(nord_q3):
    flexible, stationary = nord_q3.budget_flexible, nord_q3.budget_stationary
    assert nord_q3.budget_as_of == d(2025, 9, 30)
    # Plan plus the reallocation approved on 01.08. (not the one of 15.10., not the proposal).
    assert flexible.planned == Decimal("80000") + Decimal("20000") + Decimal("5000")
    assert stationary.planned == Decimal("60000") - Decimal("5000")
    # Booked 01.01.–30.09.
    assert flexible.booked == Decimal("10000") + Decimal("15500")
    h4_booked = (11 + 14) * Decimal("200") + 26 * Decimal("220")  # 20.06.–14.07., 15.07.–09.08.
    h5_booked = 273 * Decimal("100")  # 31+28+31+30+31+30+31+31+30 days
    assert stationary.booked == h4_booked + h5_booked  # 10720 + 27300
    # Committed: H5 runs on, 01.10.–31.12. (its planned end is later) at the rate of 30.09.
    assert flexible.committed == 0
    assert stationary.committed == 92 * Decimal("100")
    assert nord_q3.flexible_utilisation == Decimal("24.3")  # 25500 / 105000 = 24.29 %
    assert nord_q3.stationary_utilisation == Decimal("85.9")  # (38020 + 9200) / 55000 = 85.85 %
    # Year-end forecast: flexible at the run rate of 273 days for 92 more; stationary committed.
    assert flexible.forecast == money(Decimal("25500") + Decimal("25500") / 273 * 92)
    assert stationary.forecast == Decimal("38020") + Decimal("9200")


# --- Hours -------------------------------------------------------------------------


def test_hours_by_kind_provider_and_month_with_shares(world, nord_q3):
    assert nord_q3.minutes_by_kind == {
        "case_specific": 90 + 60 + 120 - 20,  # the correction carries the difference
        "cross_case": 45 + 30,
        "case_unspecific": 30 + 75,
    }
    assert nord_q3.minutes_total == 250 + 75 + 105
    assert nord_q3.minutes_by_provider == {
        world.provider.name: 90 + 60 + 45 + 30,
        world.other_provider.name: 120 - 20 + 75 + 30,
    }
    assert nord_q3.minutes_by_month == {
        d(2025, 7, 1): 90 + 75,
        d(2025, 8, 1): 60 + 45,
        d(2025, 9, 1): 30 + 120 - 20 + 30,
    }
    assert nord_q3.case_unspecific_share == Decimal("24.4")  # 105 / 430 = 24.42 %
    assert nord_q3.cross_case_share == Decimal("17.4")  # 75 / 430 = 17.44 %


def rate_goals(help, *ratings):
    """One first-version goal per (start professional, start own, end professional, end own)."""
    plan = f.make_plan(help, goals=[f"Ziel {i}" for i in range(len(ratings))])
    for goal, (start, start_own, end, end_own) in zip(
        plan.goals.order_by("position"), ratings, strict=True
    ):
        goal.ratings.create(
            occasion="start", rated_on=help.start, professional=start, own=start_own
        )
        goal.ratings.create(occasion="end", rated_on=help.end, professional=end, own=end_own)


def test_goal_ratings_of_the_helps_ended_in_the_period(world):
    rate_goals(world.h1, (2, 1, 4, 3), (3, None, 3, None))  # ended 15.08.
    rate_goals(world.h6, (1, 2, 2, 4))  # ended 30.09.
    rate_goals(world.h8, (1, 1, 5, 5))  # ended 30.06., before Q3: not counted

    kpis = compute_kpis(regions=[world.nord], period=Q3)

    # Three goals: professional end ratings 4, 3, 2; own end ratings 3 and 4 (one has none).
    assert kpis.goals_reached_share == Decimal("33.3")  # 1 of 3 rated 4 or 5
    assert kpis.goals_reached_share_own == Decimal("50.0")  # 1 of 2
    assert kpis.rating_change_professional == Decimal("1.0")  # (+2 + 0 + 1) / 3
    assert kpis.rating_change_own == Decimal("2.0")  # (+2 + 2) / 2


# --- Regions and periods ---------------------------------------------------------------


def test_mitte_counts_its_own_families_sessions_and_hours(world):
    mitte = compute_kpis(regions=world.mitte, period=Q3)
    assert mitte.active_helps == 1  # HM1
    assert mitte.people_reached == 2  # Lara (also in a Nord session) and Tim Schulz
    assert mitte.families_reached == 1
    assert mitte.group_participations == 4
    assert mitte.minutes_by_kind == {"case_specific": 40, "cross_case": 0, "case_unspecific": 50}
    assert mitte.flexible_spent == Decimal("1000")
    assert mitte.budget_flexible.planned == Decimal("50000")


def test_several_regions_add_up_and_none_means_all(world, nord_q3):
    both = compute_kpis(regions=[world.nord, world.mitte], period=Q3)
    assert both.active_helps == 8 + 1
    assert both.people_reached == 12 + 2
    assert both.families_reached == 7 + 1
    assert both.group_participations == 18 + 4
    assert both.minutes_total == 430 + 90
    assert both.flexible_spent == Decimal("15500") + Decimal("1000")
    assert both.budget_flexible.planned == Decimal("105000") + Decimal("50000")
    assert both.flexible_utilisation == Decimal("17.1")  # 26500 / 155000 = 17.10 %
    assert compute_kpis(regions=None, period=Q3) == both
    assert compute_kpis(regions=[world.mitte.pk, world.nord.pk], period=Q3) == both


def test_a_period_without_data_gives_zeros_and_none(world):
    period = parse_period("2020")
    kpis = compute_kpis(regions=[world.nord], period=period)
    assert kpis == KpiSet(
        period=period,
        region_ids=(world.nord.pk,),
        budget_as_of=d(2020, 12, 31),
        minutes_by_month=dict.fromkeys(period.months(), 0),
    )
    assert kpis.ambulant_share_by_count is None
    assert kpis.help_duration_median is None
    assert kpis.cost_per_family_reached is None
    assert kpis.flexible_utilisation is None
    assert kpis.case_unspecific_share is None
    assert compute_kpis(regions=[], period=Q3).active_helps == 0


@pytest.mark.parametrize("text", ["2025", "2025-Q1", "2025-01", "2025-Q3", "2025-09"])
@pytest.mark.parametrize("every", [False, True])
def test_stationary_costs_from_new_years_day_equal_those_of_the_rates(world, text, every):
    """From 1 January the KPIs take them from the budget figures: the same sums."""
    period = parse_period(text)
    regions = None if every else [world.nord]
    region_ids = [r.pk for r in Region.objects.all()] if every else [world.nord.pk]

    kpis = compute_kpis(regions=regions, period=period)

    days, cost = stationary_cost(stationary_rates(region_ids), period.start, period.end)
    assert days > 0
    assert (kpis.stationary_days, kpis.stationary_cost) == (days, cost)


def test_leap_day_is_billed_and_counted(region, asd, provider, stationary_provider):
    family, __ = make_family(region, "Lang", "Max")
    l1 = make_help(asd, family, stationary_provider, "34", STAT, d(2028, 2, 20))
    l2 = make_help(
        asd, family, stationary_provider, "34", STAT, d(2028, 1, 15), d(2028, 3, 5), "return"
    )
    rate(l1, d(2028, 2, 20), "150.00")
    rate(l2, d(2028, 1, 15), "100.00", valid_until=d(2028, 2, 28))
    rate(l2, d(2028, 2, 29), "110.00")
    for start, end in [(1, 29), (1, 10), (28, 29), (29, 29)]:
        make_help(
            asd, family, provider, "31", AMB, d(2028, 2, start), d(2028, 2, end), "as_planned"
        )

    kpis = compute_kpis(regions=[region], period=parse_period("2028-02"))

    # L1: 20.–29.02. = 10 days at 150; L2: 01.–28.02. at 100 and the 29th at 110.
    assert kpis.stationary_days == 10 + 29
    assert kpis.stationary_cost == 10 * Decimal("150") + 28 * Decimal("100") + Decimal("110")
    # Durations 29, 10, 2 (28.–29.02.), 1: mean 42 / 4, median (2 + 10) / 2.
    assert kpis.help_duration_mean == Decimal("10.5")
    assert kpis.help_duration_median == Decimal("6.0")
    assert kpis.active_helps == 6
    assert kpis.ambulant_share_by_count == Decimal("66.7")  # 4 / 6
    # Budget as of 29.02.: booked since 01.01., committed 01.03.–31.12. at the rate of the 29th.
    stationary = kpis.budget_stationary
    assert stationary.booked == 10 * 150 + 17 * 100 + 28 * 100 + 110  # L2 from 15.01.
    assert stationary.committed == 306 * 150 + 4 * 110  # L1 to 31.12. (366 − 60), L2 to 04.03.
    assert kpis.stationary_utilisation is None  # no contract, nothing planned


def test_kpi_comparison_gives_the_period_before_and_last_year(world):
    result = kpi_comparison(regions=[world.nord], period=Q3)
    assert [result[key].period.key for key in ("current", "previous", "same_last_year")] == [
        "2025-Q3",
        "2025-Q2",
        "2024-Q3",
    ]
    assert result["current"] == compute_kpis(regions=[world.nord], period=Q3)
    # Q2 2025: H1 H3 H4 H5 H7 H8 active; F1–F5 (10 persons) plus Ben of F8 (session 30.06.).
    assert result["previous"].active_helps == 6
    assert result["previous"].people_reached == 10 + 1
    assert result["previous"].families_reached == 5 + 1
    # Q3 2024: only H8 (H3 starts in November 2024).
    assert result["same_last_year"].active_helps == 1
    assert result["same_last_year"].active_by_legal_basis["28"] == 1


def test_query_count_does_not_grow_with_regions(
    world, asd, provider, django_assert_max_num_queries
):
    ost = f.make_region("Sozialraum Siegen-Ost", "siegen-ost")
    family, __ = make_family(ost, "Ost", "Ida")
    make_help(asd, family, provider, LegalBasis.FAMILY_SUPPORT, Setting.AMBULANT, d(2025, 5, 1))
    make_contract(ost, 2025, {"flexible": [("personnel", "1000")]})
    regions = [world.nord, world.mitte, ost]

    with CaptureQueriesContext(connection) as one:
        compute_kpis(regions=regions[:1], period=Q3)
    with CaptureQueriesContext(connection) as three:
        compute_kpis(regions=regions, period=Q3)
    assert len(one) == len(three) == MAX_QUERIES
    with django_assert_max_num_queries(MAX_QUERIES):
        compute_kpis(regions=regions[:1], period=Q3)
    with django_assert_max_num_queries(MAX_QUERIES):
        compute_kpis(regions=regions, period=Q3)


# --- Periods -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "end", "label"),
    [
        ("2025-Q4", d(2025, 10, 1), d(2025, 12, 31), "Q4 2025"),
        ("2025-q1", d(2025, 1, 1), d(2025, 3, 31), "Q1 2025"),
        ("2025-11", d(2025, 11, 1), d(2025, 11, 30), "11/2025"),
        ("2028-02", d(2028, 2, 1), d(2028, 2, 29), "02/2028"),
        ("2025", d(2025, 1, 1), d(2025, 12, 31), "2025"),
        ("2025-01-01..2025-03-31", d(2025, 1, 1), d(2025, 3, 31), "01.01.2025–31.03.2025"),
        (" 2025-05-05..2025-05-05 ", d(2025, 5, 5), d(2025, 5, 5), "05.05.2025–05.05.2025"),
    ],
)
def test_parse_period_reads_every_format(text, start, end, label):
    period = parse_period(text)
    assert (period.start, period.end, period.label) == (start, end, label)
    assert parse_period(period.key) == period


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Unknown period"),
        ("Q4 2025", "Unknown period"),
        ("2025-Q5", "quarter must be 1 to 4"),
        ("2025-13", "month must be in 1..12"),
        ("2025-00", "month must be in 1..12"),
        ("2025-02-30..2025-03-31", "day is out of range"),
        ("2025-03-31..2025-01-01", "ends (01.01.2025) before it starts (31.03.2025)"),
        ("2025-01-01", "Unknown period"),
        (None, "Unknown period"),
    ],
)
def test_parse_period_rejects_bad_input_with_a_clear_message(text, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_period(text)


@pytest.mark.parametrize(
    ("text", "previous", "last_year"),
    [
        ("2025-11", "2025-10", "2024-11"),
        ("2025-01", "2024-12", "2024-01"),
        ("2028-03", "2028-02", "2027-03"),
        ("2025-Q1", "2024-Q4", "2024-Q1"),
        ("2025-Q3", "2025-Q2", "2024-Q3"),
        ("2025", "2024", "2024"),
        # Free dates: as many days directly before (90 days: 03.10.–31.12.2024).
        ("2025-01-01..2025-03-31", "2024-10-03..2024-12-31", "2024-01-01..2024-03-31"),
        ("2028-02-10..2028-03-01", "2028-01-20..2028-02-09", "2027-02-10..2027-03-01"),
        ("2028-02-29..2028-02-29", "2028-02-28..2028-02-28", "2027-02-28..2027-02-28"),
    ],
)
def test_previous_and_same_last_year(text, previous, last_year):
    period = parse_period(text)
    assert period.previous() == parse_period(previous)
    assert period.same_last_year() == parse_period(last_year)
    assert period.previous().days == period.days or period.kind != "range"


def test_february_of_a_leap_year_a_year_later_ends_on_the_28th():
    assert parse_period("2028-02").same_last_year().end == d(2027, 2, 28)
    assert parse_period("2028-02-01..2028-02-29").same_last_year() == Period(
        d(2027, 2, 1), d(2027, 2, 28)
    )
