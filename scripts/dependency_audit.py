#!/usr/bin/env python3
"""Dependency audit that works with PyPI alone.

pip-audit asks PyPI's per-version JSON API (https://pypi.org/pypi/<name>/<version>/json)
for every installed package. Where that API answers 404 (as on the office network),
pip-audit reports every package as "not found on PyPI and could not be audited" and,
without --strict, still says "No known vulnerabilities found".

This script does the best honest check with what answers:

1. For every installed distribution (the running interpreter's environment, editable
   installs of our own code skipped) it reads the project JSON
   https://pypi.org/pypi/<name>/json. Its `vulnerabilities` are the known
   vulnerabilities of the *latest* release; one is a finding when the installed
   version is the latest release, or when a `fixed_in` version lies above the installed
   version and no fix of the installed release series is at or below it. Its
   `releases` tell whether the installed release was yanked (also a finding).
2. When the per-version API answers, pip-audit runs as well (if installed) and its
   findings are added.
3. Findings fail the run unless `security/audit-allowlist.toml` names them (id or
   alias) with a reason and an expiry date that has not passed.
4. It prints plainly what it could not check: packages not on PyPI, packages whose
   lookup failed, and, without the per-version API, the packages older than their
   latest release (vulnerabilities fixed between the installed and the latest
   release are not listed in the project JSON).

Exit codes: 0 no unaccepted finding; 1 findings (or an expired allowlist entry that
still matches); 2 the allowlist is invalid; 3 PyPI was not reachable at all, nothing
was checked (0 with --network-optional, which `make test` uses: a warning instead).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import datetime
import importlib.metadata
import json
import re
import subprocess  # nosec B404
import sys
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path

from packaging.version import InvalidVersion, Version

PYPI = "https://pypi.org/pypi"
ALLOWLIST = Path(__file__).resolve().parent.parent / "security" / "audit-allowlist.toml"
TIMEOUT = 15
WORKERS = 8

EXIT_OK, EXIT_FINDINGS, EXIT_BAD_ALLOWLIST, EXIT_OFFLINE = 0, 1, 2, 3


class AllowlistError(ValueError):
    pass


class NotFound(Exception):
    """PyPI answered 404 for the URL."""


@dataclasses.dataclass(frozen=True)
class Package:
    name: str
    version: str


@dataclasses.dataclass(frozen=True)
class Finding:
    package: str
    version: str
    id: str
    aliases: tuple[str, ...] = ()
    fixed_in: tuple[str, ...] = ()
    summary: str = ""
    source: str = "pypi-project-json"

    @property
    def ids(self) -> set[str]:
        return {self.id, *self.aliases}


@dataclasses.dataclass(frozen=True)
class AllowEntry:
    id: str
    reason: str
    expires: datetime.date
    package: str = ""

    def matches(self, finding: Finding) -> bool:
        if self.package and canonical(self.package) != canonical(finding.package):
            return False
        return self.id in finding.ids


@dataclasses.dataclass
class Verdict:
    failures: list[Finding]
    accepted: list[tuple[Finding, AllowEntry]]
    expired: list[tuple[Finding, AllowEntry]]
    unused: list[AllowEntry]


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# --- The allowlist ---------------------------------------------------------------------


def parse_allowlist(text: str) -> list[AllowEntry]:
    """Entries of `[[ignore]]` tables: id, reason and expires (a TOML date) required."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AllowlistError(f"not valid TOML: {exc}") from exc
    unknown = set(data) - {"ignore"}
    if unknown:
        raise AllowlistError(f"unknown top-level keys: {', '.join(sorted(unknown))}")
    entries = []
    for number, raw in enumerate(data.get("ignore", []), start=1):
        where = f"[[ignore]] entry {number}"
        extra = set(raw) - {"id", "reason", "expires", "package"}
        if extra:
            raise AllowlistError(f"{where}: unknown keys {', '.join(sorted(extra))}")
        for key in ("id", "reason"):
            if not isinstance(raw.get(key), str) or not raw[key].strip():
                raise AllowlistError(f"{where}: '{key}' must be a non-empty string")
        expires = raw.get("expires")
        if not isinstance(expires, datetime.date) or isinstance(expires, datetime.datetime):
            raise AllowlistError(f"{where} ({raw['id']}): 'expires' must be a date (2027-01-31)")
        entries.append(
            AllowEntry(
                id=raw["id"].strip(),
                reason=raw["reason"].strip(),
                expires=expires,
                package=str(raw.get("package", "")).strip(),
            )
        )
    return entries


