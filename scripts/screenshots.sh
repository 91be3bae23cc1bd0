#!/usr/bin/env bash
# Retake the console's screenshots and refresh the README's three in docs/screenshots/.
#
# Runs the every-page crawl (tests/e2e/test_every_page.py), which saves each console page as
# the superuser and as a staff admin at 1440x900 and 390x844 into
# test-artifacts/screenshots/<viewport>/<user>-<page>.png, then copies three of them.
# The checkout is the one this script lives in. For "before" shots of an older checkout, copy
# this script and tests/e2e/test_every_page.py into it and run it there (it needs nothing else
# new), e.g. with PYTHON=/path/to/a/venv/bin/python and a throwaway destination argument.
#
# Usage: scripts/screenshots.sh [directory for the three, default docs/screenshots]
# PYTHON: the interpreter (default: .venv/bin/python, set up by scripts/bootstrap.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
dest=${1:-docs/screenshots}
if [ -n "${PYTHON:-}" ]; then
  python=$PYTHON
else
  scripts/bootstrap.sh test
  python=.venv/bin/python
fi
shots=test-artifacts/screenshots
rm -rf "$shots"  # no stale page from an earlier run
set +e
# PYTHONPATH: this checkout's code, even if the interpreter's editable install is another's.
PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}" AIADMIN_SCREENSHOTS=1 \
  "$python" -m pytest -q -p no:cacheprovider tests/e2e/test_every_page.py -k opens_without
status=$?
set -e
if [ "$status" -ne 0 ]; then
  echo "The crawl reported problems (above); the screenshots were taken all the same." >&2
fi

# The README's three, at 1440x900 as the superuser: the provider cards, the chat playground and
# the model browser opened from a card (the keys page if no card offered a browse control).
mkdir -p "$dest"
copied=0
copy() {  # copy <name in docs> <candidate>...
  local name=$1 candidate
  shift
  for candidate in "$@"; do
    if [ -f "$shots/1440x900/$candidate.png" ]; then
      cp "$shots/1440x900/$candidate.png" "$dest/$name.png"
      echo "$dest/$name.png <- $candidate"
      copied=$((copied + 1))
      return
    fi
  done
  echo "no screenshot for $name (looked for: $*)" >&2
}
copy cards admin-cards
copy chat-playground admin-chat
copy model-browser admin-cards-browse-fake-chat admin-keys-fake
echo "All screenshots: $root/$shots"
[ "$copied" -eq 3 ]
