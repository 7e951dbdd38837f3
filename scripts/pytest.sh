#!/usr/bin/env bash
# Runs the test suite. pytest exits 5 when it collected nothing: that is a failure here,
# never a silent success.
set -uo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python -m pytest "$@"
code=$?
if [ "$code" -eq 5 ]; then
  echo "pytest ran no test: failing on purpose" >&2
  exit 1
fi
exit "$code"
