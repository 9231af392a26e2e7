#!/usr/bin/env bash
# Upgrade from the previous release (RELEASES' last line) to this code, as a county would:
# the previous release's code builds a PostgreSQL database (migrate, load_demo_data), this
# code's `manage.py upgrade` upgrades it, and nothing may be lost: counts the same or more,
# the same balances per account, the same receipts, the audit chain intact from the old
# head, and the site answers. CI runs it (`.ci/run`); it takes one to three minutes.
#
# Needs PostgreSQL (UPGRADE_CHECK_SERVER, default postgres://postgres@127.0.0.1:5432) and a
# clone with the previous release's commit. The previous release runs on this checkout's
# .venv (its dependencies are a subset: `pip install -r requirements.lock` of that commit
# would be needed only if a later lock removed or downgraded one it uses).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SERVER=${UPGRADE_CHECK_SERVER:-postgres://postgres@127.0.0.1:5432}
DATABASE=${UPGRADE_CHECK_DATABASE:-kaunti_upgrade_check}
PORT=${UPGRADE_CHECK_PORT:-8400}
# A smaller year of history than the demo's: every kind of row, in a minute on a small machine.
PAYMENTS=${UPGRADE_CHECK_PAYMENTS:-300}
PY=$ROOT/.venv/bin/python

read -r RELEASE COMMIT < <(grep -v '^#' RELEASES | grep . | tail -1)
WORK=$(mktemp -d)
PREVIOUS=$WORK/$RELEASE
SERVER_PID=""

