#!/usr/bin/env bash
# The README's test command (and CI's, through .ci/run): set up .venv if needed, then every check
# cheapest first: ruff (F, I), black (the hand-written Python), mypy --strict (generator/, runtime/),
# every spec validates, generated/
# equals a fresh generation, and the test suite (extra arguments go to pytest).
source "$(dirname "$0")/_venv.sh"
set -x
ruff check --no-cache
black --check --quiet generator runtime tests bench scripts
mypy
ocpi-codegen validate >/dev/null
ocpi-codegen check -q
python -m pytest tests -p no:cacheprovider "$@"
