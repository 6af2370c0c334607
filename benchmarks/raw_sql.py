# ruff: noqa: S608 (the f-strings join fixed SQL fragments; every value is a bound parameter)
"""Hand-written SQL for the figures of the budget dashboard and of the KPIs.

This is the floor the pages are measured against: the same figures, computed by
plain SQL statements on one connection without the ORM, templates or middleware.
Each function returns a few totals that the bench compares with the page, so a
wrong statement shows up instead of flattering the ratio.
"""

import datetime

from django.db import connection

ONE_DAY = datetime.timedelta(days=1)

# Rows of a help with its region (help → case → family).
HELP_REGION = """
    cases_help h
    JOIN cases_case c ON c.id = h.case_id
    JOIN cases_family f ON f.id = c.family_id
"""
# The first day a closed placement is no longer billed: its end, or the day after for one
# that ended on its first day (admission and discharge day together count as one day).
BILLED_UNTIL = '(h."end" + (h."end" = h.start)::int)'


def _run(sql: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _active_filter(start, end) -> tuple[str, list]:
    return 'h.start <= %s AND (h."end" IS NULL OR h."end" >= %s)', [end, start]


def _plan_and_moves(years, region_ids, day) -> tuple[list, list]:
    plan = _run(
        """SELECT sc.year, sc.region_id, sb.kind, SUM(pl.amount)
           FROM budgets_planline pl
           JOIN budgets_subbudget sb ON sb.id = pl.sub_budget_id
           JOIN budgets_servicecontract sc ON sc.id = sb.contract_id
           WHERE sc.year = ANY(%s) AND sc.region_id = ANY(%s)
           GROUP BY 1, 2, 3""",
        [list(years), region_ids],
    )
    moves = _run(
        """SELECT sc.year, sc.region_id, r.direction, SUM(r.amount)
           FROM budgets_reallocation r
           JOIN budgets_servicecontract sc ON sc.id = r.contract_id
           WHERE sc.year = ANY(%s) AND sc.region_id = ANY(%s) AND r.status = 'approved'
             AND (r.decided_at AT TIME ZONE 'Europe/Berlin')::date <= %s
           GROUP BY 1, 2, 3""",
        [list(years), region_ids, day],
    )
    return plan, moves


def _flexible(region_ids, start, end) -> list:
    return _run(
        """SELECT sc.region_id, date_trunc('month', p.booked_on)::date, SUM(p.amount)
           FROM budgets_posting p
           JOIN budgets_subbudget sb ON sb.id = p.sub_budget_id
           JOIN budgets_servicecontract sc ON sc.id = sb.contract_id
           WHERE sb.kind = 'flexible' AND sc.region_id = ANY(%s)
             AND p.booked_on BETWEEN %s AND %s
           GROUP BY 1, 2""",
        [region_ids, start, end],
    )


def _stationary_by_month(region_ids, start, end) -> list:
    """Billed days and cost per region, legal basis and month of [start, end]."""
    return _run(
        f"""WITH months AS (
              SELECT m::date AS m_start,
                     LEAST((m + interval '1 month' - interval '1 day')::date, %s::date) AS m_end
              FROM generate_series(%s::date, %s::date, interval '1 month') m
            )
            SELECT f.region_id, h.legal_basis, m.m_start, SUM(x.days), SUM(x.days * r.amount)
            FROM cases_dailyrate r
            JOIN {HELP_REGION} ON h.id = r.help_id
            JOIN months m ON r.valid_from <= m.m_end
                 AND (r.valid_until IS NULL OR r.valid_until >= m.m_start)
                 AND h.start <= m.m_end AND (h."end" IS NULL OR {BILLED_UNTIL} > m.m_start)
            CROSS JOIN LATERAL (
              SELECT GREATEST(0, LEAST(
                COALESCE({BILLED_UNTIL}, m.m_end + 1), m.m_end + 1,
                COALESCE(r.valid_until, m.m_end) + 1
              ) - GREATEST(r.valid_from, h.start, m.m_start)) AS days
            ) x
            WHERE h.setting = 'stationary' AND h.status = 'approved' AND f.region_id = ANY(%s)
            GROUP BY 1, 2, 3""",
        [end, start, end, region_ids],
    )


def _committed(region_ids, day) -> list:
    after_year = datetime.date(day.year + 1, 1, 1)
    return _run(
        f"""SELECT f.region_id, SUM(GREATEST(
                 LEAST(COALESCE(h."end", h.planned_end, %s), %s) - %s, 0) * r.amount)
            FROM cases_dailyrate r JOIN {HELP_REGION} ON h.id = r.help_id
            WHERE h.setting = 'stationary' AND h.status = 'approved' AND f.region_id = ANY(%s)
              AND r.valid_from <= %s AND (r.valid_until IS NULL OR r.valid_until >= %s)
              AND h.start <= %s AND (h."end" IS NULL OR h."end" > %s)
            GROUP BY 1""",
        [after_year, after_year, day + ONE_DAY, region_ids, day, day, day, day],
    )


def _reached_exists(start, end, family="f.id") -> tuple[str, list]:
    sql = f"""(EXISTS (SELECT 1 FROM cases_help h JOIN cases_case c ON c.id = h.case_id
                      WHERE c.family_id = {family} AND h.status = 'approved'
                        AND h.start <= %s AND (h."end" IS NULL OR h."end" >= %s))
              OR EXISTS (SELECT 1 FROM providers_groupsession s
                         JOIN providers_groupsession_registered_participants rp
                              ON rp.groupsession_id = s.id
                         JOIN cases_person pe ON pe.id = rp.person_id
                         WHERE pe.family_id = {family} AND s.date BETWEEN %s AND %s))"""
    return sql, [end, start, start, end]


def _families_reached(region_ids, periods) -> list:
    parts, params = [], []
    for start, end in periods:
        sql, p = _reached_exists(start, end)
        parts.append(f"COUNT(*) FILTER (WHERE {sql})")
        params += p
    return _run(
        f"SELECT f.region_id, {', '.join(parts)} FROM cases_family f "
        "WHERE f.region_id = ANY(%s) GROUP BY 1",
        [*params, region_ids],
    )


def _ended_and_goals(region_ids, start, end) -> tuple[list, list]:
    ended = _run(
        f"""SELECT h.legal_basis, h.setting, h.end_reason, p.name, COUNT(*)
            FROM {HELP_REGION} LEFT JOIN providers_provider p ON p.id = h.provider_id
            WHERE h.status = 'approved' AND h."end" BETWEEN %s AND %s AND f.region_id = ANY(%s)
            GROUP BY 1, 2, 3, 4""",
        [start, end, region_ids],
    )
    goals = _run(
        f"""SELECT h.legal_basis, h.setting, p.name,
                   COUNT(*), COUNT(*) FILTER (WHERE er.professional >= 4), COUNT(er.own),
                   COUNT(*) FILTER (WHERE er.own >= 4), COUNT(sr.professional),
                   SUM(er.professional - sr.professional),
                   COUNT(*) FILTER (WHERE sr.own IS NOT NULL AND er.own IS NOT NULL),
                   SUM(er.own - sr.own)
            FROM cases_helpplangoal g
            JOIN cases_helpplan hp ON hp.id = g.plan_id
            JOIN {HELP_REGION} ON h.id = hp.help_id
            JOIN cases_goalrating er ON er.goal_id = g.id AND er.occasion = 'end'
            LEFT JOIN cases_goalrating sr ON sr.goal_id = g.id AND sr.occasion = 'start'
            LEFT JOIN providers_provider p ON p.id = h.provider_id
            WHERE g.origin_id IS NULL AND h.status = 'approved'
              AND h."end" BETWEEN %s AND %s AND f.region_id = ANY(%s)
            GROUP BY 1, 2, 3""",
        [start, end, region_ids],
    )
    return ended, goals


def dashboard(year: int, region_ids: list[int], as_of: datetime.date) -> dict:
    """Every figure of the budget dashboard for `year` (and the year before)."""
    first = datetime.date(year, 1, 1)
    prev_first, prev_last = datetime.date(year - 1, 1, 1), datetime.date(year - 1, 12, 31)
    _run("SELECT id, name, slug FROM cases_region ORDER BY name", [])
    _run(
        "SELECT id, region_id, year FROM budgets_servicecontract WHERE year = ANY(%s)",
        [[year, year - 1]],
    )
    _plan_and_moves([year, year - 1], region_ids, as_of)
    flexible = _flexible(region_ids, prev_first, as_of)
    stationary = _stationary_by_month(region_ids, first, as_of)
    _stationary_by_month(region_ids, prev_first, prev_last)
    if as_of < datetime.date(year, 12, 31):
        _committed(region_ids, as_of)
    _families_reached(region_ids, [(first, as_of), (prev_first, prev_last)])
    # Active helps per month, setting, legal basis and provider (charts and drill-down).
    months = [
        (datetime.date(year, m, 1), (datetime.date(year, m, 28) + datetime.timedelta(days=4)))
        for m in range(1, 13)
    ]
    counts, params = [], []
    for m_start, m_next in months:
        m_end = m_next.replace(day=1) - ONE_DAY
        sql, p = _active_filter(m_start, m_end)
        counts.append(f"COUNT(*) FILTER (WHERE {sql})")
        params += p
    sql, p = _active_filter(first, as_of)
    active = _run(
        f"""SELECT f.region_id, h.setting, h.legal_basis, pr.name, {", ".join(counts)},
                   COUNT(*) FILTER (WHERE {sql})
            FROM {HELP_REGION} LEFT JOIN providers_provider pr ON pr.id = h.provider_id
            WHERE h.status = 'approved' AND f.region_id = ANY(%s)
              AND h.start <= %s AND (h."end" IS NULL OR h."end" >= %s)
            GROUP BY 1, 2, 3, 4""",
        [*params, *p, region_ids, datetime.date(year, 12, 31), first],
    )
    _run(
        """SELECT r.id, r.amount, sc.year, u.username FROM budgets_reallocation r
           JOIN budgets_servicecontract sc ON sc.id = r.contract_id
           JOIN core_user u ON u.id = r.proposed_by_id WHERE r.status = 'proposed'""",
        [],
    )
    _ended_and_goals(region_ids, first, as_of)
    _ended_and_goals(region_ids, prev_first, prev_last)
    return {
        "flexible_booked": sum(row[2] for row in flexible if row[1] >= first),
        "stationary_booked": sum(row[4] for row in stationary),
        "active_in_year": sum(row[-1] for row in active),
    }


def kpis(region_ids: list[int], start: datetime.date, end: datetime.date) -> dict:
    """The figures of `compute_kpis` for the regions and period [start, end]."""
    duration = 'h."end" - h.start + 1'
    helps = _run(
        f"""SELECT h.legal_basis, h.setting, h.end_reason, p.name, COUNT(*),
                   COUNT(*) FILTER (WHERE h.start >= %s),
                   COUNT(*) FILTER (WHERE h."end" <= %s),
                   SUM({duration}) FILTER (WHERE h."end" <= %s)
            FROM {HELP_REGION} LEFT JOIN providers_provider p ON p.id = h.provider_id
            WHERE h.status = 'approved' AND f.region_id = ANY(%s)
              AND h.start <= %s AND (h."end" IS NULL OR h."end" >= %s)
            GROUP BY 1, 2, 3, 4""",
        [start, end, end, region_ids, end, start],
    )
    _run(
        f"""SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY {duration})
            FROM {HELP_REGION} WHERE h.status = 'approved' AND f.region_id = ANY(%s)
              AND h."end" BETWEEN %s AND %s""",
        [region_ids, start, end],
    )
    _ended_and_goals(region_ids, start, end)
    reached, params = _reached_exists(start, end, family="pe.family_id")
    _run(
        f"""SELECT COUNT(*) FROM cases_person pe JOIN cases_family f ON f.id = pe.family_id
            WHERE f.region_id = ANY(%s) AND {reached}""",
        [region_ids, *params],
    )
    _families_reached(region_ids, [(start, end)])
    _run(
        """SELECT COUNT(*), SUM(s.anonymous_participants),
                  SUM((SELECT COUNT(*) FROM providers_groupsession_registered_participants rp
                       WHERE rp.groupsession_id = s.id))
           FROM providers_groupsession s JOIN providers_groupoffer o ON o.id = s.offer_id
           WHERE o.region_id = ANY(%s) AND s.date BETWEEN %s AND %s""",
        [region_ids, start, end],
    )
    _stationary_by_month(region_ids, start, end)
    _flexible(region_ids, start, end)
    # The budget as of the period's last day.
    year_start = datetime.date(end.year, 1, 1)
    _plan_and_moves([end.year], region_ids, end)
    _flexible(region_ids, year_start, end)
    _stationary_by_month(region_ids, year_start, end)
    if end < datetime.date(end.year, 12, 31):
        _committed(region_ids, end)
    hours = _run(
        """SELECT he.kind, pr.name, date_trunc('month', he.date)::date, SUM(he.minutes)
           FROM providers_hourentry he
           JOIN providers_provider pr ON pr.id = he.provider_id
           LEFT JOIN cases_help h ON h.id = he.help_id
           LEFT JOIN cases_case c ON c.id = h.case_id
           LEFT JOIN cases_family f ON f.id = c.family_id
           WHERE he.date BETWEEN %s AND %s AND (
             f.region_id = ANY(%s)
             OR (he.help_id IS NULL AND (
               EXISTS (SELECT 1 FROM providers_consortium co
                       JOIN providers_consortium_members cm ON cm.consortium_id = co.id
                       WHERE co.region_id = ANY(%s) AND cm.provider_id = he.provider_id
                         AND co.valid_from <= he.date
                         AND (co.valid_until IS NULL OR co.valid_until >= he.date))
               OR EXISTS (SELECT 1 FROM budgets_servicecontract sc
                          JOIN budgets_servicecontract_providers sp
                               ON sp.servicecontract_id = sc.id
                          WHERE sc.region_id = ANY(%s) AND sp.provider_id = he.provider_id
                            AND sc.year = EXTRACT(YEAR FROM he.date)))))
           GROUP BY 1, 2, 3""",
        [start, end, region_ids, region_ids, region_ids],
    )
    return {
        "active_helps": sum(row[4] for row in helps),
        "minutes_total": sum(row[3] for row in hours),
    }
