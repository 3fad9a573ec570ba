#!/usr/bin/env bash
# The main job: set up .venv if needed, then write every output of every version to generated/.
source "$(dirname "$0")/_venv.sh"
ocpi-codegen generate "$@"
