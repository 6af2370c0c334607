"""The dependency audit (scripts/dependency_audit.py) decides from PyPI's project JSON and
the allowlist which findings fail the build. These tests feed it PyPI answers without
the network: a plain function stands in for the HTTP fetch."""

import datetime
import importlib.util
import sys
import urllib.error
from pathlib import Path

import pytest
from django.conf import settings

SCRIPT = Path(settings.BASE_DIR) / "scripts" / "dependency_audit.py"
_spec = importlib.util.spec_from_file_location("dependency_audit", SCRIPT)
audit = importlib.util.module_from_spec(_spec)
sys.modules["dependency_audit"] = audit  # dataclasses look their module up there
_spec.loader.exec_module(audit)

TODAY = datetime.date(2026, 11, 25)
PYPI = "https://pypi.org/pypi"


def project(latest, releases, vulnerabilities=()):
    return {
        "info": {"version": latest},
        "releases": dict(releases),
        "vulnerabilities": list(vulnerabilities),
    }


def files(yanked=False, reason=""):
    return [{"yanked": yanked, "yanked_reason": reason or None}]


def vuln(id, fixed_in=(), aliases=(), withdrawn=None):
    return {
        "id": id,
        "aliases": list(aliases),
        "fixed_in": list(fixed_in),
        "summary": f"summary of {id}",
        "withdrawn": withdrawn,
    }


def allowlist(tmp_path, text):
    path = tmp_path / "allow.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --- Allowlist ----------------------------------------------------------------------


def test_the_shipped_allowlist_is_valid():
    text = (Path(settings.BASE_DIR) / "security" / "audit-allowlist.toml").read_text()

    assert audit.parse_allowlist(text) == []


def test_an_allowlist_entry_has_id_reason_and_expiry():
    (entry,) = audit.parse_allowlist(
        '[[ignore]]\nid = "GHSA-1"\npackage = "Foo_Bar"\n'
        'reason = "only the CLI is affected"\nexpires = 2027-01-31\n'
    )

    assert entry == audit.AllowEntry(
        id="GHSA-1",
        reason="only the CLI is affected",
        expires=datetime.date(2027, 1, 31),
        package="Foo_Bar",
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[ignore]]\nid = "GHSA-1"\nexpires = 2027-01-31\n', "'reason'"),
        ('[[ignore]]\nid = "GHSA-1"\nreason = " "\nexpires = 2027-01-31\n', "'reason'"),
        ('[[ignore]]\nreason = "r"\nexpires = 2027-01-31\n', "'id'"),
        ('[[ignore]]\nid = "GHSA-1"\nreason = "r"\n', "'expires'"),
        ('[[ignore]]\nid = "GHSA-1"\nreason = "r"\nexpires = "soon"\n', "'expires'"),
        ('[[ignore]]\nid = "GHSA-1"\nreason = "r"\nexpires = 2027-01-31\nwhy = 1\n', "why"),
        ("[[ignore]\n", "not valid TOML"),
        ('[ignores]\nid = "x"\n', "unknown top-level"),
    ],
)
def test_an_entry_without_a_reason_or_expiry_is_refused(text, message):
    with pytest.raises(audit.AllowlistError, match=message):
        audit.parse_allowlist(text)


def test_only_an_unexpired_entry_accepts_a_finding():
    finding = audit.Finding(package="foo", version="1.0", id="PYSEC-1", aliases=("CVE-9",))
    valid = audit.AllowEntry(id="CVE-9", reason="r", expires=TODAY)
    expired = audit.AllowEntry(id="PYSEC-1", reason="r", expires=TODAY - datetime.timedelta(1))

    assert audit.judge([finding], [valid], TODAY).accepted == [(finding, valid)]
    verdict = audit.judge([finding], [expired], TODAY)
    assert verdict.failures == [finding]
    assert verdict.expired == [(finding, expired)]


def test_an_entry_for_another_package_does_not_accept_the_finding():
    finding = audit.Finding(package="foo", version="1.0", id="GHSA-1")
    other = audit.AllowEntry(id="GHSA-1", reason="r", expires=TODAY, package="bar")

    verdict = audit.judge([finding], [other], TODAY)

    assert verdict.failures == [finding]
    assert verdict.unused == [other]


# --- Findings from the project JSON ---------------------------------------------------


@pytest.mark.parametrize(
    ("installed", "fixed_in", "fixed"),
    [
        ("5.1.9", ["4.2.20", "5.1.8", "5.2.1"], True),  # backport in the same series
        ("5.2.0", ["4.2.20", "5.1.8", "5.2.1"], False),
        ("5.0.5", ["4.2.20", "5.1.8", "5.2.1"], False),  # series without a fix
        ("6.0.1", ["4.2.20", "5.1.8", "5.2.1"], True),  # every fix is older
        ("1.0", [], False),  # no fix known
        ("not-a-version", ["1.0"], False),
    ],
)
def test_a_version_is_fixed_when_a_fix_of_its_series_or_every_fix_is_at_or_below_it(
    installed, fixed_in, fixed
):
    assert audit.is_fixed(installed, fixed_in) is fixed


