"""`make load`: 50 simulated users against gunicorn on loopback for 60 s.

Starts gunicorn with the production settings (kijufaz/gunicorn.py, DEBUG off;
LOAD_WORKERS processes with LOAD_THREADS threads each) on 127.0.0.1:LOAD_PORT against
$BENCH_DATABASE_URL, signs every simulated user in through the real login form
(password LOAD_PASSWORD, the demo password by default) and runs them without think time:

- caseworkers read their desk, the case list (plain and searched) and case pages;
- provider staff open the hour sheet and save an entry through the real form POST
  (CSRF token from the page, a fresh idempotency key each time);
- department heads and controllers open the budget dashboard and the first
  CHARTS_PER_VIEW chart images on it (a browser loads the others when scrolled to).

Afterwards it checks that the hour totals in the database grew by exactly the minutes
the clients saw saved (HTTP 302), per staff member, and removes the load run's entries
again (LOAD_KEEP=1 keeps them). Results: benchmarks/results.json ("load") and
docs/BENCHMARKS.md. LOAD_STAFF and LOAD_HEADS change the mix (default 2/5 staff, 1/10
heads, the rest caseworkers); LOAD_RESULT_KEY stores such a run under another key.
"""

import datetime
import http.client
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import common  # noqa: E402
from kijufaz import gunicorn as gunicorn_settings  # noqa: E402

PORT = int(os.environ.get("LOAD_PORT", "8765"))
# The production settings' processes and threads unless asked for others.
WORKERS = int(os.environ.get("LOAD_WORKERS", gunicorn_settings.workers))
THREADS = int(os.environ.get("LOAD_THREADS", gunicorn_settings.threads))
USERS = int(os.environ.get("LOAD_USERS", "50"))
SECONDS = int(os.environ.get("LOAD_SECONDS", "60"))
PASSWORD = os.environ.get("LOAD_PASSWORD", "demo")
TARGET_RPS = 100
ENTRY_MINUTES = 15
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CHART_IMAGE = re.compile(r'<img[^>]* src="(/budgets/charts/[^"]+\.svg)"')
CHARTS_PER_VIEW = 4


