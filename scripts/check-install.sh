#!/usr/bin/env bash
# The production install works: docs/operations/install.md's steps on this machine, then
# THE SAME systemd units (deploy/systemd/*.service: their ExecStart, WorkingDirectory,
# Environment and EnvironmentFile, read by scripts/run_unit.py) and nginx with THE SAME
# site (deploy/nginx/kaunti.conf), with the install's paths and ports swapped for this
# checkout's and a temporary folder's (the list below). Then, end to end through nginx
# over HTTPS: the home page with HSTS, a static file served by nginx with its cache
# headers, HTTP redirected to HTTPS, an M-Pesa paybill confirmation answered and then
# recorded as a payment by the worker, a job queued by beat and run by the worker, and
# the maintenance page while the web service is down. Everything started is stopped on
# exit. Needs PostgreSQL and Redis running (CI has them); installs nginx if missing.
# Usage: scripts/check-install.sh   (KAUNTI_INSTALL_DB, KAUNTI_INSTALL_REDIS_DB,
# KAUNTI_INSTALL_HTTPS_PORT and KAUNTI_INSTALL_HTTP_PORT override the defaults below.)
set -euo pipefail
cd "$(dirname "$0")/.."
checkout=$PWD

db=${KAUNTI_INSTALL_DB:-kaunti_install_ci}
redis_db=${KAUNTI_INSTALL_REDIS_DB:-13}
https_port=${KAUNTI_INSTALL_HTTPS_PORT:-8243}
http_port=${KAUNTI_INSTALL_HTTP_PORT:-8280}
host=kaunti.example.go.ke
pg=(-h 127.0.0.1 -p 5432 -U postgres)

tmp=$(mktemp -d)
chmod 755 "$tmp"
mkdir -p "$tmp"/{etc,run,lib,var,tls,www,nginx,logs,pids}

# Install paths -> here. Longer first: /opt/kaunti/var is not the checkout's var/.
paths=(
  "/opt/kaunti/var=$tmp/var"
  "/opt/kaunti=$checkout"
  "/etc/kaunti=$tmp/etc"
  "/run/kaunti=$tmp/run"
  "/var/lib/kaunti=$tmp/lib"
)
substitute() { # stdin -> stdout, every install path replaced
  local args=() pair
  for pair in "${paths[@]}"; do args+=(-e "s#${pair%%=*}#${pair#*=}#g"); done
  sed "${args[@]}"
}

