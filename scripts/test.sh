#!/usr/bin/env bash
# Builds everything and runs every test: the README's test command, and what CI runs.
#   native: shared core, the facekeys tool, Catch2 suites (core, data, OpenCV, LibTorch, ONNX export, predict) via ctest
#   fuzz:   the core's parsers under libFuzzer with ASan + UBSan, 25 s a target (scripts/fuzz.sh; about 5 min)
#   wasm:   the shared core's tests compiled with em++ and run under Node
#   libtorch2: the trainer (LibTorch alone) built and its tests run against Debian 13's LibTorch 2.6
#           in a cached chroot (scripts/test-libtorch2.sh; about 10 min from nothing, 1-2 min cached;
#           FACEKEYS_LIBTORCH2=0 skips it)
#   web:    the browser demo into dist/ (preset web) and its tests in headless Chromium (tests/web)
# Datasets are read from FACEKEYS_DATA_DIR (default: ../shared/data beside the repo).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
# Node packages from package-lock.json: onnxruntime-node for the ONNX Runtime parity test
# of exported models. Before configuring: ctest adds that test only when they are there.
# ONNXRUNTIME_NODE_INSTALL=skip: its postinstall would try to download GPU providers.
ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund

# LibTorch's OpenMP threads spin while they wait; on a small shared machine
# that makes training and its tests several times slower (docs/IBUG.md).
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
export NODE_PATH=/usr/share/nodejs  # Debian's emscripten needs its node modules from here
JOBS=${JOBS:-$(nproc)}
DATA_ARGS=()
if [ -n "${FACEKEYS_DATA_DIR:-}" ]; then DATA_ARGS=(-DFACEKEYS_DATA_DIR="$FACEKEYS_DATA_DIR"); fi

echo "== native build"
cmake --preset native "${DATA_ARGS[@]}"
cmake --build --preset native -j "$JOBS"
echo "== native tests"
ctest --preset native -j "$JOBS"

echo "== fuzz: each parser of untrusted bytes in the core, 25 s under libFuzzer + ASan + UBSan (scripts/fuzz.sh)"
JOBS=$JOBS scripts/fuzz.sh all "${FACEKEYS_FUZZ_SECONDS:-25}"

if [ "${FACEKEYS_LIBTORCH2:-1}" != 0 ]; then
  echo "== LibTorch 2.x: the trainer and its tests against Debian 13's libtorch-dev (chroot)"
  # After the native build: its facekeys packs IMM for the chroot's training smoke run.
  JOBS=$JOBS scripts/test-libtorch2.sh
fi

echo "== wasm build of the shared core"
cmake --preset wasm "${DATA_ARGS[@]}"
cmake --build --preset wasm -j "$JOBS"
echo "== wasm tests (Node)"
ctest --preset wasm

echo "== browser demo: dist/ (preset web) and its tests in headless Chromium (tests/web, docs/WEB.md)"
# Models shipped in dist/ come from assets/models/ (override: FACEKEYS_WEB_MODELS_DIR).
WEB_ARGS=("${DATA_ARGS[@]}")
if [ -n "${FACEKEYS_WEB_MODELS_DIR:-}" ]; then WEB_ARGS+=(-DFACEKEYS_WEB_MODELS_DIR="$FACEKEYS_WEB_MODELS_DIR"); fi
cmake --preset web "${WEB_ARGS[@]}"
cmake --build --preset web -j "$JOBS"
# Screenshots and the page's console log go to build/web-artifacts (CI artifacts).
node --test --test-reporter=spec tests/web/
