#!/usr/bin/env bash
# Builds the browser demo (dist/) and serves it on 127.0.0.1 with python3 -m http.server.
#   scripts/serve.sh [PORT]            (default 8000)
#   SKIP_BUILD=1 scripts/serve.sh      serve dist/ as it is
# Extra CMake options (e.g. -DFACEKEYS_WEB_MODELS_DIR=/path/to/models) go in WEB_CMAKE_ARGS.
# No special headers are needed: the page's service worker (web/coi-sw.js) makes it cross-origin
# isolated from the second visit on (a first visit runs ONNX Runtime on one thread). See docs/WEB.md.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${1:-8000}
if [ -z "${SKIP_BUILD:-}" ]; then
  scripts/install-deps.sh   # Debian packages (emscripten, ...), as on a fresh machine
  export NODE_PATH=/usr/share/nodejs  # Debian's emscripten needs its node modules from here
  [ -d node_modules/onnxruntime-web ] || ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
  # shellcheck disable=SC2086
  cmake --preset web ${WEB_CMAKE_ARGS:-} >/dev/null
  cmake --build --preset web -j "${JOBS:-$(nproc)}"
fi
[ -f dist/index.html ] || { echo "serve: dist/index.html missing" >&2; exit 1; }
echo "facekeys demo: http://127.0.0.1:${PORT}/  (Ctrl-C to stop)"
exec python3 -m http.server "$PORT" --bind 127.0.0.1 --directory dist