# shellcheck source=scripts/lib/process-groups.sh
source scripts/lib/process-groups.sh
cleanup() {
  if [ -s "$tmp/nginx/nginx.pid" ]; then
    kill -QUIT "$(cat "$tmp/nginx/nginx.pid")" 2>/dev/null || true
  fi
  for pidfile in "$tmp"/pids/*.pid; do stop_group "$pidfile"; done
  for port in 8263 8264; do
    [ ! -s "$tmp/redis-$port/pid" ] || redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
  echo "FAILED: $*" >&2
  for log in "$tmp"/logs/nginx-error.log "$tmp"/logs/manage.log "$tmp"/logs/kaunti-*.log; do
    [ -s "$log" ] || continue
    echo "--- last lines of $(basename "$log")" >&2
    tail -12 "$log" >&2
  done
  exit 1
}

[ -f kaunti/static/build/.built ] || fail "the static assets are not built: run 'make assets' first"
if ! command -v nginx >/dev/null; then
  echo "== installing nginx (Debian's package)"
  # Without systemd the package's start script would try to start the default site on
  # port 80: policy-rc.d tells it not to, for the time of the install.
  policy=/usr/sbin/policy-rc.d
  [ -e "$policy" ] || { printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made_policy=1; }
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
  [ -z "${made_policy:-}" ] || rm -f "$policy"
fi

echo "== the environment file, rendered for this machine ($tmp/etc/kaunti.env)"
secret() { .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(40))'; }
callback_token=$(secret)
overrides=(
  "SECRET_KEY=$(secret)"
  "ALLOWED_HOSTS=$host"
  "SITE_URL=https://$host"
  "DATABASE_URL=postgres://postgres@127.0.0.1:5432/$db"
  "REDIS_URL=redis://127.0.0.1:6379/$redis_db"
  "CELERY_BROKER_URL=redis://127.0.0.1:6379/$redis_db"
  "GUNICORN_WORKERS=2"
  "SMS_BACKEND=file"
  "SMS_FILE_PATH=$tmp/var/sms.jsonl"
  "AFRICASTALKING_CALLBACK_TOKEN=$(secret)"
  "MPESA_BASE_URL=http://127.0.0.1:9"
  "MPESA_SHORTCODE=174379"
  "MPESA_CALLBACK_BASE_URL=https://$host"
  "MPESA_CALLBACK_TOKEN=$callback_token"
  # curl's address as nginx sees it: a payment accepted proves nginx passed it on.
  "MPESA_ALLOWED_IPS=127.0.0.1"
  "EMAIL_BACKEND=console"
)
substitute <deploy/kaunti.env.example >"$tmp/etc/kaunti.env"
for pair in "${overrides[@]}"; do
  key=${pair%%=*}
  grep -q "^$key=" "$tmp/etc/kaunti.env" || echo "$key=" >>"$tmp/etc/kaunti.env"
  KEY=$key VALUE=${pair#*=} .venv/bin/python - "$tmp/etc/kaunti.env" <<'PY'
import os, re, sys
path = sys.argv[1]
text = open(path, encoding="utf-8").read()
line = f"{os.environ['KEY']}={os.environ['VALUE']}"
open(path, "w", encoding="utf-8").write(re.sub(rf"(?m)^{os.environ['KEY']}=.*$", lambda _: line, text))
PY
done
# Left as CHANGE-ME: only the credentials of outside services, which CI never calls.
if grep -n "^[A-Z_]*=.*CHANGE-ME" "$tmp/etc/kaunti.env" | grep -vE "^[0-9]+:(AFRICASTALKING_USERNAME|AFRICASTALKING_API_KEY|MPESA_CONSUMER_KEY|MPESA_CONSUMER_SECRET|MPESA_PASSKEY|EMAIL_HOST|EMAIL_HOST_USER|EMAIL_HOST_PASSWORD)="; then
  fail "a CHANGE-ME left in the rendered environment file (above)"
fi

echo "== deploy/systemd/*.service: systemd-analyze verify (every key known, every path there)"
if command -v systemd-analyze >/dev/null; then
  mkdir -p "$tmp/units"
  for unit in deploy/systemd/*.service; do substitute <"$unit" >"$tmp/units/$(basename "$unit")"; done
  verified=$(systemd-analyze verify "$tmp"/units/*.service 2>&1) || true
  [ -z "$verified" ] || { echo "$verified" >&2; fail "systemd-analyze verify has something to say"; }
else
  echo "   (skipped: no systemd-analyze here)"
fi

echo "== deploy/postgresql/kaunti.conf: read by PostgreSQL (a throwaway cluster's -C)"
if [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1; then
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  mkdir "$tmp/pgdata" && chown postgres "$tmp/pgdata"
  runuser -u postgres -- "$pg_bin/initdb" -D "$tmp/pgdata" -A trust >"$tmp/logs/initdb.log" 2>&1 ||
    fail "initdb of a throwaway cluster"
  install -o postgres -m 0644 deploy/postgresql/kaunti.conf "$tmp/pgdata/conf.d-kaunti.conf"
  echo "include 'conf.d-kaunti.conf'" >>"$tmp/pgdata/postgresql.conf"
  for setting in shared_buffers max_connections idle_in_transaction_session_timeout log_lock_waits; do
    runuser -u postgres -- "$pg_bin/postgres" -D "$tmp/pgdata" -C "$setting" >>"$tmp/logs/initdb.log" 2>&1 ||
      fail "PostgreSQL refuses deploy/postgresql/kaunti.conf ($setting)"
  done
  # -C shows it in 8 kB pages: 1GB is 131072.
  [ "$(runuser -u postgres -- "$pg_bin/postgres" -D "$tmp/pgdata" -C shared_buffers)" = 131072 ] ||
    fail "shared_buffers is not kaunti.conf's 1GB: the file was not read"
else
  echo "   (skipped: needs root and the postgres user)"
fi

echo "== deploy/redis/*.conf: each started by redis-server on a spare port, its policy read back"
# redis_policy CONF PORT [redis-server options...]: start, print maxmemory-policy and appendonly.
redis_policy() {
  local conf=$1 port=$2
  shift 2
  mkdir -p "$tmp/redis-$port"
  redis-server "$conf" --port "$port" --dir "$tmp/redis-$port" --pidfile "$tmp/redis-$port/pid" \
    --logfile "$tmp/logs/redis-$port.log" --daemonize yes --supervised no "$@" || return 1
  for _ in $(seq 1 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  redis-cli -p "$port" config get maxmemory-policy | tail -1
  redis-cli -p "$port" config get appendonly | tail -1
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
}
# The broker's file is a fragment Debian's redis.conf includes: included the same way here.
printf 'include %s\n' "$checkout/deploy/redis/kaunti.conf" >"$tmp/redis-broker.conf"
[ "$(redis_policy "$tmp/redis-broker.conf" 8263 | tr '\n' ' ')" = "noeviction yes " ] ||
  fail "deploy/redis/kaunti.conf: the broker must not evict and must keep an append-only file"
[ "$(redis_policy deploy/redis/kaunti-cache.conf 8264 | tr '\n' ' ')" = "allkeys-lru no " ] ||
  fail "deploy/redis/kaunti-cache.conf: the cache must evict the least recently used"

echo "== a fresh database ($db) and Redis database $redis_db"
dropdb "${pg[@]}" --if-exists "$db"
createdb "${pg[@]}" "$db"
redis-cli -h 127.0.0.1 -n "$redis_db" flushdb >/dev/null

echo "== install.md's steps: migrate, reference data, the first administrator, collectstatic"
manage() {
  KAUNTI_HOME=$checkout KAUNTI_ENV=$tmp/etc/kaunti.env KAUNTI_USER= deploy/bin/kaunti-manage "$@" \
    >>"$tmp/logs/manage.log" 2>&1 || fail "kaunti-manage $*"
}
manage migrate --noinput
manage load_reference_data
manage load_chart_of_accounts
manage load_price_list
manage load_catalogue
KAUNTI_ADMIN_PASSWORD="Ci-$(secret)" manage create_administrator ict.admin --full-name "CI Administrator"
manage collectstatic --noinput
[ -s "$tmp/var/static/staticfiles.json" ] || fail "collectstatic wrote no manifest in STATIC_ROOT"

echo "== the systemd units, as their unit files say"
subst_args=()
for pair in "${paths[@]}"; do subst_args+=(--path "$pair"); done
for unit in deploy/systemd/kaunti-*.service; do
  name=$(basename "$unit" .service)
  setsid -f bash -c 'echo $$ >"$0"; exec "$@"' "$tmp/pids/$name.pid" \
    .venv/bin/python scripts/run_unit.py "$unit" "${subst_args[@]}" >"$tmp/logs/$name.log" 2>&1
done
beat_started=$(date +%s)

echo "== nginx with deploy/nginx/kaunti.conf (HTTPS on $https_port, HTTP on $http_port)"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$host" \
  -addext "subjectAltName=DNS:$host" -keyout "$tmp/tls/privkey.pem" -out "$tmp/tls/fullchain.pem" \
  >/dev/null 2>&1 || fail "openssl could not make a certificate"
substitute <deploy/nginx/kaunti.conf | sed \
  -e "s#/etc/letsencrypt/live/$host#$tmp/tls#g" \
  -e "s#/var/www/html#$tmp/www#g" \
  -e "s#/var/log/nginx/kaunti-#$tmp/logs/nginx-#g" \
  -e "s#^\( *listen\) 443 #\1 $https_port #" \
  -e "s#^\( *listen\) 80;#\1 $http_port;#" \
  -e '/listen \[::\]/d' >"$tmp/nginx/kaunti.conf"
grep -q "listen $https_port ssl" "$tmp/nginx/kaunti.conf" || fail "no HTTPS listen line to move to $https_port"
# nginx.conf's part (Debian's /etc/nginx/nginx.conf in production), its files here.
cat >"$tmp/nginx/nginx.conf" <<CONF
user $(id -un);
worker_processes 1;
pid $tmp/nginx/nginx.pid;
error_log $tmp/logs/nginx-error.log warn;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    access_log $tmp/logs/nginx-access.log;
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    include $tmp/nginx/kaunti.conf;
}
CONF
nginx -t -q -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" 2>>"$tmp/logs/nginx-error.log" || fail "nginx -t"
nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" 2>>"$tmp/logs/nginx-error.log" || fail "nginx did not start"

https="https://$host:$https_port"
curl_https=(-s --max-time 20 --cacert "$tmp/tls/fullchain.pem" --resolve "$host:$https_port:127.0.0.1")
up=
for _ in $(seq 1 150); do
  if curl "${curl_https[@]}" -f -o /dev/null "$https/healthz"; then up=1; break; fi
  sleep 0.2
done
[ -n "$up" ] || fail "no answer from $https/healthz through nginx (30 s)"

bad=()
# get STATUS URL [curl options...]: the answer's status must be STATUS (body, headers kept).
get() {
  local want=$1 url=$2 got
  shift 2
  got=$(curl "${curl_https[@]}" -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' "$@" "$url") || got="no answer"
  if [ "$got" != "$want" ]; then
    bad+=("$url: $got, expected $want")
    return 1
  fi
}
header() { tr -d '\r' <"$tmp/headers" | sed -n "s/^$1: //Ip" | tail -1; }

echo "== the home page over HTTPS, with HSTS"
if get 200 "$https/"; then
  [[ "$(header Strict-Transport-Security)" == max-age=[1-9]* ]] || bad+=("/: no HSTS header")
  asset=$(grep -oE '/static/[^"?]+\.[0-9a-f]{12}\.css' "$tmp/body" | head -1 || true)
  # nginx's request id reaches Kaunti: the same id in nginx's JSON line and Kaunti's.
  request_id=$(header X-Request-ID)
  grep -q "\"request_id\":\"$request_id\"" "$tmp/logs/nginx-access.log" ||
    bad+=("/: request id '$request_id' not in nginx's JSON access log")
  grep -q "\"request_id\":\"$request_id\"" "$tmp/logs/kaunti-web.log" ||
    bad+=("/: request id '$request_id' not in Kaunti's log")
fi

echo "== a static file, from nginx (not the application), cached for a year"
if [ -z "${asset:-}" ]; then
  bad+=("/: names no hashed stylesheet")
elif get 200 "$https$asset" --compressed; then
  [ "$(header Cache-Control)" = "public, max-age=31536000, immutable" ] ||
    bad+=("$asset: Cache-Control '$(header Cache-Control)', not nginx's year")
  [[ "$(header Strict-Transport-Security)" == max-age=[1-9]* ]] || bad+=("$asset: no HSTS header")
  ! grep -q "$asset" "$tmp/logs/kaunti-web.log" || bad+=("$asset: served by gunicorn, not nginx")
fi

echo "== plain HTTP is redirected to HTTPS"
for path in / /staff/sign-in/; do
  if get 301 "http://$host:$http_port$path" --resolve "$host:$http_port:127.0.0.1"; then
    [ "$(header Location)" = "https://$host$path" ] || bad+=("http $path: redirected to '$(header Location)'")
  fi
done

echo "== an M-Pesa paybill confirmation: answered, then recorded by the worker"
trans_id="CI$(.venv/bin/python -c 'import secrets, string; print("".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(8)))')"
body=$(printf '{"TransactionType":"Pay Bill","TransID":"%s","TransTime":"20261122063845","TransAmount":"150.00","BusinessShortCode":"174379","BillRefNumber":"CI-NO-SUCH-BILL","InvoiceNumber":"","OrgAccountBalance":"","ThirdPartyTransID":"","MSISDN":"2547 ***** 126","FirstName":"John","MiddleName":"","LastName":"Doe"}' "$trans_id")
if get 200 "$https/payments/paybill/confirmation/$callback_token/" -H "Content-Type: application/json" --data-binary "$body"; then
  .venv/bin/python -c 'import json, sys; assert str(json.load(open(sys.argv[1]))["ResultCode"]) == "0"' "$tmp/body" ||
    bad+=("confirmation answered $(cat "$tmp/body"), not ResultCode 0")
  recorded=
  for _ in $(seq 1 60); do
    count=$(psql "${pg[@]}" -d "$db" -tAc "SELECT count(*) FROM payments_payment WHERE mpesa_receipt = '$trans_id'")
    if [ "$count" = 1 ]; then recorded=1; break; fi
    sleep 1
  done
  [ -n "$recorded" ] || bad+=("confirmation $trans_id never recorded as a payment (the worker's log above)")
fi

echo "== a callback with a wrong token: 404"
get 404 "$https/payments/paybill/confirmation/not-the-token/" -H "Content-Type: application/json" --data-binary "$body" || true

echo "== bodies past the limits: 413 from nginx (uploads over 21 MB, callbacks over 64 kB)"
head -c $((22 * 1024 * 1024)) /dev/zero >"$tmp/too-big"
get 413 "$https/staff/sign-in/" --data-binary @"$tmp/too-big" || true
head -c $((100 * 1024)) /dev/zero >"$tmp/too-big"
get 413 "$https/payments/paybill/confirmation/$callback_token/" --data-binary @"$tmp/too-big" || true
rm -f "$tmp/too-big"

# A job beat queued that the worker ran: kept in one function, so the check can change
# (e.g. to a table of scheduled runs) without touching the rest.
scheduled_job_ran() {
  # A run of a beat entry, recorded by the worker that ran it (ScheduledJobRun, ADR 18).
  local done
  done=$(psql "${pg[@]}" -d "$db" -tAc \
    "SELECT count(*) FROM core_scheduledjobrun WHERE NOT by_hand AND outcome = 'success' AND entry_name = 'record-stored-paybill-confirmations'")
  [ "${done:-0}" -gt 0 ]
}
echo "== a scheduled job: sent by beat, run by the worker"
ran=
while [ $(($(date +%s) - beat_started)) -lt 90 ]; do
  if scheduled_job_ran; then ran=1; break; fi
  sleep 2
done
[ -n "$ran" ] || bad+=("no scheduled job sent by beat and run by the worker within 90 s")

echo "== the maintenance page while the web service is down"
stop_group "$tmp/pids/kaunti-web.pid"
if get 502 "$https/services/"; then
  grep -q "Tutarudi hivi punde" "$tmp/body" || bad+=("502 without the bilingual maintenance page")
fi

for log in "$tmp"/logs/kaunti-*.log; do
  if grep -q "Traceback" "$log"; then bad+=("$(basename "$log") has a traceback"); fi
done
if [ "${#bad[@]}" -gt 0 ]; then
  printf '  %s\n' "${bad[@]}" >&2
  fail "the production install did not serve as expected"
fi
echo "OK (${SECONDS}s): the install's units and nginx serve Kaunti over HTTPS, record a callback's payment, run beat's jobs"
