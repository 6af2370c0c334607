"""Shared set-up of the benchmark and the load run: Django against the bench database,
the machine description and the results file."""

import datetime
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results.json"
DEFAULT_DATABASE_URL = "postgres://root@127.0.0.1:5432/kijufaz_city"


def database_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL


def setup_django() -> None:
    """Django on the bench database; 2FA and re-authentication never block the bench."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = database_url()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kijufaz.settings")
    # The bench logs in with force_login: no 2FA, and no password prompt for exports.
    os.environ["KIJUFAZ_REQUIRE_2FA"] = "false"
    os.environ.setdefault("KIJUFAZ_REAUTH_MAX_AGE", str(24 * 3600))
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
    import django

    django.setup()


def percentile(samples: list[float], share: float) -> float:
    """Nearest-rank percentile (p95 of 20 samples is the 19th)."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _first_line(path: str, prefix: str) -> str:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(prefix):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def python_speed_ms() -> float:
    """A fixed pure-Python workload (best of five, ms): machines of the same kind differ
    by two to three times between sessions, and this says which kind of run it was."""
    best = math.inf
    for __ in range(5):
        started = time.perf_counter()
        sorted(str(i * 7919 % 100_003) for i in range(200_000))
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 1)


def machine() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    mem_kb = _first_line("/proc/meminfo", "MemTotal").split()[0]
    ram = f"{int(mem_kb) / 1024 / 1024:.1f} GiB" if mem_kb.isdigit() else "unknown"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 (fixed command, no input)
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        commit = "unknown"
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": _first_line("/proc/cpuinfo", "model name"),
        "ram": ram,
        "postgresql": pg_version,
        "python": platform.python_version(),
        "python_speed_ms": python_speed_ms(),
        # Other work on the machine skews every time: say how busy it was.
        "load_average": " / ".join(f"{x:.1f}" for x in os.getloadavg()),
        "commit": commit,
    }


def data_size() -> dict:
    """Row counts of the big tables (estimates from the planner for speed)."""
    from django.db import connection

    tables = [
        "cases_region",
        "core_user",
        "cases_family",
        "cases_person",
        "cases_case",
        "cases_help",
        "providers_hourentry",
        "providers_groupoffer",
        "budgets_servicecontract",
    ]
    sizes = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 (fixed table names)
            sizes[table] = cursor.fetchone()[0]
    return sizes


def load_results() -> dict:
    if RESULTS.exists():
        return json.loads(RESULTS.read_text())
    return {}


def save_results(key: str, value: dict) -> None:
    """Store one part (bench or load) and leave the other as it is."""
    results = load_results()
    results[key] = value
    RESULTS.write_text(json.dumps(results, indent=2, default=str) + "\n")
