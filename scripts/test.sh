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
# The HTTP API's Node.js test streams a chat with the official openai npm package, at the
# version tests/api/node/package-lock.json pins; reinstalled only when that file changes.
if ! command -v npm >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  echo "Installing Debian's nodejs and npm for the Node.js SDK test"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
if command -v npm >/dev/null 2>&1; then
  node_dir=tests/api/node
  lock_sum="$(sha256sum "$node_dir/package-lock.json" | cut -d' ' -f1)"
  if [ "$(cat "$node_dir/node_modules/.aiadmin-lock-sha256" 2>/dev/null)" != "$lock_sum" ]; then
    if npm ci --prefix "$node_dir" --no-audit --no-fund --loglevel=error >/dev/null; then
      echo "$lock_sum" >"$node_dir/node_modules/.aiadmin-lock-sha256"
    elif [ "${CI:-}" = "true" ]; then
      echo "npm ci --prefix $node_dir failed" >&2
      exit 1
    else
      echo "npm ci --prefix $node_dir failed: the Node.js SDK test will be skipped" >&2
    fi
  fi
else
  echo "npm is missing and this is not root: the Node.js SDK test will be skipped (with CI=true it fails)" >&2
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
