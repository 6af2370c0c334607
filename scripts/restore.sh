#!/usr/bin/env bash
# Restore a KiJuFaZ backup made by scripts/backup.sh into an EMPTY database and an
# empty media directory. See docs/BACKUP.md.
#
#   DATABASE_URL=postgres://user@host:5432/kijufaz_new scripts/restore.sh DUMP [MEDIA_TAR]
#
# Environment:
#   DATABASE_URL  the target database: it must exist and be empty (createdb first)
#   MEDIA_ROOT    where the media archive is unpacked (default: ./media); it must be
#                 empty or not exist yet
#
# The restore refuses to run into a database that already has tables (it would mix
# two data sets), verifies the checksums next to the dump if they are there, and
# stops at the first error (pg_restore --exit-on-error, one transaction).
set -euo pipefail

die() { echo "restore.sh: $*" >&2; exit 1; }

[[ $# -ge 1 && $# -le 2 ]] || die "usage: restore.sh DUMP [MEDIA_TAR]"
dump="$1"
media_tar="${2:-}"
media_root="${MEDIA_ROOT:-media}"

[[ -n "${DATABASE_URL:-}" ]] || die "DATABASE_URL is not set"
[[ "$DATABASE_URL" =~ ^postgres(ql)?:// ]] || die "DATABASE_URL is not a PostgreSQL URL"
[[ -f "$dump" ]] || die "no dump file at $dump"
[[ -z "$media_tar" || -f "$media_tar" ]] || die "no media archive at $media_tar"
command -v pg_restore >/dev/null || die "pg_restore not found (install the PostgreSQL client)"

checksums="${dump%.dump}.sha256"
if [[ -f "$checksums" ]]; then
  (cd "$(dirname "$checksums")" && sha256sum --check --quiet --ignore-missing "$(basename "$checksums")") \
    || die "checksums in $checksums do not match: the backup is damaged"
fi

relations="$(psql "$DATABASE_URL" -X -q -t -A -v ON_ERROR_STOP=1 -c "
  SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
    AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')")" \
  || die "cannot connect to the target database"
[[ "$relations" == "0" ]] \
  || die "the target database is not empty ($relations tables, views or sequences); restore only into a new, empty database"

if [[ -n "$media_tar" && -d "$media_root" && -n "$(ls -A "$media_root")" ]]; then
  die "the media directory $media_root is not empty"
fi

# --no-owner / --no-acl: the objects belong to the user of DATABASE_URL, whatever
# roles the source server had.
pg_restore --no-owner --no-acl --exit-on-error --single-transaction \
  --dbname="$DATABASE_URL" "$dump"

# The figures cache (core.figures, Redis) is keyed by the generation rows: new epochs
# make sure that no value cached for the database this backup came from, at the same
# generation, is ever read for the restored one.
psql "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 -c "
  DO \$\$ BEGIN
    IF to_regclass('core_figuresgeneration') IS NOT NULL THEN
      INSERT INTO core_figuresgeneration (id, epoch, value, changed_at)
      SELECT id, gen_random_uuid(), 0, now() FROM (VALUES (1), (2)) AS generations(id)
      ON CONFLICT (id) DO UPDATE SET epoch = EXCLUDED.epoch, changed_at = now();
    END IF;
  END \$\$;" || die "could not renew the figures cache generations"

if [[ -n "$media_tar" ]]; then
  mkdir -p "$media_root"
  tar -C "$media_root" -xzf "$media_tar"
  # Audit log anchors (core.audit) written after the dump name entries the restored
  # database never had: the restored system anchors anew; the old file stays for reading.
  anchors="$media_root/audit/anchors.jsonl"
  if [[ -f "$anchors" ]]; then
    mv "$anchors" "$media_root/audit/anchors-before-restore-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
  fi
fi

echo "restore.sh: restored $dump${media_tar:+ and $media_tar}"
