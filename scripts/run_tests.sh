#!/usr/bin/env bash
# Runs the whole suite (lint, types, unit, Rasa tests, end-to-end). pytest's exit code 5
# ("no tests collected") counts as a failure here: an empty run is not a pass.
set -uo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check ivr tests || exit 1
.venv/bin/mypy || exit 1
# A skipped test fails here: every part the suite needs is set up by `make test`.
IVR_REQUIRE_ALL=1 .venv/bin/pytest -q -p no:cacheprovider "$@"
code=$?
if [ "$code" -eq 5 ]; then
  echo "pytest collected no tests" >&2
  exit 1
fi
exit "$code"
