#!/usr/bin/env bash
# Back up KiJuFaZ: the PostgreSQL database (pg_dump custom format) and the media
# files (archived PDF reports) as a tar archive. See docs/BACKUP.md.
#
#   DATABASE_URL=postgres://user@host:5432/kijufaz scripts/backup.sh [TARGET_DIR]
#
# Environment:
#   DATABASE_URL  the database to dump (required; a postgres:// or postgresql:// URL)
#   MEDIA_ROOT    the media directory (default: ./media, as in kijufaz/settings.py)
#
# Writes TARGET_DIR/kijufaz-<UTC timestamp>.dump, ...-media.tar.gz and ...sha256
# (default TARGET_DIR: ./backups) and prints their paths. The files are readable by
# the owner only: they hold social data (§ 35 SGB I).
set -euo pipefail

die() { echo "backup.sh: $*" >&2; exit 1; }

[[ -n "${DATABASE_URL:-}" ]] || die "DATABASE_URL is not set"
[[ "$DATABASE_URL" =~ ^postgres(ql)?:// ]] || die "DATABASE_URL is not a PostgreSQL URL"
command -v pg_dump >/dev/null || die "pg_dump not found (install the PostgreSQL client)"

target="${1:-backups}"
media_root="${MEDIA_ROOT:-media}"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
base="$target/kijufaz-$stamp"

umask 077
mkdir -p "$target"

# Write under a temporary name first, so an interrupted run leaves no file that
# looks like a complete backup.
pg_dump --format=custom --compress=6 --file="$base.dump.partial" --dbname="$DATABASE_URL"
mv "$base.dump.partial" "$base.dump"

if [[ -d "$media_root" ]]; then
  tar -C "$media_root" -czf "$base-media.tar.gz.partial" .
else
  echo "backup.sh: no media directory at $media_root; writing an empty media archive" >&2
  tar -czf "$base-media.tar.gz.partial" --files-from=/dev/null
fi
mv "$base-media.tar.gz.partial" "$base-media.tar.gz"

(cd "$target" && sha256sum "$(basename "$base.dump")" "$(basename "$base-media.tar.gz")") \
  > "$base.sha256"

echo "$base.dump"
echo "$base-media.tar.gz"
echo "$base.sha256"
