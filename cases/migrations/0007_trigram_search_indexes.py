"""Trigram indexes for the case list's name search (PostgreSQL only; a no-op elsewhere).

Django turns `name__icontains=x` into `UPPER("name"::text) LIKE UPPER('%x%')` on
PostgreSQL; a GIN index with gin_trgm_ops on exactly that expression lets a search
with three or more letters use the index instead of reading every row. The indexes are
not in Meta.indexes (an expression index with an operator class would be PostgreSQL
only), so the model state does not change and SQLite skips the migration.
"""

from django.db import migrations

INDEXES = [
    ("cases_family_name_trgm", "cases_family", "name"),
    ("cases_case_reference_trgm", "cases_case", "reference"),
    ("cases_person_first_name_trgm", "cases_person", "first_name"),
    ("cases_person_last_name_trgm", "cases_person", "last_name"),
]


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in INDEXES:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (UPPER("{column}"::text) gin_trgm_ops)'
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, __, __ in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("cases", "0006_confidentiality_and_retention")]

    operations = [migrations.RunPython(create_indexes, drop_indexes, elidable=False)]
