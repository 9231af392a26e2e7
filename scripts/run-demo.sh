#!/usr/bin/env bash
# `make run`: the local Daraja simulator in the background, then Kaunti in the foreground.
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
mkdir -p var
echo "$SITE_URL" >var/run-url

$PY -m kaunti.simulators.daraja --port "$SIMULATOR_PORT" --validation >var/daraja-simulator.log 2>&1 &
simulator=$!
trap 'kill $simulator 2>/dev/null || true; rm -f var/run-url' EXIT INT TERM
for _ in $(seq 1 50); do
  $PY -c "import socket,sys; socket.create_connection(('127.0.0.1', $SIMULATOR_PORT), 0.2)" 2>/dev/null && break
  sleep 0.1
done
$PY manage.py register_c2b_urls || echo "WARNING: could not register the paybill URLs with the simulator (see var/daraja-simulator.log)"

echo
echo "Kaunti:             $SITE_URL/"
echo "M-Pesa simulator:   $MPESA_BASE_URL  (the demo citizen's phone: $MPESA_BASE_URL/phone/254712345678/)"
echo "SMS are printed below. Stop with Ctrl+C."
echo
$PY manage.py runserver --noreload "$HOST:$PORT"
