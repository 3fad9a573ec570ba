#!/usr/bin/env bash
# Run `ocpi-codegen conformance` against a CPO built on another Python OCPI library from PyPI
# (extrawest-ocpi, imported as py_ocpi), installed in its own venv: a server we did not write.
# Usage: bash scripts/conformance_vs_py_ocpi.sh [PORT]   (prints the report; exit status of the runner)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
port=${1:-8931}
peer_venv=$(bash scripts/py_ocpi_venv.sh)
(cd tests/peers && OCPI_HOST="127.0.0.1:$port" PROTOCOL=http exec "$peer_venv/bin/uvicorn" py_ocpi_cpo:app \
    --port "$port" --log-level warning) &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/ocpi/versions" && break; sleep 0.2; done
ocpi-codegen conformance "http://127.0.0.1:$port/ocpi/versions" --token peer-token-c --version 2.2.1 --role cpo -q
