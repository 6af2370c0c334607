"""The German catalog is complete, and the German UI really speaks German."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.utils import translation

from cases.models import LegalBasis

GERMAN_PO = Path(settings.BASE_DIR) / "locale" / "de" / "LC_MESSAGES" / "django.po"


def test_german_catalog_has_no_untranslated_or_fuzzy_entries():
    # --check also verifies the header and that every python-format placeholder
    # of a msgid appears in its msgstr.
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(GERMAN_PO)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    stats = result.stderr.strip().splitlines()[-1]
    assert re.fullmatch(r"\d+ translated messages?\.", stats), stats
    assert "untranslated" not in result.stderr
    assert "fuzzy" not in result.stderr
    assert int(stats.split()[0]) > 0


def test_legal_basis_label_is_german():
    with translation.override("de"):
        assert str(LegalBasis.FAMILY_SUPPORT.label) == (
            "§ 31 Sozialpädagogische Familienhilfe (SPFH)"
        )
    with translation.override("en"):
        assert str(LegalBasis.FAMILY_SUPPORT.label) == (
            "§ 31 socio-educational family support (SPFH)"
        )


def test_every_message_of_the_code_and_templates_is_in_the_german_catalog(tmp_path):
    """makemessages, run on a copy of the project, finds nothing new to translate: a
    string added to the code without a German translation would show up in English."""
    source = Path(settings.BASE_DIR)
    copy = tmp_path / "project"
    shutil.copytree(
        source,
        copy,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "node_modules", "media", "staticfiles", "__pycache__", "*.sqlite3"
        ),
    )
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "de"],
        cwd=copy,
        env={**os.environ, "DATABASE_URL": "sqlite://:memory:"},
        capture_output=True,
        check=True,
    )
    catalog = copy / "locale" / "de" / "LC_MESSAGES" / "django.po"

    def entries(*flags: str) -> str:
        command = ["msgattrib", *flags, "--no-obsolete", "--no-wrap", str(catalog)]
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout

    missing, fuzzy = entries("--untranslated"), entries("--only-fuzzy")
    new = re.findall(r'^msgid "(.+)"$', missing + fuzzy, flags=re.MULTILINE)
    assert new == []
