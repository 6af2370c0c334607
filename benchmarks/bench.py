"""`make bench`: response times and query counts of the busy pages on the bench database.

How it measures: in-process through Django's test Client with the full middleware
stack (sessions, CSRF, auth, CSP, audit log, ...), logged in with force_login, on
the PostgreSQL database in $BENCH_DATABASE_URL (default: the city data set of
`seed_demo --scale city` in kijufaz_city). DEBUG is off while timing. Each page is
requested a few times to warm up, then BENCH_REPEAT times (default 20; the PDF
BENCH_PDF_REPEAT, default 3); the SQL queries are counted on one extra request.

For the budget dashboard and the KPIs the hand-written SQL of `raw_sql.py` computes
the same figures; the ratio page time ÷ raw SQL time says what the ORM, the Python
and the templates add. Results: benchmarks/results.json ("bench") and
docs/BENCHMARKS.md (written by `report.py`).

    BENCH_DATABASE_URL=postgres://root@127.0.0.1:5432/kijufaz_city \\
        .venv/bin/python benchmarks/bench.py
"""

import datetime
import os
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import common  # noqa: E402

REPEAT = int(os.environ.get("BENCH_REPEAT", "20"))
# The dashboard and the KPIs are cached until their data changes (core.figures); these
# rows time the first request after a change, i.e. the computation from the tables.
COLD = "After a change (cache cold):"
# The dashboard page after a change shows the last figures and queues their computation.
AFTER_CHANGE = "After a change:"
EMPTIED = "Cache emptied:"
# The queue the page sends the dashboard's computation to; no worker takes it (the
# computation is timed in its own row) and it is emptied afterwards.
BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/4")
COLD_REPEAT = int(os.environ.get("BENCH_COLD_REPEAT", "10"))
PDF_REPEAT = int(os.environ.get("BENCH_PDF_REPEAT", "3"))
WARMUP = 2

# Targets of issue #7 (p95 in milliseconds).
PAGE_TARGET = 200
HEAVY_TARGET = 300  # budget dashboard and region-year KPIs
SAVE_TARGET = 50
PDF_TARGET = 5000
QUERY_TARGET = 15
RATIO_TARGET = 2.0


