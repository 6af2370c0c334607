"""The audit chain is extended by one database function, in one statement.

Before, core.audit took the chain lock, read the last hash, inserted the entry and
committed in four round trips from Python; under load the lock was held while the
holder's process waited for a CPU, and every audited request queued behind it. The
function does the same steps inside the database: outside a transaction the lock is
taken and released within that single statement.
"""

from django.db import migrations

# core.audit.CHAIN_LOCK_ID ("audit" in ASCII); a migration is frozen, so it is repeated.
CREATE = """
CREATE FUNCTION core_audit_append(
    head text, tail text, p_at timestamptz, p_user_id bigint, p_username varchar,
    p_action varchar, p_object_type varchar, p_object_id varchar, p_changes jsonb,
    p_ip inet, p_path varchar, p_case_id bigint, p_family_id bigint
) RETURNS TABLE (entry_id bigint, prev_hash varchar, entry_hash varchar) AS $$
DECLARE
    prev varchar;
    digest varchar;
    new_id bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(418581342580);
    SELECT e.entry_hash INTO prev FROM core_auditentry e ORDER BY e.id DESC LIMIT 1;
    prev := coalesce(prev, '');
    digest := encode(sha256(convert_to(head || prev || tail, 'UTF8')), 'hex');
    -- The id is drawn under the lock, so id order is chain order.
    INSERT INTO core_auditentry (
        at, user_id, username, action, object_type, object_id, changes, ip_address,
        path, prev_hash, entry_hash, case_id, family_id
    ) VALUES (
        p_at, p_user_id, p_username, p_action, p_object_type, p_object_id, p_changes,
        p_ip, p_path, prev, digest, p_case_id, p_family_id
    ) RETURNING id INTO new_id;
    RETURN QUERY SELECT new_id, prev, digest;
END;
$$ LANGUAGE plpgsql;
"""
DROP = "DROP FUNCTION IF EXISTS core_audit_append;"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("core", "0006_hours_changes")]

    operations = [migrations.RunPython(create, drop)]
