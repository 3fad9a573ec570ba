#!/usr/bin/env bash
# The test suite: set up .venv if needed, then run pytest (extra arguments go to pytest).
source "$(dirname "$0")/_venv.sh"
python -m pytest tests "$@"