def _time(fn, repeat: int, warmup: int = WARMUP, before=None) -> list[float]:
    for __ in range(warmup):
        fn()
    samples = []
    for __ in range(repeat):
        if before is not None:
            before()
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _data_changed() -> None:
    """What a committed change to the figures' tables does (core.figures), such as a
    posting, a goal rating or a new help: the next dashboard or KPI request finds no
    figures cached and computes them from the tables. The hours per month stay cached
    (they are read again only when hours are logged in that month, or when a change
    moves hours between regions, e.g. a family moving: about 60 ms more per
    region-year)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO core_figuresgeneration (id, epoch, value, changed_at) "
            "VALUES (1, gen_random_uuid(), 1, now()) ON CONFLICT (id) DO UPDATE "
            "SET value = core_figuresgeneration.value + 1, changed_at = now()"
        )


def _cache_emptied() -> None:
    from django.core.cache import cache

    from core import figures

    cache.clear()
    figures.forget_in_process()  # as in a fresh process


@contextmanager
def _tasks_queued_not_run():
    """Celery as in production: tasks go to a Redis queue instead of running eagerly."""
    import redis

    from kijufaz.celery import app

    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=BROKER_URL, task_always_eager=False)
    app._pool = None
    try:
        yield
    finally:
        redis.Redis.from_url(BROKER_URL).delete("celery")
        app.conf.update(saved)
        app._pool = None


def _count_queries(fn) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def _summary(samples: list[float]) -> dict:
    return {
        "n": len(samples),
        "p50_ms": round(common.percentile(samples, 0.50), 1),
        "p95_ms": round(common.percentile(samples, 0.95), 1),
        "max_ms": round(max(samples), 1),
    }


def _user(username: str, role: str, most=None):
    """The demo login if the data set has it, else the user of the role with most `most`."""
    from django.db.models import Count

    from core.models import User

    user = User.objects.filter(username=username, role=role, is_active=True).first()
    if user is None:
        users = User.objects.filter(role=role, is_active=True).order_by("pk")
        if most:
            users = users.annotate(n=Count(most)).order_by("-n", "pk")
        user = users.first()
    if user is None:
        raise SystemExit(f"No active user with role {role} in the bench database.")
    return user


class Personas:
    def __init__(self):
        from core.models import Role

        self.caseworker = _user("asd", Role.ASD, most="owned_cases")
        self.staff = _user("fachkraft", Role.PROVIDER_STAFF, most="hour_entries")
        self.provider_lead = _user("traegerleitung", Role.PROVIDER_LEAD)
        self.head = _user("leitung", Role.DEPARTMENT_HEAD)
        self.controller = _user("controlling", Role.CONTROLLER)


def _client(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def _get(client, url: str, params=None):
    def fetch():
        response = client.get(url, params or {})
        if response.status_code != 200:
            raise SystemExit(f"GET {url} {params or ''} answered {response.status_code}")
        return response

    return fetch


def _case_for(user):
    from django.db.models import Count

    from cases.models import Case

    case = (
        Case.objects.visible_to(user).open().annotate(n=Count("helps")).order_by("-n", "pk").first()
    )
    if case is None:
        raise SystemExit(f"{user} sees no open case.")
    return case


def _search_term(user) -> str:
    case = _case_for(user)
    return case.family.name[:4]


class HourSaver:
    """POSTs the hour sheet's form like a browser (CSRF on), on days with room left."""

    def __init__(self, staff, today):
        from django.db.models import Sum
        from django.test import Client

        from providers.models import MAX_MINUTES_PER_DAY, HourEntry

        self.client = Client(enforce_csrf_checks=True)
        self.client.force_login(staff)
        self.staff, self.minutes, self.created_keys = staff, 15, []
        logged = dict(
            HourEntry.objects.filter(staff=staff, date__gt=today - datetime.timedelta(days=60))
            .values_list("date")
            .annotate(t=Sum("minutes"))
        )
        self.room = {
            today - datetime.timedelta(days=i): MAX_MINUTES_PER_DAY
            - logged.get(today - datetime.timedelta(days=i), 0)
            for i in range(60)
        }
        self.url = "/providers/hours/"
        self.client.get(self.url)
        self.token = self.client.cookies["csrftoken"].value

    def __call__(self):
        from providers.models import Activity, HourKind

        day = next(d for d, room in self.room.items() if room >= self.minutes)
        self.room[day] -= self.minutes
        key = uuid.uuid4()
        response = self.client.post(
            self.url,
            {
                "csrfmiddlewaretoken": self.token,
                "idempotency_key": str(key),
                "date": day.isoformat(),
                "minutes": str(self.minutes),
                "kind": HourKind.CASE_UNSPECIFIC,
                "activity": Activity.NETWORKING,
                "note": "bench",
            },
        )
        if response.status_code != 302:
            raise SystemExit(f"Saving an hour entry answered {response.status_code}")
        self.created_keys.append(key)

    def clean_up(self):
        """Remove the bench's entries again through the service (keeps rollups right)."""
        from providers import services
        from providers.models import HourEntry

        for entry in HourEntry.objects.filter(idempotency_key__in=self.created_keys):
            services.delete_entry(entry=entry, by=self.staff)


def _compare(name: str, page: dict, raw: dict) -> list[str]:
    return [
        f"{name}: {key} page={page[key]} raw SQL={raw[key]}"
        for key in raw
        if key in page and page[key] != raw[key]
    ]


