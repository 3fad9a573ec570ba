#!/usr/bin/env bash
# Make (or reuse) .venv-peer-py-ocpi: extrawest-ocpi (PyPI, imported as py_ocpi) and uvicorn in a venv
# of their own (it pins pydantic 1 and an old FastAPI). Used by scripts/conformance_vs_py_ocpi.sh and
# bench/server.py (the peer row). Prints the venv's path.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
peer_venv=.venv-peer-py-ocpi
if [ ! -x "$peer_venv/bin/uvicorn" ]; then
    python3 -m venv "$peer_venv"
    "$peer_venv/bin/pip" install --quiet "extrawest-ocpi==${PY_OCPI_VERSION:-2025.7.16}" uvicorn >&2
fi
echo "$PWD/$peer_venv"