def judge(findings: Iterable[Finding], entries: list[AllowEntry], today: datetime.date) -> Verdict:
    """Which findings fail the audit: those no valid (unexpired) allowlist entry covers."""
    verdict = Verdict(failures=[], accepted=[], expired=[], unused=[])
    used: set[int] = set()
    for finding in findings:
        matching = [(i, e) for i, e in enumerate(entries) if e.matches(finding)]
        used.update(i for i, __ in matching)
        valid = [e for __, e in matching if e.expires >= today]
        if valid:
            verdict.accepted.append((finding, valid[0]))
            continue
        verdict.failures.append(finding)
        verdict.expired.extend((finding, e) for __, e in matching)
    verdict.unused = [e for i, e in enumerate(entries) if i not in used]
    return verdict


# --- Reading PyPI's project JSON -----------------------------------------------------


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def is_fixed(installed: str, fixed_in: Iterable[str]) -> bool:
    """Whether the installed version already has the fix.

    Fixed when a fix of the same release series (major.minor) is at or below the
    installed version (a backport), or when every fix is at or below it.
    """
    current = _version(installed)
    fixes = [v for v in map(_version, fixed_in) if v is not None]
    if current is None or not fixes:
        return False
    same_series = [f for f in fixes if f.release[:2] == current.release[:2]]
    if any(f <= current for f in same_series):
        return True
    return all(f <= current for f in fixes)


def findings_from_project(package: Package, project: dict) -> list[Finding]:
    """Findings for the installed version from the project JSON (see module doc)."""
    latest = project.get("info", {}).get("version", "")
    at_latest = _version(latest) is not None and _version(latest) == _version(package.version)
    findings = []
    for vuln in project.get("vulnerabilities") or []:
        if vuln.get("withdrawn"):
            continue
        fixed_in = tuple(vuln.get("fixed_in") or ())
        if at_latest or not is_fixed(package.version, fixed_in):
            findings.append(
                Finding(
                    package=package.name,
                    version=package.version,
                    id=vuln.get("id") or "UNKNOWN",
                    aliases=tuple(vuln.get("aliases") or ()),
                    fixed_in=fixed_in,
                    summary=(vuln.get("summary") or vuln.get("details") or "").strip()[:200],
                )
            )
    files = _release_files(project, package.version)
    if files and all(f.get("yanked") for f in files):
        reason = next((f.get("yanked_reason") for f in files if f.get("yanked_reason")), "")
        findings.append(
            Finding(
                package=package.name,
                version=package.version,
                id=f"YANKED-{canonical(package.name)}-{package.version}",
                summary=f"release was yanked from PyPI{': ' + reason if reason else ''}",
            )
        )
    return findings


def _release_files(project: dict, version: str) -> list[dict] | None:
    releases = project.get("releases") or {}
    if version in releases:
        return releases[version]
    wanted = _version(version)
    for key, files in releases.items():
        if wanted is not None and _version(key) == wanted:
            return files
    return None


def is_on_pypi(project: dict, version: str) -> bool:
    return _release_files(project, version) is not None


def is_outdated(project: dict, version: str) -> bool:
    latest, current = _version(project.get("info", {}).get("version", "")), _version(version)
    return latest is not None and current is not None and current < latest


# --- Network -------------------------------------------------------------------------


def fetch_json(url: str) -> dict:
    if not url.startswith("https://"):
        raise ValueError(url)
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    try:
        # https only (checked above).
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 # nosec B310
            return json.load(response)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise NotFound(url) from exc
        raise