def test_a_vulnerability_of_the_latest_release_is_a_finding_when_that_is_installed():
    data = project("2.0", {"2.0": files()}, [vuln("GHSA-late")])

    (finding,) = audit.findings_from_project(audit.Package("foo", "2.0"), data)

    assert finding.id == "GHSA-late"


def test_an_older_version_below_the_fix_is_a_finding_a_fixed_one_is_not():
    data = project(
        "3.1", {"2.0": files(), "2.5": files(), "3.1": files()}, [vuln("GHSA-1", ["2.5", "3.2"])]
    )

    assert [f.id for f in audit.findings_from_project(audit.Package("foo", "2.0"), data)] == [
        "GHSA-1"
    ]
    assert audit.findings_from_project(audit.Package("foo", "2.5"), data) == []


def test_a_withdrawn_vulnerability_is_no_finding():
    data = project("2.0", {"2.0": files()}, [vuln("GHSA-1", withdrawn="2026-01-01T00:00:00Z")])

    assert audit.findings_from_project(audit.Package("foo", "2.0"), data) == []


def test_a_yanked_installed_release_is_a_finding():
    data = project("2.1", {"2.0": files(yanked=True, reason="broken wheel"), "2.1": files()})

    (finding,) = audit.findings_from_project(audit.Package("foo", "2.0"), data)

    assert finding.id == "YANKED-foo-2.0"
    assert "broken wheel" in finding.summary


def test_the_same_vulnerability_from_two_sources_is_reported_once():
    ours = audit.Finding(package="foo", version="1", id="PYSEC-1", aliases=("GHSA-1",))
    pip_audit = audit.Finding(package="Foo", version="1", id="GHSA-1", source="pip-audit")

    assert audit.merge([ours], [pip_audit]) == [ours]


# --- A whole run, PyPI answered by a plain function -------------------------------------


def fake_pypi(projects):
    def fetch(url):
        name = url.removeprefix(f"{PYPI}/").removesuffix("/json")
        if name in projects:
            return projects[name]
        raise audit.NotFound(url)  # the per-version API answers 404 here

    return fetch


def offline(url):
    raise urllib.error.URLError("Name or service not known")


PACKAGES = [audit.Package("django", "6.0.10"), audit.Package("foo", "1.0")]
PROJECTS = {
    "django": project("6.1.3", {"6.0.10": files(), "6.1.3": files()}),
    "foo": project("1.0", {"1.0": files()}, [vuln("GHSA-foo", aliases=["CVE-2026-1"])]),
}


def run(tmp_path, fetch, text="", network_optional=False):
    return audit.run(
        allowlist_path=allowlist(tmp_path, text),
        today=TODAY,
        network_optional=network_optional,
        packages=PACKAGES,
        fetch=fetch,
    )


def test_an_unjustified_finding_fails_and_says_what_was_not_checked(tmp_path, capsys):
    assert run(tmp_path, fake_pypi(PROJECTS)) == audit.EXIT_FINDINGS

    out = capsys.readouterr().out
    assert "FINDING   foo 1.0 GHSA-foo" in out
    assert "NOT visible for these older-than-latest packages: django 6.0.10" in out


def test_a_justified_finding_passes(tmp_path, capsys):
    text = '[[ignore]]\nid = "CVE-2026-1"\nreason = "not used"\nexpires = 2026-12-31\n'

    assert run(tmp_path, fake_pypi(PROJECTS), text) == audit.EXIT_OK
    assert "accepted  foo 1.0 GHSA-foo: not used (until 2026-12-31)" in capsys.readouterr().out


def test_a_package_missing_from_pypi_is_named_as_not_checked(tmp_path, capsys):
    projects = {"django": PROJECTS["django"]}

    assert run(tmp_path, fake_pypi(projects)) == audit.EXIT_OK
    assert "not on PyPI (local or private builds): foo 1.0" in capsys.readouterr().out


def test_without_network_nothing_is_checked_and_it_says_so(tmp_path, capsys):
    assert run(tmp_path, offline) == audit.EXIT_OFFLINE
    assert "NO dependency was checked" in capsys.readouterr().out


def test_without_network_the_test_run_only_warns(tmp_path, capsys):
    assert run(tmp_path, offline, network_optional=True) == audit.EXIT_OK
    assert "WARNING: PyPI could not be reached" in capsys.readouterr().out


def test_an_invalid_allowlist_fails_even_offline(tmp_path):
    text = '[[ignore]]\nid = "GHSA-1"\n'

    assert run(tmp_path, offline, text, network_optional=True) == audit.EXIT_BAD_ALLOWLIST
