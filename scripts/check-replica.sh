#!/usr/bin/env bash
# Reports from a read replica (ADR 24): two throwaway PostgreSQL clusters of their own, a
# primary on port 8531 and a hot standby on port 8532 streaming from it (pg_basebackup -R),
# then checks that a gunicorn node with DATABASE_REPLICA_URL serves the revenue report from
# the standby, up to date with a payment recorded on the primary after the base backup
# (bench/scale_out/replica_check.py). Both clusters live in a temporary directory owned by
# the postgres user and are stopped and removed at the end: the machine's own cluster, its
# configuration and its size play no part.
# Usage (from anywhere, as root, PostgreSQL's server binaries installed): scripts/check-replica.sh
set -euo pipefail
cd "$(dirname "$0")/.."

port=${REPLICA_PORT:-8532}
primary_port=${REPLICA_PRIMARY_PORT:-8531}
version=$(ls /usr/lib/postgresql | sort -n | tail -1)
bin=/usr/lib/postgresql/$version/bin
tmp=$(mktemp -d /tmp/kaunti-replica-XXXXXX)
chown postgres: "$tmp"
as_postgres() { su postgres -s /bin/bash -c "$*"; }

cleanup() {
  [ -n "${KEEP_REPLICA:-}" ] && return 0
  for data in "$tmp/data" "$tmp/primary"; do
    [ -f "$data/postmaster.pid" ] && as_postgres "$bin/pg_ctl -D $data -m immediate stop" >/dev/null 2>&1 || true
  done
  rm -rf "$tmp" /tmp/kaunti-replica-check-token.json
}
trap cleanup EXIT
trap 'exit 130' INT TERM

psql_primary() { psql -h 127.0.0.1 -p "$primary_port" -U postgres -X -At "$@"; }

echo "== a primary of its own on port $primary_port"
as_postgres "$bin/initdb -D $tmp/primary -U postgres --auth=trust -E UTF8 --locale=C.UTF-8" >/dev/null
cat >>"$tmp/primary/postgresql.conf" <<CONF
port = $primary_port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$tmp'
wal_level = replica
max_wal_senders = 4
shared_buffers = 64MB
fsync = off  # throwaway clusters
CONF
printf 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n' >"$tmp/primary/pg_hba.conf"
as_postgres "$bin/pg_ctl -D $tmp/primary -l $tmp/primary.log -w -t 120 start" >/dev/null || {
  tail -20 "$tmp/primary.log" >&2; echo "FAILED: the primary did not start" >&2; exit 1; }
export SCALE_OUT_POSTGRES="postgres://postgres@127.0.0.1:$primary_port"
export REPLICA_CHECK_SERVER="postgres://postgres@127.0.0.1:$port"

echo "== a database with a payment, on the primary"
.venv/bin/python bench/scale_out/replica_check.py seed

echo "== a standby on port $port (pg_basebackup -R, streaming)"
as_postgres "$bin/pg_basebackup -h 127.0.0.1 -p $primary_port -U postgres -D $tmp/data -R -X stream -c fast -N"
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