def installed_packages() -> list[Package]:
    """Distributions of this interpreter's environment, without editable installs."""
    packages = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if not name:
            continue
        direct_url = dist.read_text("direct_url.json")
        if direct_url and json.loads(direct_url).get("dir_info", {}).get("editable"):
            continue
        packages[canonical(name)] = Package(name=canonical(name), version=dist.version)
    return sorted(packages.values(), key=lambda p: p.name)


def per_version_api_answers(package: Package, fetch: Callable[[str], dict]) -> bool:
    try:
        fetch(f"{PYPI}/{package.name}/{package.version}/json")
    except Exception:  # noqa: BLE001 - any failure means: not usable
        return False
    return True


def pip_audit_findings() -> list[Finding] | None:
    """pip-audit's findings (JSON output), or None when pip-audit is not installed."""
    try:
        importlib.metadata.distribution("pip-audit")
    except importlib.metadata.PackageNotFoundError:
        return None
    # pip-audit with this interpreter and fixed arguments, no shell.
    result = subprocess.run(  # nosec B603
        [sys.executable, "-m", "pip_audit", "--strict", "--skip-editable", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        print(f"WARNING: pip-audit gave no report: {result.stderr.strip()[-500:]}")
        return None
    return [
        Finding(
            package=canonical(dep["name"]),
            version=dep.get("version", ""),
            id=vuln["id"],
            aliases=tuple(vuln.get("aliases") or ()),
            fixed_in=tuple(vuln.get("fix_versions") or ()),
            summary=(vuln.get("description") or "").strip()[:200],
            source="pip-audit",
        )
        for dep in report.get("dependencies", [])
        for vuln in dep.get("vulns", [])
    ]


# --- The run -------------------------------------------------------------------------


@dataclasses.dataclass
class Survey:
    findings: list[Finding]
    not_on_pypi: list[Package]
    failed: list[tuple[Package, str]]
    outdated: list[Package]
    checked: int


def survey(packages: list[Package], fetch: Callable[[str], dict]) -> Survey:
    result = Survey(findings=[], not_on_pypi=[], failed=[], outdated=[], checked=0)

    def look_up(package: Package):
        try:
            return package, fetch(f"{PYPI}/{package.name}/json"), None
        except NotFound:
            return package, None, None
        except Exception as exc:  # noqa: BLE001 - reported as "could not check"
            return package, None, f"{type(exc).__name__}: {exc}"

    with concurrent.futures.ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for package, project, error in pool.map(look_up, packages):
            if error:
                result.failed.append((package, error))
            elif project is None or not is_on_pypi(project, package.version):
                result.not_on_pypi.append(package)
            else:
                result.checked += 1
                result.findings.extend(findings_from_project(package, project))
                if is_outdated(project, package.version):
                    result.outdated.append(package)
    return result


def _unreachable(packages: list[Package], fetch: Callable[[str], dict]) -> str | None:
    """The error if PyPI cannot be reached at all (a 404 still means: reachable)."""
    if not packages:
        return None
    try:
        fetch(f"{PYPI}/{packages[0].name}/json")
    except NotFound:
        return None
    except Exception as exc:  # noqa: BLE001 - any other failure: treat as offline
        return f"{type(exc).__name__}: {exc}"
    return None


def merge(*groups: Iterable[Finding]) -> list[Finding]:
    """One finding per vulnerability and package, whichever source reported it first."""
    merged: list[Finding] = []
    for finding in (f for group in groups for f in group):
        if not any(
            canonical(m.package) == canonical(finding.package) and m.ids & finding.ids
            for m in merged
        ):
            merged.append(finding)
    return sorted(merged, key=lambda f: (f.package, f.id))


def _names(packages: Iterable[Package]) -> str:
    return ", ".join(f"{p.name} {p.version}" for p in packages)


def run(
    *,
    allowlist_path: Path,
    today: datetime.date,
    network_optional: bool,
    packages: list[Package] | None = None,
    fetch: Callable[[str], dict] = fetch_json,
    use_pip_audit: bool = True,
) -> int:
    try:
        entries = parse_allowlist(allowlist_path.read_text(encoding="utf-8"))
    except (OSError, AllowlistError) as exc:
        print(f"ERROR: allowlist {allowlist_path}: {exc}")
        return EXIT_BAD_ALLOWLIST
    packages = installed_packages() if packages is None else packages
    print(f"Auditing {len(packages)} installed distributions against PyPI ...")
    # One request first: without a network the run stops after one timeout, not 100.
    offline_error = _unreachable(packages, fetch)
    found = survey(packages, fetch) if offline_error is None else None
    if found is not None and packages and found.checked == 0 and not found.not_on_pypi:
        offline_error = found.failed[0][1]
    if offline_error is not None:
        print("")
        print("*" * 78)
        print("* WARNING: PyPI could not be reached; NO dependency was checked for known")
        print(f"* vulnerabilities ({offline_error[:150]}).")
        print("* Run `make audit` with network access to pypi.org.")
        print("*" * 78)
        return EXIT_OK if network_optional else EXIT_OFFLINE

    per_version = bool(packages) and per_version_api_answers(packages[0], fetch)
    from_pip_audit = pip_audit_findings() if per_version and use_pip_audit else None
    if per_version and from_pip_audit is None:
        print("NOTE: PyPI's per-version API answers, but pip-audit did not run.")

    verdict = judge(merge(found.findings, from_pip_audit or []), entries, today)
    _report(found, verdict, pip_audit_ran=from_pip_audit is not None)
    if verdict.failures:
        return EXIT_FINDINGS
    return EXIT_OK


def _report(found: Survey, verdict: Verdict, *, pip_audit_ran: bool) -> None:
    print(f"Checked {found.checked} distributions with PyPI's project JSON.")
    if pip_audit_ran:
        print("pip-audit ran too (PyPI's per-version API answers); its findings are included.")
    for finding, entry in verdict.accepted:
        print(
            f"accepted  {finding.package} {finding.version} {finding.id}: {entry.reason} "
            f"(until {entry.expires.isoformat()})"
        )
    for finding, entry in verdict.expired:
        print(
            f"EXPIRED   allowlist entry {entry.id} ({finding.package}) expired on "
            f"{entry.expires.isoformat()}"
        )
    for finding in verdict.failures:
        fix = f"; fixed in {', '.join(finding.fixed_in)}" if finding.fixed_in else "; no fix known"
        print(f"FINDING   {finding.package} {finding.version} {finding.id}{fix}: {finding.summary}")
    for entry in verdict.unused:
        print(f"NOTE      allowlist entry {entry.id} matched nothing; remove it if it is obsolete")

    print("")
    print("Not checked:")
    nothing = True
    if found.not_on_pypi:
        nothing = False
        print(f"- not on PyPI (local or private builds): {_names(found.not_on_pypi)}")
    if found.failed:
        nothing = False
        print(f"- lookup failed: {_names(p for p, __ in found.failed)}")
    if not pip_audit_ran and found.outdated:
        nothing = False
        print(
            "- pip-audit could not run (PyPI's per-version API pypi.org/pypi/<name>/<version>"
            "/json does not answer here). The project JSON lists only the vulnerabilities of "
            "the latest release, so vulnerabilities fixed between the installed and the latest "
            "release are NOT visible for these older-than-latest packages: "
            f"{_names(found.outdated)}"
        )
    if nothing:
        print("- nothing")
    print("")
    if verdict.failures:
        print(f"FAILED: {len(verdict.failures)} finding(s) not justified in the allowlist.")
    else:
        print("OK: no finding without a justification in the allowlist.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--allowlist", type=Path, default=ALLOWLIST)
    parser.add_argument(
        "--network-optional",
        action="store_true",
        help="if PyPI cannot be reached at all, warn and exit 0 instead of 3",
    )
    parser.add_argument(
        "--no-pip-audit", action="store_true", help="never run pip-audit, even if it could"
    )
    args = parser.parse_args(argv)
    return run(
        allowlist_path=args.allowlist,
        today=datetime.date.today(),
        network_optional=args.network_optional,
        use_pip_audit=not args.no_pip_audit,
    )


if __name__ == "__main__":
    sys.exit(main())
