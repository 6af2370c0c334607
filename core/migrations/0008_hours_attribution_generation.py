# PostgreSQL only (core.figures). The cached hours per month were keyed by the figures
# generation, so any change to the figures' data (a posting, a goal rating, a new help)
# made the next KPI request read a year of hour rollups again. Hours depend only on the
# rollups (counted per month by core_hours_changed) and on where they are attributed:
# the help's case and family (region), the provider's name, the consortia and the
# contracts' providers. Changes to those raise a second generation row (id 2), at
# COMMIT and once per transaction like the figures triggers of migration 0005.

from django.db import migrations

# Table -> (columns whose update moves hours, or None for any update; whether an
# insertion can). A new help, case, family or provider has no hours yet.
TABLES = {
    "cases_help": (["case_id"], False),
    "cases_case": (["family_id"], False),
    "cases_family": (["region_id"], False),
    "providers_provider": (["name"], False),
    "providers_consortium": (None, True),
    "providers_consortium_members": (None, True),
    "budgets_servicecontract": (["region_id"], True),
    "budgets_servicecontract_providers": (None, True),
}

FUNCTION = """
CREATE FUNCTION core_attribution_changed() RETURNS trigger AS $$
BEGIN
    IF current_setting('kijufaz.attribution_changed', true) = pg_current_xact_id()::text THEN
        RETURN NULL;
    END IF;
    PERFORM set_config('kijufaz.attribution_changed', pg_current_xact_id()::text, true);
    INSERT INTO core_figuresgeneration (id, epoch, value, changed_at)
    VALUES (2, gen_random_uuid(), 1, now())
    ON CONFLICT (id) DO UPDATE
        SET value = core_figuresgeneration.value + 1, changed_at = now();
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
"""

NAMES = ("core_attribution_changed", "core_attribution_changed_update", "core_attribution_truncated")


def trigger_sql(table: str, columns, inserts: bool) -> str:
    run = "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW"
    function = "EXECUTE FUNCTION core_attribution_changed()"
    statements = []
    if columns is None:
        events = "INSERT OR UPDATE OR DELETE" if inserts else "UPDATE OR DELETE"
    else:
        events = "INSERT OR DELETE" if inserts else "DELETE"
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)
        statements.append(
            f"CREATE CONSTRAINT TRIGGER core_attribution_changed_update AFTER UPDATE "
            f"ON {table} {run} WHEN ({changed}) {function};"
        )
    statements.append(
        f"CREATE CONSTRAINT TRIGGER core_attribution_changed AFTER {events} "
        f"ON {table} {run} {function};"
    )
    statements.append(
        f"CREATE TRIGGER core_attribution_truncated AFTER TRUNCATE ON {table} "
        f"FOR EACH STATEMENT {function};"
    )
    return "\n".join(statements)


def install_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION)
    for table, (columns, inserts) in TABLES.items():
        schema_editor.execute(trigger_sql(table, columns, inserts))
    # Truncating the hour entries cannot say which months: it moves all hours.
    schema_editor.execute(
        "CREATE TRIGGER core_attribution_truncated AFTER TRUNCATE ON providers_hourentry "
        "FOR EACH STATEMENT EXECUTE FUNCTION core_attribution_changed();"
    )


def remove_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in [*TABLES, "providers_hourentry"]:
        for name in NAMES:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table};")
    schema_editor.execute("DROP FUNCTION IF EXISTS core_attribution_changed()")
    schema_editor.execute("DELETE FROM core_figuresgeneration WHERE id = 2")


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0007_audit_append_function"),
        ("budgets", "0001_initial"),
        ("providers", "0004_hour_rollups"),
    ]

    operations = [migrations.RunPython(install_triggers, remove_triggers)]
