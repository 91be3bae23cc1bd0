#!/usr/bin/env bash
# The run command: set everything up and serve the console with uvicorn on 127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
py=.venv/bin/python
$py manage.py migrate --noinput
$py manage.py import_providers
$py manage.py ensure_superuser
if [ "${DJANGO_SETTINGS_MODULE:-}" = "standalone.settings.production" ]; then
  $py manage.py collectstatic --noinput --verbosity 0
fi
echo "aiadmin is starting on http://${HOST:-127.0.0.1}:${PORT:-8000}/admin/"
# On SIGTERM, requests get 5 s to finish; then the streams still running are ended and their
# usage rows written (aiadmin/handler.py). UVICORN_ARGS come last, so they can change it.
exec .venv/bin/uvicorn standalone.asgi:application --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}" \
  --timeout-graceful-shutdown 5 ${UVICORN_ARGS:-}
