#!/usr/bin/env bash
# Screenshots of a scaffolded server's API docs pages (Swagger UI at /docs, ReDoc at /redoc), taken by
# headless Chromium with its network limited to this machine, to see that the pages render offline.
#
#   bash scripts/docs_screenshot.sh [VERSION] [ROLE] [OUT_DIR]     (defaults: 2.2.1 cpo docs-shots)
#
# Needs: the project's .venv (bash scripts/test.sh creates it; fastapi-offline comes with its test
# extra) and Debian's chromium (apt-get install chromium). Writes OUT_DIR/swagger.png,
# OUT_DIR/redoc.png and OUT_DIR/swagger-dom.html (the DOM after the page's scripts ran), and exits
# non-zero when a page did not render its operations. When node can load playwright-core (e.g.
# `npm install --prefix /tmp/pw playwright-core` and NODE_PATH=/tmp/pw/node_modules), it also runs
# scripts/docs_tryit.mjs: Authorize with a token, "Try it out" on GET /versions, expect HTTP 200
# (OUT_DIR/tryit.png).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VERSION="${1:-2.2.1}"
ROLE="${2:-cpo}"
OUT="$(realpath -m "${3:-docs-shots}")"
PORT="${DOCS_PORT:-8765}"
CHROMIUM="${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}"
[ -n "$CHROMIUM" ] || { echo "chromium not found (apt-get install chromium)" >&2; exit 2; }
PY="$ROOT/.venv/bin/python"
[ -x "$PY" ] || { echo "no $ROOT/.venv: run bash scripts/test.sh first" >&2; exit 2; }

WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$OUT"

"$PY" -m generator server "$VERSION" --role "$ROLE" -o "$WORK/server" >/dev/null
export OCPI_BASE_URL="http://127.0.0.1:$PORT/ocpi" OCPI_DATABASE="$WORK/server.sqlite"
TOKEN="$(cd "$WORK/server" && "$PY" -m "$(basename "$(ls -d "$WORK"/server/ocpi_server_*)")" issue-token DOCS | head -1 | sed 's/.*: //')"
(cd "$WORK/server" && exec "$PY" -m uvicorn app:app \
  --host 127.0.0.1 --port "$PORT" --log-level warning) &
SERVER_PID=$!
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$PORT/openapi.json" >/dev/null && break
  sleep 0.2
done
curl -sf "http://127.0.0.1:$PORT/openapi.json" >/dev/null || { echo "server did not start" >&2; exit 1; }

# Only 127.0.0.1 resolves; any attempt to load a file from elsewhere fails instead of hiding a CDN use.
FLAGS=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
  --disable-component-update --disable-sync --hide-scrollbars --window-size=1280,1600
  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1" --virtual-time-budget=15000)
shot() {  # page, output file
  "$CHROMIUM" "${FLAGS[@]}" --user-data-dir="$WORK/profile-$2" --screenshot="$OUT/$2" \
    "http://127.0.0.1:$PORT$1" >/dev/null 2>"$WORK/chromium-$2.log"
}
shot /docs swagger.png
shot /redoc redoc.png
"$CHROMIUM" "${FLAGS[@]}" --user-data-dir="$WORK/profile-dom" --dump-dom "http://127.0.0.1:$PORT/docs" \
  >"$OUT/swagger-dom.html" 2>/dev/null

ops=$(grep -o 'class="opblock opblock-[a-z]*' "$OUT/swagger-dom.html" | wc -l)
auth=$(grep -c 'btn authorize' "$OUT/swagger-dom.html" || true)
echo "swagger: $ops operations rendered, authorize button: $auth; screenshots in $OUT"
[ "$ops" -gt 0 ] && [ "$auth" -gt 0 ]
if node -e 'require("playwright-core")' 2>/dev/null; then
  CHROMIUM="$CHROMIUM" node "$ROOT/scripts/docs_tryit.mjs" "http://127.0.0.1:$PORT" "$TOKEN" "$OUT/tryit.png"
else
  echo "try-it-out check skipped: node cannot load playwright-core (see the header of this script)"
fi
