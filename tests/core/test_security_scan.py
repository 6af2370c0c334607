"""Bandit finds nothing of medium or high severity in our code that nobody looked at.

A finding that is a false positive is either marked on its line (`# nosec BXXX  # why`)
where the line is trivially safe, or listed in ALLOWED with the reason it is safe.
`make test` runs the same scan (medium and up) before pytest.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "cases", "providers", "budgets", "controlling", "kijufaz")
EXCLUDED = "tests,*/migrations/*"  # "*/migrations" alone matches no file
GATE = {"MEDIUM", "HIGH"}

# (file relative to the project root, bandit test id) → why the finding is safe.
ALLOWED: dict[tuple[str, str], str] = {}


@pytest.fixture(scope="module")
def bandit_report() -> dict:
    scan = subprocess.run(
        [sys.executable, "-m", "bandit", "-q", "-r", *PACKAGES, "-x", EXCLUDED, "-f", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    # Exit 1 only means "there are findings"; anything else is a broken run.
    assert scan.returncode in (0, 1), scan.stderr
    return json.loads(scan.stdout)


def _unjustified(report: dict) -> list[str]:
    return [
        f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_severity']}: "
        f"{r['issue_text']}"
        for r in report["results"]
        if r["issue_severity"] in GATE and (r["filename"], r["test_id"]) not in ALLOWED
    ]


def test_no_unjustified_medium_or_high_findings(bandit_report):
    assert _unjustified(bandit_report) == []


def test_the_scan_read_every_app_and_no_migration(bandit_report):
    scanned = {Path(name).parts[0] for name in bandit_report["metrics"] if name != "_totals"}

    assert bandit_report["errors"] == []
    assert scanned == set(PACKAGES)
    assert not [name for name in bandit_report["metrics"] if "/migrations/" in name]


def test_every_allowed_finding_still_exists(bandit_report):
    """A stale allowance would silently excuse the next finding of its kind in that file."""
    found = {(r["filename"], r["test_id"]) for r in bandit_report["results"]}

    assert set(ALLOWED) <= found