def run() -> dict:
    from django.test.utils import override_settings
    from django.utils import timezone

    from benchmarks import raw_sql
    from budgets.dashboard import as_of_for, region_years
    from budgets.tasks import compute_dashboard
    from cases.models import Region
    from controlling.kpis import Period, compute_kpis
    from controlling.reports import render_report_pdf

    today = timezone.localdate()
    people = Personas()
    year = today.year
    kpi_year = year - 1
    region = Region.objects.order_by("name").first()
    all_region_ids = list(Region.objects.values_list("pk", flat=True))
    this_quarter = datetime.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    quarter_end = this_quarter - datetime.timedelta(days=1)
    quarter = Period.of_quarter(quarter_end.year, (quarter_end.month - 1) // 3 + 1)

    caseworker, staff = _client(people.caseworker), _client(people.staff)
    head, lead = _client(people.head), _client(people.provider_lead)
    case = _case_for(people.caseworker)
    saver = HourSaver(people.staff, today)

    pages = [
        ("Caseworker's desk", "page", _get(caseworker, "/")),
        ("Case list, unfiltered", "page", _get(caseworker, "/cases/")),
        (
            "Case list, filtered (open, § 31, sorted by family)",
            "page",
            _get(
                caseworker,
                "/cases/",
                {"status": "open", "legal_basis": "31", "ordering": "family__name"},
            ),
        ),
        (
            "Case list, name search",
            "page",
            _get(caseworker, "/cases/", {"q": _search_term(people.caseworker)}),
        ),
        ("Case detail", "page", _get(caseworker, f"/cases/{case.pk}/")),
        ("Hour sheet (this week)", "page", _get(staff, "/providers/hours/")),
        ("Saving an hour entry (POST)", "save", saver),
        ("Provider overview (this month)", "page", _get(lead, "/providers/")),
        ("Budget dashboard", "heavy", _get(head, "/budgets/", {"year": year})),
        (
            f"{AFTER_CHANGE} Budget dashboard (the last figures at once, a task computes "
            "the new ones)",
            "heavy",
            _get(head, "/budgets/", {"year": year}),
        ),
        (
            f"{EMPTIED} Budget dashboard (no figures yet: the page at once, a task computes them)",
            "heavy",
            _get(head, "/budgets/", {"year": year}),
        ),
    ]
    kpi_period = Period.of_year(kpi_year)
    computations = [
        (
            f"{COLD} Budget dashboard figures (the task after a change)",
            "task",
            lambda: compute_dashboard(year, all_region_ids, today.isoformat()),
        ),
        (
            f"KPIs, one region-year ({region.name}, {kpi_year})",
            "heavy",
            lambda: compute_kpis(regions=[region], period=kpi_period),
        ),
        (
            f"{COLD} KPIs, one region-year",
            "heavy",
            lambda: compute_kpis(regions=[region], period=kpi_period),
        ),
        (
            f"KPIs, all {len(all_region_ids)} regions ({kpi_year})",
            "heavy",
            lambda: compute_kpis(regions=None, period=kpi_period),
        ),
        (
            f"{COLD} KPIs, all {len(all_region_ids)} regions",
            "heavy",
            lambda: compute_kpis(regions=None, period=kpi_period),
        ),
        (
            f"Controlling report PDF ({region.name}, {quarter.label})",
            "pdf",
            lambda: render_report_pdf(region=region, period=quarter),
        ),
    ]
    targets = {
        "page": PAGE_TARGET,
        "heavy": HEAVY_TARGET,
        "save": SAVE_TARGET,
        "pdf": PDF_TARGET,
        # Not a page: its time is compared with the raw SQL below.
        "task": None,
        # Once per view after the cache is emptied (Redis restarted): reported, no target.
    }
    rows = []
    with override_settings(DEBUG=False, ALLOWED_HOSTS=["*"]), _tasks_queued_not_run():
        try:
            for name, kind, fn in pages + computations:
                print(f"… {name}", flush=True)
                before = None
                if name.startswith((COLD, AFTER_CHANGE)):
                    before = _data_changed
                elif name.startswith(EMPTIED):
                    before = _cache_emptied
                samples = _time(
                    fn,
                    PDF_REPEAT if kind == "pdf" else COLD_REPEAT if before else REPEAT,
                    before=before,
                )
                row = {"name": name, "target_p95_ms": targets[kind], **_summary(samples)}
                if before is not None:
                    before()
                row["queries"] = _count_queries(fn)
                # The ≤ 15 bound is for pages (GET) and the figures; a save and the PDF
                # report have none.
                bounded = kind in ("page", "heavy", "task")
                row["query_target"] = QUERY_TARGET if bounded else None
                queries_ok = row["query_target"] is None or row["queries"] <= QUERY_TARGET
                row["pass"] = queries_ok and (
                    targets[kind] is None or row["p95_ms"] <= targets[kind]
                )
                rows.append(row)
        finally:
            saver.clean_up()

        # Page time against the hand-written SQL of the same figures.
        as_of = as_of_for(year, today)
        dash_ids = list(Region.objects.values_list("pk", flat=True))
        ratios, mismatches = [], []
        dash = region_years(year, Region.objects.order_by("name"), today)
        page_figures = {
            "flexible_booked": sum(ry.flexible.booked for ry in dash),
            "stationary_booked": sum(ry.stationary.booked for ry in dash),
        }
        raw = raw_sql.dashboard(year, dash_ids, as_of)
        mismatches += _compare("dashboard", page_figures, raw)
        kpi_set = compute_kpis(regions=[region], period=kpi_period)
        raw_kpis = raw_sql.kpis([region.pk], kpi_period.start, kpi_period.end)
        mismatches += _compare(
            "KPIs",
            {"active_helps": kpi_set.active_helps, "minutes_total": kpi_set.minutes_total},
            raw_kpis,
        )
        # Against the cold pages: the cached ones would compare a cache read with SQL.
        by_name = {row["name"]: row for row in rows}
        for name, page_name, fn in [
            (
                "Budget dashboard figures (cache cold)",
                computations[0][0],
                lambda: raw_sql.dashboard(year, dash_ids, as_of),
            ),
            (
                "KPIs, one region-year (cache cold)",
                computations[2][0],
                lambda: raw_sql.kpis([region.pk], kpi_period.start, kpi_period.end),
            ),
            (
                "KPIs, all regions (cache cold)",
                computations[4][0],
                lambda: raw_sql.kpis(all_region_ids, kpi_period.start, kpi_period.end),
            ),
        ]:
            print(f"… raw SQL: {name}", flush=True)
            raw_p50 = common.percentile(_time(fn, REPEAT), 0.5)
            page_p50 = by_name[page_name]["p50_ms"]
            ratio = page_p50 / raw_p50 if raw_p50 else None
            ratios.append(
                {
                    "name": name,
                    "page_p50_ms": page_p50,
                    "raw_sql_p50_ms": round(raw_p50, 1),
                    "ratio": round(ratio, 2) if ratio else None,
                    "pass": ratio is not None and ratio <= RATIO_TARGET,
                }
            )
    return {
        "method": (
            "in-process Django test Client, full middleware stack, force_login, DEBUG off; "
            f"{REPEAT} timed requests after {WARMUP} warm-up ones (PDF: {PDF_REPEAT}; "
            f"'{COLD}' and '{AFTER_CHANGE}' rows: {COLD_REPEAT}, each after a change to the "
            f"figures' data; '{EMPTIED}' rows: {COLD_REPEAT}, each after emptying the cache); "
            "Celery tasks go to a Redis queue as in production, no worker runs them"
        ),
        "machine": common.machine(),
        "database": common.database_url().rsplit("/", 1)[-1],
        "data": common.data_size(),
        "personas": {
            "caseworker": people.caseworker.username,
            "provider staff": people.staff.username,
            "provider lead": people.provider_lead.username,
            "department head": people.head.username,
        },
        "pages": rows,
        "ratios": ratios,
        "raw_sql_mismatches": mismatches,
    }


def main() -> None:
    common.setup_django()
    result = run()
    common.save_results("bench", result)
    from benchmarks import report

    report.write()
    for row in result["pages"]:
        verdict = "PASS" if row["pass"] else "MISS"
        print(
            f"{verdict}  {row['name']:<60} p50 {row['p50_ms']:>8} p95 {row['p95_ms']:>8} "
            f"max {row['max_ms']:>8} ms  {row['queries']:>3} queries"
        )
    for row in result["ratios"]:
        verdict = "PASS" if row["pass"] else "MISS"
        print(f"{verdict}  {row['name']:<60} page ÷ raw SQL = {row['ratio']}")
    for line in result["raw_sql_mismatches"]:
        print(f"WARNING raw SQL differs: {line}")


if __name__ == "__main__":
    main()