class Browser:
    """One signed-in user: a keep-alive connection and the cookies."""

    def __init__(self):
        self.connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None):
        headers = {"Host": f"127.0.0.1:{PORT}", "Accept-Language": "de"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://127.0.0.1:{PORT}{path}"
            headers["Origin"] = f"http://127.0.0.1:{PORT}"
        for attempt in range(2):
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                content = response.read()
                break
            except (http.client.HTTPException, ConnectionError):
                # The server closed a kept-alive connection: reconnect once.
                self.connection.close()
                if attempt:
                    raise
        for header in response.msg.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for key, morsel in cookie.items():
                self.cookies[key] = morsel.value
        return response.status, response.getheader("Location", ""), content.decode()

    def sign_in(self, username: str) -> None:
        __, __, page = self.request("GET", "/accounts/login/")
        token = CSRF_INPUT.search(page).group(1)
        status, location, __ = self.request(
            "POST",
            "/accounts/login/",
            {"csrfmiddlewaretoken": token, "username": username, "password": PASSWORD},
        )
        if status != 302 or "login" in location:
            raise SystemExit(f"Signing in {username} failed ({status} {location}).")


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.samples: dict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []
        self.submitted: dict[int, int] = defaultdict(int)
        self.keys: list[str] = []

    def record(self, kind: str, ms: float, error: str | None = None) -> None:
        with self.lock:
            self.samples[kind].append(ms)
            if error:
                self.errors.append(f"{kind}: {error}")


def _timed(stats: Stats, browser: Browser, kind: str, method: str, path: str, form=None):
    started = time.perf_counter()
    try:
        status, location, page = browser.request(method, path, form)
    except Exception as exc:  # noqa: BLE001 (every failure counts as an error)
        stats.record(kind, (time.perf_counter() - started) * 1000, repr(exc))
        return None, "", ""
    ms = (time.perf_counter() - started) * 1000
    expected = 302 if method == "POST" else 200
    stats.record(kind, ms, None if status == expected else f"{status} {path} {location}")
    return status, location, page


def caseworker(stats: Stats, browser: Browser, case_ids: list[int], term: str, stop):
    i = 0
    while not stop.is_set():
        _timed(stats, browser, "desk", "GET", "/")
        _timed(stats, browser, "case list", "GET", "/cases/")
        _timed(stats, browser, "case search", "GET", "/cases/?" + urlencode({"q": term}))
        if case_ids:
            _timed(stats, browser, "case detail", "GET", f"/cases/{case_ids[i % len(case_ids)]}/")
        i += 1


def staff_member(stats: Stats, browser: Browser, staff_id: int, room: dict, stop):
    from providers.models import Activity, HourKind

    while not stop.is_set():
        status, __, page = _timed(stats, browser, "hour sheet", "GET", "/providers/hours/")
        match = CSRF_INPUT.search(page or "")
        day = next((d for d, free in room.items() if free >= ENTRY_MINUTES), None)
        if match is None or day is None:
            continue
        room[day] -= ENTRY_MINUTES
        key = str(uuid.uuid4())
        status, location, __ = _timed(
            stats,
            browser,
            "save hour entry",
            "POST",
            "/providers/hours/",
            {
                "csrfmiddlewaretoken": match.group(1),
                "idempotency_key": key,
                "date": day.isoformat(),
                "minutes": str(ENTRY_MINUTES),
                "kind": HourKind.CASE_UNSPECIFIC,
                "activity": Activity.NETWORKING,
                "note": "load run",
            },
        )
        if status == 302 and "hours" in location:
            with stats.lock:
                stats.submitted[staff_id] += ENTRY_MINUTES
                stats.keys.append(key)


def head(stats: Stats, browser: Browser, year: int, stop):
    while not stop.is_set():
        __, __, page = _timed(stats, browser, "budget dashboard", "GET", f"/budgets/?year={year}")
        # The browser loads a chart when it is scrolled into view: the first regions'.
        for path in CHART_IMAGE.findall(page or "")[:CHARTS_PER_VIEW]:
            _timed(stats, browser, "dashboard chart", "GET", path)


def _people():
    """Active users with the demo password: a mix of the three kinds of users, each kind
    drawn evenly from all its users (so team leads and caseworkers, and the providers'
    staff, come in the proportions of the data set, not the first ones created)."""
    from cases.models import Case
    from core.models import Role, User

    def of(roles, n, **conditions):
        users = list(
            User.objects.filter(role__in=roles, is_active=True, **conditions).order_by("pk")
        )
        if n <= 0 or not users:
            return []
        step = max(1, len(users) / n)
        return [users[int(i * step)] for i in range(min(n, len(users)))]

    n_heads = int(os.environ.get("LOAD_HEADS", max(1, USERS // 10)))
    n_staff = int(os.environ.get("LOAD_STAFF", USERS * 2 // 5))
    heads = of([Role.DEPARTMENT_HEAD, Role.CONTROLLER], n_heads)
    staff = of([Role.PROVIDER_STAFF], n_staff, provider__isnull=False)
    caseworkers = of([Role.ASD, Role.ASD_LEAD], USERS - len(heads) - len(staff))
    cases = {}
    for user in caseworkers:
        visible = Case.objects.visible_to(user).open().select_related("family")
        cases[user.pk] = list(visible.order_by("pk")[:20])
    return heads, staff, caseworkers, cases


def _room_per_day(staff, today: datetime.date) -> dict:
    from django.db.models import Sum

    from providers.models import MAX_MINUTES_PER_DAY, HourEntry

    rooms = {}
    for user in staff:
        logged = dict(
            HourEntry.objects.filter(staff=user, date__gt=today - datetime.timedelta(days=90))
            .values_list("date")
            .annotate(t=Sum("minutes"))
        )
        days = [today - datetime.timedelta(days=i) for i in range(90)]
        rooms[user.pk] = {d: MAX_MINUTES_PER_DAY - logged.get(d, 0) for d in days}
    return rooms


def _totals(staff) -> dict[int, int]:
    from django.db.models import Sum

    from providers.models import HourEntry

    rows = (
        HourEntry.objects.filter(staff__in=staff)
        .values_list("staff_id")
        .annotate(t=Sum("minutes"))
        .order_by()
    )
    totals = dict.fromkeys((u.pk for u in staff), 0)
    totals.update(dict(rows))
    return totals


def cpu_seconds(server_pid: int) -> dict[str, float]:
    """CPU time (user + system, seconds) used so far by the parts sharing the machine:
    gunicorn (its process group), PostgreSQL, Redis, this client, and the whole machine."""
    tick = os.sysconf("SC_CLK_TCK")
    used = dict.fromkeys(("gunicorn", "postgresql", "redis", "client"), 0.0)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        own = (int(fields[11]) + int(fields[12])) / tick
        # With the time of its children that have ended (gunicorn's replaced workers,
        # PostgreSQL's closed connections and autovacuum runs).
        seconds = own + (int(fields[13]) + int(fields[14])) / tick
        if int(fields[3]) == server_pid:  # the process group gunicorn was started in
            used["gunicorn"] += seconds
        elif name.startswith("postgres"):
            used["postgresql"] += seconds
        elif name.startswith("redis-server"):
            used["redis"] += seconds
        elif int(entry.name) == os.getpid():
            used["client"] += own
    cpu = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    # user, nice, system, irq, softirq, steal: everything but idle and iowait.
    used["machine"] = sum(int(cpu[i]) for i in (0, 1, 2, 5, 6, 7)) / tick
    return used


def start_server() -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": common.database_url(),
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "load-run-only-" + uuid.uuid4().hex),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "SECURE_HSTS_SECONDS": "0",
        "KIJUFAZ_REQUIRE_2FA": "false",
        # As in production (docker-compose.yml): one chart cache for all workers.
        "CACHE_URL": os.environ.get("LOAD_CACHE_URL", "redis://127.0.0.1:6379/5"),
        "LOG_LEVEL": "WARNING",
    }
    python = Path(sys.executable)
    subprocess.run(  # noqa: S603 (fixed command line)
        [python, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=common.ROOT,
        env=env,
        check=True,
    )
    server = subprocess.Popen(  # noqa: S603 (fixed command line)
        [python.parent / "gunicorn", "-c", "python:kijufaz.gunicorn", "kijufaz.wsgi:application"],
        cwd=common.ROOT,
        env={
            **env,
            # The production settings (kijufaz/gunicorn.py), on loopback and quiet.
            "GUNICORN_BIND": f"127.0.0.1:{PORT}",
            "WEB_CONCURRENCY": str(WORKERS),
            "GUNICORN_THREADS": str(THREADS),
            "GUNICORN_ACCESS_LOG": "",
            "GUNICORN_LOG_LEVEL": "warning",
        },
        start_new_session=True,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=5)
            connection.request("GET", "/healthz", headers={"Host": f"127.0.0.1:{PORT}"})
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.5)
    server.terminate()
    raise SystemExit("gunicorn did not answer /healthz within 60 s.")


def stop_server(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)


def run() -> dict:
    from django.db import connection
    from django.utils import timezone

    from core.models import Role

    today = timezone.localdate()
    heads, staff, caseworkers, cases = _people()
    rooms = _room_per_day(staff, today)
    before = _totals(staff)
    connection.close()
    stats, stop = Stats(), threading.Event()
    server = start_server()
    try:
        threads = []
        signed_in = []
        for user in heads + staff + caseworkers:
            browser = Browser()
            browser.sign_in(user.username)
            signed_in.append((user, browser))
        # In production the beat task computes the office dashboard ahead of the first
        # visit after a change (controlling.tasks.warm_dashboard_figures); here the first
        # head's visit before the clock starts does the same, charts included.
        warmed = next((b for u, b in signed_in if u in heads), None)
        if warmed is not None:
            started = time.perf_counter()
            warmed.request("GET", f"/budgets/?year={today.year}")
            print(f"dashboard warmed in {time.perf_counter() - started:.1f} s", flush=True)
        print(f"{len(signed_in)} users signed in; running {SECONDS} s …", flush=True)
        for user, browser in signed_in:
            if user in heads:
                args = (head, stats, browser, today.year, stop)
            elif user in staff:
                args = (staff_member, stats, browser, user.pk, rooms[user.pk], stop)
            else:
                own = cases[user.pk]
                term = own[0].family.name[:4] if own else "a"
                args = (caseworker, stats, browser, [c.pk for c in own], term, stop)
            threads.append(threading.Thread(target=args[0], args=args[1:], daemon=True))
        started = time.perf_counter()
        cpu_before = cpu_seconds(server.pid)
        for thread in threads:
            thread.start()
        time.sleep(SECONDS)
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
        elapsed = time.perf_counter() - started
        cpu_after = cpu_seconds(server.pid)
    finally:
        stop_server(server)

    after = _totals(staff)
    grown = {pk: after[pk] - before[pk] for pk in after}
    submitted = {u.pk: stats.submitted.get(u.pk, 0) for u in staff}
    totals_match = grown == submitted
    if os.environ.get("LOAD_KEEP") != "1":
        _remove_entries(stats.keys)
    all_samples = [ms for samples in stats.samples.values() for ms in samples]
    leads = sum(1 for user in caseworkers if user.role == Role.ASD_LEAD)
    total = len(all_samples)
    return {
        "method": (
            f"gunicorn (kijufaz/gunicorn.py: gthread, {WORKERS} workers × {THREADS} threads, "
            "DEBUG off) on "
            f"127.0.0.1, {len(heads + staff + caseworkers)} users without think time "
            f"({len(caseworkers)} caseworkers, {leads} of them team leads, "
            f"{len(staff)} provider staff saving hours "
            f"through the form, {len(heads)} on the budget dashboard with its first "
            f"{CHARTS_PER_VIEW} charts), {SECONDS} s, "
            "stdlib HTTP client with keep-alive, one thread per user"
        ),
        "machine": common.machine(),
        "database": common.database_url().rsplit("/", 1)[-1],
        "seconds": round(elapsed, 1),
        "requests": total,
        "requests_per_second": round(total / elapsed, 1),
        "target_rps": TARGET_RPS,
        "p50_ms": round(common.percentile(all_samples, 0.5), 1) if total else None,
        "p95_ms": round(common.percentile(all_samples, 0.95), 1) if total else None,
        "max_ms": round(max(all_samples), 1) if total else None,
        # Milliseconds of CPU per request, by part: what the two cores were spent on.
        "cpu_ms_per_request": {
            part: round((cpu_after[part] - cpu_before[part]) * 1000 / total, 1) if total else None
            for part in cpu_after
        },
        "errors": len(stats.errors),
        "error_examples": stats.errors[:10],
        "entries_saved": len(stats.keys),
        "totals_match": totals_match,
        "totals_mismatch": {
            pk: (grown[pk], submitted[pk]) for pk in grown if grown[pk] != submitted[pk]
        },
        "by_kind": {
            kind: {
                "n": len(samples),
                "p50_ms": round(common.percentile(samples, 0.5), 1),
                "p95_ms": round(common.percentile(samples, 0.95), 1),
            }
            for kind, samples in sorted(stats.samples.items())
        },
    }


def _remove_entries(keys: list[str]) -> None:
    """Through the service, so everything derived from the entries stays right."""
    from providers import services
    from providers.models import HourEntry

    for entry in HourEntry.objects.filter(idempotency_key__in=keys).select_related("staff"):
        services.delete_entry(entry=entry, by=entry.staff)


def main() -> None:
    common.setup_django()
    result = run()
    # LOAD_RESULT_KEY keeps a diagnostic run (another mix) apart from the main result.
    common.save_results(os.environ.get("LOAD_RESULT_KEY", "load"), result)
    from benchmarks import report

    report.write()
    print(
        f"{result['requests']} requests in {result['seconds']} s = "
        f"{result['requests_per_second']} req/s (target ≥ {TARGET_RPS}); "
        f"p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms; errors {result['errors']}; "
        f"{result['entries_saved']} entries saved; totals match: {result['totals_match']}"
    )
    for line in result["error_examples"]:
        print(f"  error: {line}")


if __name__ == "__main__":
    main()
