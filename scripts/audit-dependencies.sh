#!/usr/bin/env bash
# Known vulnerabilities in the locked dependencies: pip-audit over requirements.lock and
# requirements-dev.lock, npm audit over package-lock.json (what we serve, not the build's sass).
# Fails on a known vulnerability that a newer version fixes; prints, but does not fail on, one
# with no fix yet, and a warning when the advisory source cannot be reached (CI must not
# depend on it being up). pip-audit is installed in a throwaway virtualenv, never in .venv.
# Usage (from anywhere): scripts/audit-dependencies.sh
set -euo pipefail
cd "$(dirname "$0")/.."

PIP_AUDIT_VERSION=2.10.1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
findings=scripts/audit_findings.py
failed=0

# Network failures that mean "no answer", not "a problem in our dependencies".
unreachable='ConnectionError|ConnectTimeout|ReadTimeout|Timeout|NameResolution|Max retries|Temporary failure|Connection refused|ServiceError|HTTPError|SSLError'

# judge KIND REPORT: print the report's findings; 0 clean, 1 fixable, 2 failed, 3 no answer.
judge() {
  local out rc=0
  out=$(python3 "$findings" "$1" "$2") || rc=$?
  printf '%s\n' "$out" | sed 's/^/  /'
  return "$rc"
}

echo "== pip-audit (requirements.lock, requirements-dev.lock)"
pip_answered=
if ! python3 -m venv "$tmp/venv" >"$tmp/venv.log" 2>&1 \
  || ! "$tmp/venv/bin/pip" install -q --disable-pip-version-check "pip-audit==$PIP_AUDIT_VERSION" \
    >>"$tmp/venv.log" 2>&1; then
  tail -5 "$tmp/venv.log"
  echo "WARNING: pip-audit could not be installed: the Python dependencies were not audited"
else
  # The PyPI JSON API first (pip-audit's default); OSV when PyPI gave no answer.
  for service in pypi osv; do
    rc=0
    "$tmp/venv/bin/pip-audit" --disable-pip -r requirements.lock -r requirements-dev.lock \
      --vulnerability-service "$service" --timeout 20 --progress-spinner off \
      --format json --output "$tmp/pip-$service.json" >"$tmp/pip-$service.log" 2>&1 || rc=$?
    if [ ! -s "$tmp/pip-$service.json" ]; then
      if grep -qE "$unreachable" "$tmp/pip-$service.log"; then
        echo "  $service: unreachable ($(grep -oE "$unreachable[^)]*" "$tmp/pip-$service.log" | head -1))"
        continue
      fi
      tail -20 "$tmp/pip-$service.log"
      echo "FAILED: pip-audit ($service) stopped with exit code $rc and no report"
      failed=1
      pip_answered=1
      break
    fi
    echo "  advisories from $service:"
    verdict=0
    judge pip "$tmp/pip-$service.json" || verdict=$?
    case $verdict in
      0) pip_answered=1; break ;;
      1) pip_answered=1; failed=1; break ;;
      3) continue ;;
      *) pip_answered=1; failed=1; break ;;
    esac
  done
  [ -n "$pip_answered" ] || echo "WARNING: no advisory source answered: the Python dependencies were not audited"
fi

echo "== npm audit --omit=dev (package-lock.json)"
rc=0
npm audit --omit=dev --json >"$tmp/npm.json" 2>"$tmp/npm.log" || rc=$?
verdict=0
judge npm "$tmp/npm.json" || verdict=$?
case $verdict in
  0) ;;
  1) failed=1 ;;
  3) echo "WARNING: the npm advisory source gave no answer: the npm packages were not audited" ;;
  *) tail -5 "$tmp/npm.log"; echo "FAILED: npm audit stopped with exit code $rc"; failed=1 ;;
esac

if [ "$failed" -ne 0 ]; then
  echo "FAILED: a locked dependency has a known vulnerability with a fix (or the audit failed): see above"
  exit 1
fi
echo "OK: no known vulnerability with a fix available among the locked dependencies (or no advisory source answered)"
