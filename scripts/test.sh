#!/usr/bin/env bash
# The test command: set everything up and run the whole suite. With CI=true the suite runs
# against this machine's PostgreSQL and Redis and stops loudly if either is unreachable.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh test
if ! command -v chromium >/dev/null 2>&1; then
  # The browser tests drive Debian's Chromium (Playwright never downloads its own).
  if [ "$(id -u)" = "0" ]; then
    echo "Installing Debian's chromium for the browser tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
  else
    echo "chromium is missing and this is not root: the browser tests will be skipped" >&2
  fi
fi
# The sandbox draws Persian and Arabic image captions with DejaVu Sans (tests check the glyphs).
if [ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] && [ "$(id -u)" = "0" ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-dejavu-core >/dev/null
fi
if [ "${CI:-}" = "true" ]; then
  export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
  export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
  echo "CI: testing against DATABASE_URL=${DATABASE_URL} and REDIS_URL=${REDIS_URL}"
fi
set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  # pytest's "no tests were collected" is not a failure of the code under test.
  echo "pytest collected no tests"
  exit 0
fi
exit "$status"
