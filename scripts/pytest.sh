#!/usr/bin/env bash
# Runs the test suite. pytest exits 5 when it collected nothing: that is a failure here,
# never a silent success. Everything the seam tests need is installed by `make setup`
# before this runs, so here a test that finds a weights file or program missing fails
# instead of skipping (STRICT_TESTS: tests/conftest.py, `require`).
set -uo pipefail
cd "$(dirname "$0")/.."
export STRICT_TESTS=1
.venv/bin/python -m pytest "$@"
code=$?
if [ "$code" -eq 5 ]; then
  echo "pytest ran no test: failing on purpose" >&2
  exit 1
fi
exit "$code"
