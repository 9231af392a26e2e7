#!/usr/bin/env bash
# Production must serve: with DEBUG off and production's environment, collect the static files
# (the manifest every page needs), start gunicorn with gunicorn.conf.py on a free loopback port,
# and check that the public, citizen, staff and API pages answer 200 behind HTTPS, that plain
# HTTP is redirected to HTTPS, and that errors show the site's own pages, never Django's debug
# pages. Uses a throwaway SQLite database and static folder; any failure exits non-zero.
# Usage (from anywhere): scripts/check-production.sh
set -euo pipefail
cd "$(dirname "$0")/.."

tmp=$(mktemp -d)
pidfile="$tmp/gunicorn.pid"
log="$tmp/gunicorn.log"

# shellcheck source=scripts/lib/process-groups.sh
source scripts/lib/process-groups.sh
stop_gunicorn() { stop_group "$pidfile"; }
cleanup() {
  stop_gunicorn
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
  echo "FAILED: $*" >&2
  if [ -s "$log" ]; then
    echo "--- last lines of gunicorn's log" >&2
    tail -30 "$log" >&2
  fi
  exit 1
}

py=.venv/bin/python
secret() { "$py" -c 'import secrets; print(secrets.token_urlsafe(40))'; }
port=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"

# Production's environment; nothing from a developer's DEBUG=1 shell leaks in.
unset KAUNTI_TESTING CELERY_BROKER_URL
export DEBUG=0
export SECRET_KEY="$(secret)"
export ALLOWED_HOSTS=127.0.0.1,localhost
export MPESA_CALLBACK_TOKEN="$(secret)"
export AFRICASTALKING_CALLBACK_TOKEN="$(secret)"
export SITE_URL="https://127.0.0.1:$port"
export STATIC_ROOT="$tmp/static"
export DATABASE_URL="sqlite:///$tmp/kaunti.sqlite3"
export MEDIA_ROOT="$tmp/media"
export SMS_FILE_PATH="$tmp/sms.jsonl"
export GUNICORN_WORKERS=2 GUNICORN_BIND="127.0.0.1:$port"

[ -f kaunti/static/build/.built ] || fail "the static assets are not built: run 'make assets' first"

echo "== collectstatic (DEBUG off: the manifest storage)"
"$py" manage.py collectstatic --noinput -v0 >"$tmp/collectstatic.log" 2>&1 || {
  tail -15 "$tmp/collectstatic.log" >&2
  fail "collectstatic under production settings"
}
[ -s "$STATIC_ROOT/staticfiles.json" ] || fail "collectstatic wrote no manifest (staticfiles.json)"

echo "== migrate a throwaway database"
"$py" manage.py migrate --noinput -v0 >"$tmp/migrate.log" 2>&1 || {
  tail -15 "$tmp/migrate.log" >&2
  fail "migrate under production settings"
}

echo "== gunicorn on $base"
setsid -f bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" \
  .venv/bin/gunicorn -c gunicorn.conf.py kaunti.wsgi >"$log" 2>&1
up=
for _ in $(seq 1 150); do
  if curl -fsS -o /dev/null --max-time 2 "$base/healthz" 2>/dev/null; then up=1; break; fi
  sleep 0.2
done
[ -n "$up" ] || fail "gunicorn never answered /healthz on $base"

bad=()
# expect STATUS PATH [curl options...]: the answer's status must be STATUS.
expect() {
  local want=$1 path=$2 got
  shift 2
  got=$(curl -s -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' --max-time 20 "$@" "$base$path") || got="no answer"
  if [ "$got" != "$want" ]; then
    bad+=("$path: $got, expected $want")
    return 1
  fi
}
https=(-H "X-Forwarded-Proto: https")

echo "== pages behind HTTPS answer 200"
for path in / /services/ /account/sign-in/ /staff/sign-in/ /verify/ /api/schema/ /api/v1/services/ /api/v1/wards/; do
  expect 200 "$path" "${https[@]}" || true
done

echo "== the home page's static files are served from the manifest"
expect 200 / "${https[@]}" || true
grep -qi '^strict-transport-security: max-age=[1-9]' "$tmp/headers" || bad+=("/: no HSTS header")
assets=$(grep -oE '/static/[^"?]+' "$tmp/body" | sort -u || true)
[ -n "$assets" ] || bad+=("/: names no static file")
for asset in $assets; do
  # Hashed names (kaunti.3f2a….css) prove the manifest is used.
  [[ "$asset" =~ \.[0-9a-f]{12}\.[a-z]+$ ]] || bad+=("$asset: not a hashed (manifest) name")
  if expect 200 "$asset" "${https[@]}"; then
    [ -s "$tmp/body" ] || bad+=("$asset: empty")
  fi
done

echo "== plain HTTP is redirected to HTTPS"
for path in / /staff/sign-in/ /api/v1/services/; do
  if expect 301 "$path"; then
    location=$(tr -d '\r' <"$tmp/headers" | sed -n 's/^[Ll]ocation: //p')
    [ "$location" = "https://127.0.0.1:$port$path" ] || bad+=("$path: redirected to '$location'")
  fi
done
expect 200 /healthz || true # the load balancer's probe stays on plain HTTP

echo "== errors show the site's own pages"
expect 404 /no-such-page/ "${https[@]}" || true
if grep -qE "URLconf|Technical|Traceback|DEBUG = True" "$tmp/body"; then
  bad+=("/no-such-page/: Django's debug page")
fi
grep -q "Page not found" "$tmp/body" || bad+=("/no-such-page/: not the site's 404 page")

stop_gunicorn
if grep -q "Traceback" "$log"; then
  bad+=("gunicorn's log has a traceback")
fi
if [ "${#bad[@]}" -gt 0 ]; then
  printf '  %s\n' "${bad[@]}" >&2
  fail "production settings did not serve as expected"
fi
echo "OK: production settings collect static files, serve every page over HTTPS and redirect HTTP"
