from django.db import migrations

ADD = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE providers_hourentry ADD CONSTRAINT hour_entry_no_overlap
    EXCLUDE USING gist (
        staff_id WITH =,
        tsrange(date + start_time, date + end_time) WITH &&
    ) WHERE (start_time IS NOT NULL AND corrects_id IS NULL);
"""
DROP = "ALTER TABLE providers_hourentry DROP CONSTRAINT IF EXISTS hour_entry_no_overlap;"


def add(apps, schema_editor):
    # One person cannot be in two places at once. PostgreSQL enforces it even
    # against concurrent requests; on SQLite (demo only) the form check suffices.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ADD)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("providers", "0002_hours_and_group_offers")]

    operations = [migrations.RunPython(add, drop)]