cleanup() {
  set +e  # every step, whatever the one before did
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; fi
  git -C "$ROOT" worktree remove --force "$PREVIOUS" 2>/dev/null
  git -C "$ROOT" worktree prune
  psql "$SERVER/postgres" -qc "DROP DATABASE IF EXISTS $DATABASE" >/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

stamp() { echo "[$(date -u +%H:%M:%S)] $*"; }

# Only this check's variables: no Redis or broker (the site's own settings are not needed).
export DATABASE_URL=$SERVER/$DATABASE DEBUG=1 SMS_BACKEND=file
unset REDIS_URL CELERY_BROKER_URL KAUNTI_TESTING

stamp "previous release $RELEASE ($COMMIT) in $PREVIOUS"
git worktree add --detach --quiet "$PREVIOUS" "$COMMIT"
ln -s "$ROOT/.venv" "$PREVIOUS/.venv"
psql "$SERVER/postgres" -qc "DROP DATABASE IF EXISTS $DATABASE" >/dev/null
psql "$SERVER/postgres" -qc "CREATE DATABASE $DATABASE" >/dev/null

stamp "$RELEASE: migrate and load_demo_data --history-payments $PAYMENTS"
(cd "$PREVIOUS" && SMS_FILE_PATH="$WORK/sms.jsonl" "$PY" manage.py migrate --noinput -v0 \
  && SMS_FILE_PATH="$WORK/sms.jsonl" "$PY" manage.py load_demo_data --history-payments "$PAYMENTS" >/dev/null)

# What must survive, read with SQL (no code of either release in between).
snapshot() {
  psql "$DATABASE_URL" -XAtq -F ' ' <<'SQL'
SELECT 'count ' || t, n FROM (
  SELECT 'accounts_user' t, count(*) n FROM accounts_user
  UNION ALL SELECT 'payments_bill', count(*) FROM payments_bill
  UNION ALL SELECT 'payments_payment', count(*) FROM payments_payment
  UNION ALL SELECT 'payments_receipt', count(*) FROM payments_receipt
  UNION ALL SELECT 'payments_inboundcallback', count(*) FROM payments_inboundcallback
  UNION ALL SELECT 'ledger_journalentry', count(*) FROM ledger_journalentry
  UNION ALL SELECT 'ledger_journalline', count(*) FROM ledger_journalline
  UNION ALL SELECT 'eservices_application', count(*) FROM eservices_application
  UNION ALL SELECT 'land_parcel', count(*) FROM land_parcel
  UNION ALL SELECT 'core_auditevent', count(*) FROM core_auditevent
) counts ORDER BY 1;
SELECT 'balance ' || a.code, coalesce(sum(l.debit), 0) || '/' || coalesce(sum(l.credit), 0)
  FROM ledger_account a LEFT JOIN ledger_journalline l ON l.account_id = a.id
  GROUP BY a.code ORDER BY a.code;
SELECT 'trial-balance', coalesce(sum(debit) - sum(credit), 0) FROM ledger_journalline;
SELECT 'receipts', md5(coalesce(string_agg(number || ':' || verification_code, ',' ORDER BY number), ''))
  FROM payments_receipt;
SELECT 'audit-head ' || id, hash FROM core_auditevent ORDER BY id DESC LIMIT 1;
SELECT 'audit-contents', md5(string_agg(concat_ws('|', id, occurred_at, actor_id, actor_label,
  action, target_type, target_id, data::text), E'\n' ORDER BY id)) FROM core_auditevent;
SQL
}
snapshot >"$WORK/before"
stamp "before: $(grep -c . "$WORK/before") facts recorded ($(grep '^count payments_receipt' "$WORK/before"), $(grep '^count core_auditevent' "$WORK/before"))"

stamp "this code: upgrade --plan"
"$PY" manage.py upgrade --plan --skip-backup --i-have-a-backup
stamp "this code: upgrade"
BACKUP_ARGS=(--skip-backup --i-have-a-backup)
if "$PY" manage.py help backup >/dev/null 2>&1; then
  BACKUP_ARGS=()
  export BACKUP_DIR=$WORK/backups
  "$PY" manage.py backup --generate-key "$WORK/backup.key" >/dev/null
  export BACKUP_KEY_FILE=$WORK/backup.key
fi
MAINTENANCE_FLAG_FILE=$WORK/maintenance.json STATIC_ROOT=$WORK/static \
  "$PY" manage.py upgrade "${BACKUP_ARGS[@]}"

snapshot >"$WORK/after"
failures=0
# Counts: the same or more (the upgrade adds its own audit event).
while read -r _ table value; do
  after=$(awk -v t="$table" '$1 == "count" && $2 == t {print $3}' "$WORK/after")
  if [ -z "$after" ] || [ "$after" -lt "$value" ]; then
    echo "LOST: $table had $value rows, now ${after:-none}"; failures=$((failures + 1))
  fi
done < <(grep '^count ' "$WORK/before")
# Balances, the trial balance, receipts and the old audit head: exactly the same.
grep -v '^count \|^audit-' "$WORK/before" >"$WORK/before.same"
grep -v '^count \|^audit-' "$WORK/after" >"$WORK/after.same"
if ! diff -u "$WORK/before.same" "$WORK/after.same"; then
  echo "CHANGED: balances or receipts differ after the upgrade"; failures=$((failures + 1))
fi
# The old events, each as recorded (who, what, when, on what, with what data): the same.
# Their hashes may differ: a migration may re-seal the chain under a new formula after
# checking the old one (ADR 19); verify_audit below checks the chain as it now is.
read -r _ head_id _head_hash < <(grep '^audit-head ' "$WORK/before")
audit_contents() {
  psql "$DATABASE_URL" -XAtqc "SELECT md5(string_agg(concat_ws('|', id, occurred_at, actor_id,
    actor_label, action, target_type, target_id, data::text), E'\n' ORDER BY id))
    FROM core_auditevent WHERE id <= $head_id"
}
if [ "$(audit_contents)" != "$(grep '^audit-contents ' "$WORK/before" | cut -d' ' -f2)" ]; then
  echo "CHANGED: the audit events recorded before the upgrade"; failures=$((failures + 1))
fi
"$PY" manage.py verify_audit
grep -q "\"to_version\"" <(psql "$DATABASE_URL" -XAtqc \
  "SELECT data FROM core_auditevent WHERE action = 'upgrade.completed'") \
  || { echo "MISSING: the upgrade's audit event"; failures=$((failures + 1)); }

stamp "this code serves the upgraded database on port $PORT"
STATIC_ROOT=$WORK/static "$PY" manage.py runserver "127.0.0.1:$PORT" --noreload \
  >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 30); do
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null && break
  sleep 1
done
for path in / /api/v1/services/ /healthz /readyz; do
  status=$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT$path" || echo 000)
  echo "  GET $path: $status"
  [ "$status" = 200 ] || { failures=$((failures + 1)); tail -20 "$WORK/server.log"; }
done

if [ "$failures" -ne 0 ]; then
  stamp "upgrade from $RELEASE: $failures problem(s)"
  exit 1
fi
stamp "upgrade from $RELEASE: nothing lost ($(grep -c . "$WORK/before") facts compared), the site answers"
