#!/usr/bin/env bash
# `manage.py check --deploy` under production settings must report nothing at all.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(env -u DEBUG DEBUG=0 \
  SECRET_KEY="$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
  ALLOWED_HOSTS=kaunti.example.go.ke MPESA_CALLBACK_TOKEN="$(.venv/bin/python -c "import secrets; print(secrets.token_urlsafe(24))")" \
  AFRICASTALKING_CALLBACK_TOKEN="$(.venv/bin/python -c "import secrets; print(secrets.token_urlsafe(24))")" \
  .venv/bin/python manage.py check --deploy --fail-level DEBUG 2>&1) || { echo "$out"; exit 1; }
echo "$out"
if [ "$out" != "System check identified no issues (0 silenced)." ]; then
  echo "check --deploy printed more than 'no issues'"; exit 1
fi
