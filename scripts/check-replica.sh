#!/usr/bin/env bash
# Reports from a read replica (ADR 24): makes a second PostgreSQL cluster on port 8532, a hot
# standby streaming from the main cluster (pg_basebackup -R), then checks that a gunicorn
# node with DATABASE_REPLICA_URL serves the revenue report from it, up to date with a
# payment recorded on the primary after the backup (bench/scale_out/replica_check.py).
# The standby lives in a temporary directory owned by the postgres user and is stopped and
# removed at the end; it uses no replication slot, so nothing stays behind on the primary.
# If the primary refuses replication connections from 127.0.0.1, a trust line for them is
# added to its pg_hba.conf and the configuration reloaded (a CI machine's cluster).
# Usage (from anywhere, as root, with the main cluster on 127.0.0.1:5432): scripts/check-replica.sh
set -euo pipefail
cd "$(dirname "$0")/.."

port=${REPLICA_PORT:-8532}
version=$(ls /etc/postgresql | sort -n | tail -1)
bin=/usr/lib/postgresql/$version/bin
tmp=$(mktemp -d /tmp/kaunti-replica-XXXXXX)
chown postgres: "$tmp"
as_postgres() { su postgres -s /bin/bash -c "$*"; }

cleanup() {
  [ -n "${KEEP_REPLICA:-}" ] && return 0
  [ -f "$tmp/data/postmaster.pid" ] && as_postgres "$bin/pg_ctl -D $tmp/data -m immediate stop" >/dev/null 2>&1 || true
  rm -rf "$tmp" /tmp/kaunti-replica-check-token.json
}
trap cleanup EXIT
trap 'exit 130' INT TERM

psql_primary() { psql -h 127.0.0.1 -p 5432 -U postgres -X -At "$@"; }

echo "== the primary allows replication connections from 127.0.0.1"
if ! psql "host=127.0.0.1 port=5432 user=postgres replication=true" -X -c "IDENTIFY_SYSTEM" >/dev/null 2>&1; then
  hba=$(psql_primary -c "SHOW hba_file")
  echo "host replication all 127.0.0.1/32 trust  # kaunti scripts/check-replica.sh" >>"$hba"
  psql_primary -c "SELECT pg_reload_conf()" >/dev/null
  sleep 1
  psql "host=127.0.0.1 port=5432 user=postgres replication=true" -X -c "IDENTIFY_SYSTEM" >/dev/null
fi
[ "$(psql_primary -c "SHOW wal_level")" != minimal ] || { echo "FAILED: wal_level is minimal" >&2; exit 1; }

echo "== a database with a payment, on the primary"
.venv/bin/python bench/scale_out/replica_check.py seed

echo "== a standby on port $port (pg_basebackup -R, streaming)"
as_postgres "pg_basebackup -h 127.0.0.1 -p 5432 -U postgres -D $tmp/data -R -X stream -c fast -N"
# Debian keeps the main cluster's configuration in /etc: the standby gets its own.
cat >"$tmp/data/postgresql.conf" <<CONF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$tmp'
hot_standby = on
shared_buffers = 32MB
fsync = off  # a throwaway standby: no syncing of the copied data directory at start
$(psql_primary -c "SELECT string_agg(name || ' = ' || setting, E'\n') FROM pg_settings
  WHERE name IN ('max_connections', 'max_worker_processes', 'max_wal_senders',
                 'max_prepared_transactions', 'max_locks_per_transaction')")
log_destination = 'stderr'
logging_collector = off
log_statement = 'all'
CONF
printf 'local all all trust\nhost all all 127.0.0.1/32 trust\n' >"$tmp/data/pg_hba.conf"
: >"$tmp/data/pg_ident.conf"
: >"$tmp/replica.log"
chown postgres: "$tmp/data/postgresql.conf" "$tmp/data/pg_hba.conf" "$tmp/data/pg_ident.conf" "$tmp/replica.log"
as_postgres "$bin/pg_ctl -D $tmp/data -l $tmp/replica.log -w -t 300 start" >/dev/null || {
  tail -20 "$tmp/replica.log" >&2; echo "FAILED: the standby did not start" >&2; exit 1; }
state=$(psql_primary -c "SELECT state FROM pg_stat_replication WHERE client_addr = '127.0.0.1' LIMIT 1")
for _ in $(seq 1 50); do
  [ "$state" = streaming ] && break
  sleep 0.2
  state=$(psql_primary -c "SELECT state FROM pg_stat_replication WHERE client_addr = '127.0.0.1' LIMIT 1")
done
echo "   the primary's wal sender: ${state:-none}"
[ "$(psql -h 127.0.0.1 -p "$port" -U postgres -X -At -c "SELECT pg_is_in_recovery()")" = t ] || {
  echo "FAILED: the cluster on $port is not a standby" >&2; exit 1; }

echo "== the revenue report, served with DATABASE_REPLICA_URL"
.venv/bin/python bench/scale_out/replica_check.py verify "$tmp/replica.log"
