#!/usr/bin/env bash
# The restore drill at a small size, as CI runs it (docs/operations/backup.md): the demo
# county (a short history) into a scratch PostgreSQL database, with a stored file and an
# audit anchor; a backup of it; then `manage.py restore_drill`, which restores that backup
# into another fresh database and file store, times each phase, and checks the audit
# chain, trial balance, receipt sequences, row counts and every file's SHA-256 against the
# backup's manifest. Both scratch databases are dropped at the end.
#
#   scripts/restore-drill.sh [HISTORY_PAYMENTS]      (default 100)
#
# DRILL_POSTGRES (default postgres://postgres@127.0.0.1:5432) and DRILL_DATABASE (default
# kaunti_drill) name the server and the scratch database.
set -euo pipefail
cd "$(dirname "$0")/.."
SERVER=${DRILL_POSTGRES:-postgres://postgres@127.0.0.1:5432}
NAME=${DRILL_DATABASE:-kaunti_drill}
PAYMENTS=${1:-100}
WORK=$(mktemp -d -t kaunti-drill-XXXXXX)
PY=.venv/bin/python

drop() { PGOPTIONS=--client-min-messages=warning psql -q "$SERVER/postgres" -c "DROP DATABASE IF EXISTS \"$NAME\" WITH (FORCE)" >/dev/null; }
cleanup() { drop; rm -rf "$WORK"; }
trap cleanup EXIT
drop
psql -q "$SERVER/postgres" -c "CREATE DATABASE \"$NAME\"" >/dev/null

export DEBUG=1 DATABASE_URL="$SERVER/$NAME" MEDIA_ROOT="$WORK/media"
mkdir -p "$MEDIA_ROOT/audit-anchors"
echo '{"drill": true}' >"$MEDIA_ROOT/audit-anchors/drill.json"

started=$(date +%s)
$PY manage.py migrate --noinput -v0
$PY manage.py load_demo_data --history-payments "$PAYMENTS" >/dev/null
echo "demo county loaded ($PAYMENTS payments of history): $(($(date +%s) - started)) s"

$PY manage.py backup --generate-key "$WORK/drill.key" >/dev/null
started=$(date +%s)
backup=$($PY manage.py backup --to "$WORK/backups" --key-file "$WORK/drill.key" 2>/dev/null | tail -1)
echo "backup $backup: $(($(date +%s) - started)) s, $(du -h "$backup" | cut -f1)"

# Restores into <scratch database>_drill_<pid> on the same server and drops it after.
$PY manage.py restore_drill "$backup" --key-file "$WORK/drill.key" 2>/dev/null
