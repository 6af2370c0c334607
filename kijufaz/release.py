"""Which release of the code this process runs, for the cache's key prefix.

Cached figures (pickled objects) and cached page fragments (HTML) are keyed by the
data they depend on (core.figures); they also depend on the code that computed them,
the templates and translations that rendered them and the installed packages. A
release that changes any of these must not read what an earlier one wrote: a new
figure definition would otherwise show old numbers until the data next changes, and
an object pickled by an older class can fail to load. Every file of the project that
can change a cached value, the dependencies it declares and Django's version make up
the digest (about 10 ms at start-up); the same code on several machines gives the same
digest, so they share the cache.
"""

import hashlib
from pathlib import Path

import django

# The project's own code, templates and compiled translations (not .venv & co).
APPS = ("kijufaz", "core", "cases", "providers", "budgets", "controlling", "privacy")
SOURCES = (
    *(f"{app}/**/*.py" for app in APPS),
    *(f"{app}/**/*.html" for app in APPS),
    "templates/**/*.html",
    "locale/**/*.mo",
    "pyproject.toml",
)


def code_digest(base_dir: Path) -> str:
    """A short digest of the project's code, templates, translations and dependencies."""
    digest = hashlib.sha256(django.get_version().encode())
    files = sorted({path for pattern in SOURCES for path in base_dir.glob(pattern)})
    for path in files:
        if path.is_file():
            digest.update(path.relative_to(base_dir).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
