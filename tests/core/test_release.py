"""A release that changes the code, the templates or the translations does not read the
cached figures and fragments an earlier one wrote (the cache's key prefix)."""

import shutil

import pytest
from django.conf import settings

from kijufaz.release import code_digest


@pytest.fixture
def project(tmp_path):
    for name, text in {
        "cases/selectors.py": "DUE_SOON_DAYS = 30\n",
        "templates/cases/desk.html": "<h1>Desk</h1>\n",
        "locale/de/LC_MESSAGES/django.mo": "catalogue",
        "pyproject.toml": '[project]\nname = "kijufaz"\n',
        "README.md": "Read me\n",
    }.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


@pytest.mark.parametrize(
    "changed",
    [
        "cases/selectors.py",
        "templates/cases/desk.html",
        "locale/de/LC_MESSAGES/django.mo",
        "pyproject.toml",
    ],
)
def test_a_change_to_code_templates_translations_or_dependencies_is_a_new_release(project, changed):
    before = code_digest(project)
    (project / changed).write_text((project / changed).read_text() + "# changed\n")
    assert code_digest(project) != before


def test_the_same_files_elsewhere_are_the_same_release(project, tmp_path_factory):
    """Several machines with the same code share the cache."""
    copy = tmp_path_factory.mktemp("elsewhere") / "project"
    shutil.copytree(project, copy)
    assert code_digest(copy) == code_digest(project)


def test_documentation_and_new_modules_outside_the_apps_do_not_count(project):
    before = code_digest(project)
    (project / "README.md").write_text("Read me again\n")
    (project / "notes.py").write_text("x = 1\n")
    assert code_digest(project) == before


def test_the_cache_keys_carry_this_release():
    assert settings.CACHES["default"]["KEY_PREFIX"] == code_digest(settings.BASE_DIR)
