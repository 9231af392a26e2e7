#!/usr/bin/env bash
# `make run`: the local Daraja simulator, a Celery worker and Celery beat in the background,
# then Kaunti in the foreground. Tasks travel through kombu's filesystem transport (files
# under var/celery/), so no broker server is needed (ADR 18).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBUG=1
PY=.venv/bin/python
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
SIMULATOR_PORT=${SIMULATOR_PORT:-8001}
# The address links, receipts' QR codes and `ussd_console` use: the port served here.
# (0.0.0.0 serves every interface; a browser on this machine reaches it as 127.0.0.1.)
LINK_HOST=$HOST
[ "$HOST" = "0.0.0.0" ] && LINK_HOST=127.0.0.1
export PORT
export SITE_URL=${SITE_URL:-http://$LINK_HOST:$PORT}
export MPESA_BASE_URL=${MPESA_BASE_URL:-http://127.0.0.1:$SIMULATOR_PORT}
export MPESA_CALLBACK_BASE_URL=${MPESA_CALLBACK_BASE_URL:-$SITE_URL}
# The worker and beat, and the web process that queues tasks, share the folder broker.
export CELERY_BROKER_URL=${CELERY_BROKER_URL:-filesystem://localhost//}
# The worker prints the console backend's SMS on this terminal; its log goes to a file.
export CELERY_WORKER_REDIRECT_STDOUTS=0
mkdir -p var/celery
echo "$SITE_URL" >var/run-url

$PY -m kaunti.simulators.daraja --port "$SIMULATOR_PORT" --validation >var/daraja-simulator.log 2>&1 &
simulator=$!
worker=
beat=
stop_background() {
  for pid in $beat $worker $simulator; do kill "$pid" 2>/dev/null || true; done
  for pid in $beat $worker $simulator; do wait "$pid" 2>/dev/null || true; done
  rm -f var/run-url
}
trap stop_background EXIT
trap 'exit 130' INT TERM
# One task at a time (`--pool solo`): SQLite takes one writer at a time anyway.
$PY -m celery -q -A kaunti worker -Q celery,notifications --pool solo -n "kaunti-demo@%h" \
  --without-mingle --without-gossip -l INFO --logfile var/celery-worker.log &
worker=$!
$PY -m celery -q -A kaunti beat -l INFO --logfile var/celery-beat.log \
  --schedule var/celerybeat-schedule --pidfile= &
beat=$!
for _ in $(seq 1 50); do
  $PY -c "import socket,sys; socket.create_connection(('127.0.0.1', $SIMULATOR_PORT), 0.2)" 2>/dev/null && break
  sleep 0.1
done
$PY manage.py register_c2b_urls || echo "WARNING: could not register the paybill URLs with the simulator (see var/daraja-simulator.log)"

echo
echo "Kaunti:             $SITE_URL/"
echo "M-Pesa simulator:   $MPESA_BASE_URL  (the demo citizen's phone: $MPESA_BASE_URL/phone/254712345678/)"
echo "Scheduled jobs:     a Celery worker and beat (logs in var/celery-worker.log, var/celery-beat.log)"
echo "SMS are printed below. Stop with Ctrl+C."
echo
$PY manage.py runserver --noreload "$HOST:$PORT"
