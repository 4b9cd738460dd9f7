#!/usr/bin/env bash
# Builds everything and runs every test: the README's test command, and what CI runs.
#   native: shared core, the facekeys tool, Catch2 suites (core, data, OpenCV, LibTorch, ONNX export, predict) via ctest
#   sanitizers (docs/RELIABILITY.md, "Sanitizers"), in two places:
#           core, data and predict suites again under ASan + UBSan (preset native-debug, Debian 12's GCC 12);
#           the trainer's suite (native_tests: models, training, augmentation, checkpoints, losses, heatmaps)
#           and `facekeys` itself under ASan + UBSan in the libtorch2 step below (its one build serves both)
#   fuzz:   the core's parsers under libFuzzer with ASan + UBSan, 15 s a target (scripts/fuzz.sh; about 3 min)
#   wasm:   the shared core's tests compiled with em++ and run under Node
#   libtorch2: the trainer (LibTorch alone) built with ASan + UBSan (-O1) and its tests run against
#           Debian 13's LibTorch 2.6 in a cached chroot (scripts/test-libtorch2.sh; about 16 min from
#           nothing at JOBS=1, 3-4 min with the build folder cached; FACEKEYS_LIBTORCH2=0 skips it,
#           and with it the trainer's sanitizer run)
#   web:    the browser demo into dist/ (preset web) and its tests in headless Chromium (tests/web)
#   gpu:    that the tree a GPU session sends still fits the device tool (scripts/gpu_run.sh --check)
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

if git rev-parse --git-dir >/dev/null 2>&1; then
  echo "== the GPU run's tree: repository + packs under the device tool's limit (docs/IBUG.md, \"The GPU run\")"
  scripts/gpu_run.sh --check
fi

echo "== native build"
cmake --preset native "${DATA_ARGS[@]}"
cmake --build --preset native -j "$JOBS"
echo "== native tests"
ctest --preset native -j "$JOBS"

echo "== native tests under ASan + UBSan: core, data, predict (preset native-debug, docs/RELIABILITY.md)"
# Only the suites without LibTorch code: a second LibTorch build does not fit CI's budget, so the
# trainer's suite runs sanitized in the libtorch2 step, whose build is sanitized instead.
# predict_tests' CLI cases run the Release `facekeys` built above; its in-process cases
# (OpenCV DNN models, image and JPEG checks) and everything of the core run sanitized.
cmake --preset native-debug "${DATA_ARGS[@]}" -DFACEKEYS_PREDICT_TOOL="$PWD/build/native/native/facekeys" >/dev/null
cmake --build build/native-debug --target core_tests data_tests predict_tests -j "$JOBS"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
for t in core_tests data_tests predict_tests; do
  echo "-- $t (ASan + UBSan)"
  filter=(); [ "$t" = predict_tests ] && filter=('~[accuracy]')  # [accuracy]: the Release binary's runs only, done above
  (cd build/native-debug/tests && "./$t" "${filter[@]}")
done
unset ASAN_OPTIONS UBSAN_OPTIONS

echo "== fuzz: each parser of untrusted bytes in the core, 15 s under libFuzzer + ASan + UBSan (scripts/fuzz.sh)"
JOBS=$JOBS scripts/fuzz.sh all "${FACEKEYS_FUZZ_SECONDS:-15}"

if [ "${FACEKEYS_LIBTORCH2:-1}" != 0 ]; then
  echo "== LibTorch 2.x: the trainer and its tests against Debian 13's libtorch-dev (chroot), under ASan + UBSan"
  # After the native build: its facekeys packs IMM for the chroot's training cases and smoke run.
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
