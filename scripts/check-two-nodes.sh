#!/usr/bin/env bash
# Two app nodes, one county (issue 16): on loopback, two gunicorn nodes, two Celery workers
# and beat share one fresh PostgreSQL database and Redis behind nginx (plain HTTP); under a
# load of paybill confirmations, USSD sessions and application lifecycles, one node's whole
# process group and one worker are killed with SIGKILL. Asserts that every confirmation is
# recorded exactly once, no USSD session breaks, staff sessions and rate limits are shared,
# the trial balance balances and the audit chain verifies (bench/scale_out/check.py).
# Needs PostgreSQL and Redis on 127.0.0.1 (as .ci/run starts them); installs nginx from
# Debian's packages if missing. Ports 8510-8512; database kaunti_two_nodes (recreated);
# Redis databases 12 (cache) and 13 (broker), flushed. About 2 to 3 minutes.
# Usage (from anywhere): scripts/check-two-nodes.sh [check.py options]
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
  echo "== installing nginx (Debian's package)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null
fi
export PATH="$PATH:/usr/sbin"
[ -f kaunti/static/build/.built ] || { echo "FAILED: the static assets are not built: run 'make assets' first" >&2; exit 1; }

unset KAUNTI_TESTING DATABASE_REPLICA_URL
exec .venv/bin/python bench/scale_out/check.py "$@"
