#!/usr/bin/env bash
# The LibTorch 2.x check and the trainer's sanitizer run in one build (docs/BENCHMARKS.md,
# "LibTorch 2.x in CI"; docs/RELIABILITY.md, "Sanitizers"; scripts/test.sh runs it):
# builds the trainer with LibTorch alone (no OpenCV, no ONNX) against Debian 13
# (trixie)'s libtorch-dev 2.6 with its GCC 14 and Catch2 3, in a chroot, with
# ASan + UBSan (-O1), runs the trainer's test suite (native_tests and the
# command-line checks) there under them, and a short SimpleModel training run of
# the built (sanitized) `facekeys`. Any sanitizer report fails the run.
#
# The chroot is made with mmdebstrap from the apt archive this machine already
# uses (read from its apt sources at run time) and cached outside the repository:
#   FACEKEYS_TRIXIE_ROOT   the chroot (default /var/cache/facekeys/trixie-libtorch);
#                          made again when missing, half-made, or made for other packages
#   FACEKEYS_DEBIAN_MIRROR the archive URI, when the apt sources cannot be read
#   JOBS                   parallel compile jobs (default: all cores)
#   FACEKEYS_HOST_TOOL     a `facekeys` with `pack` (OpenCV) to pack IMM for the smoke run
#                          (default: the native preset's build/native/native/facekeys)
# --chroot-only: make (or check) the chroot and stop.
# The build folder lives inside the chroot (/build/facekeys), so a second run is
# incremental. The repository is bind-mounted read-only at /src, the datasets
# (FACEKEYS_DATA_DIR, default ../shared/data) at /data when they exist.
# Needs root (mmdebstrap, chroot, mounts), as CI runs; re-runs itself through sudo otherwise.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" -ne 0 ]; then exec sudo --preserve-env "$0" "$@"; fi

ROOT=${FACEKEYS_TRIXIE_ROOT:-/var/cache/facekeys/trixie-libtorch}
HOST_TOOL=${FACEKEYS_HOST_TOOL:-$REPO/build/native/native/facekeys}
JOBS=${JOBS:-$(nproc)}
DATA=${FACEKEYS_DATA_DIR:-$REPO/../shared/data}
SUITE=trixie

# CPU LibTorch only: trixie's libtorch-cuda-dev does not install without network
# access to NVIDIA (docs/BENCHMARKS.md, "LibTorch 2.x in CI").
PACKAGES=(libtorch-dev cmake ninja-build g++ libcli11-dev catch2 pkg-config libopenblas0-pthread)
COMPONENTS=main
# Its own folder: the Release build of earlier versions of this script was /build/facekeys.
BUILD=/build/facekeys-asan
# The one build serves both checks: LibTorch 2.6 compatibility and the trainer's tests under
# ASan + UBSan (docs/RELIABILITY.md, "Sanitizers": what runs, and the cost, about 1.2-1.3 times the
# Release build's CPU). -O1: instrumented code fast enough to test; -g1: line numbers in reports.
# Asserts stay on (no NDEBUG). -Wno-maybe-uninitialized: with the sanitizers' instrumentation GCC 14
# warns about an std::optional<at::Generator> inside LibTorch's own inline code (TensorBody.h's
# bernoulli_, from native/train/augment.cpp), which GCC 14 does not in the Release build of the same
# code. The host's Release build (GCC 12, scripts/test.sh) keeps the warning for our code.
SANITIZE_FLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -Wno-maybe-uninitialized"
# LibTorch itself is not instrumented (its allocations do go through ASan's malloc, so our reads and
# writes past a tensor's buffer are caught). Container-overflow checks are only sound when every
# library touching a container is instrumented: off (detect_container_overflow=0). Leak checking stays
# on: LibTorch 2.6 reports no leak of its own, so nothing is suppressed.
ASAN_OPTS=detect_container_overflow=0:detect_leaks=1:abort_on_error=0:strict_string_checks=1
UBSAN_OPTS=halt_on_error=1:print_stacktrace=1
# What the chroot was made with; a chroot whose stamp differs (or that has none:
# mmdebstrap was interrupted) is made again.
STAMP_TEXT="facekeys chroot 1: $SUITE $COMPONENTS ${PACKAGES[*]}"
STAMP=$ROOT/etc/facekeys-chroot.stamp

log() { echo "== libtorch2: $*"; }

archive_uri() {
  if [ -n "${FACEKEYS_DEBIAN_MIRROR:-}" ]; then echo "$FACEKEYS_DEBIAN_MIRROR"; return; fi
  local uri=""
  # deb822: the URIs of the stanza for the release itself (not -security, not -updates only).
  if [ -r /etc/apt/sources.list.d/debian.sources ]; then
    uri=$(awk 'BEGIN { RS = "" } /(^|\n)Suites:/ && !/(^|\n)Suites:[^\n]*-security/ {
                 for (i = 1; i <= NF; i++) if ($i == "URIs:") { print $(i + 1); exit } }' \
            /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$uri" ] && [ -r /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' \
            /etc/apt/sources.list)
  fi
  if [ -z "$uri" ]; then
    echo "libtorch2: no Debian archive found in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list;" \
         "set FACEKEYS_DEBIAN_MIRROR" >&2
    exit 1
  fi
  echo "$uri"
}

make_chroot() {
  command -v mmdebstrap >/dev/null || { echo "libtorch2: mmdebstrap missing (scripts/install-deps.sh)" >&2; exit 1; }
  local uri partial="$ROOT.partial"
  uri=$(archive_uri)
  log "making the $SUITE chroot in $ROOT from $uri (${PACKAGES[*]})"
  rm -rf "$partial" "$ROOT"
  mkdir -p "$(dirname "$ROOT")"
  mmdebstrap --variant=apt --components="$COMPONENTS" --include="$(IFS=,; echo "${PACKAGES[*]}")" \
    "$SUITE" "$partial" "$uri"
  echo "$STAMP_TEXT" >"$partial/etc/facekeys-chroot.stamp"
  mv "$partial" "$ROOT"
}

# One run at a time per chroot: the mounts and the build folder are shared.
mkdir -p "$(dirname "$ROOT")"
exec 9>"$ROOT.lock"
flock 9

start=$(date +%s)
if [ "$(cat "$STAMP" 2>/dev/null)" != "$STAMP_TEXT" ]; then
  make_chroot
else
  log "using the cached chroot $ROOT"
fi
made=$(date +%s)
if [ "${1:-}" = --chroot-only ]; then
  log "chroot ready in $((made - start)) s"
  exit 0
fi

MOUNTS=()
cleanup() {
  local i
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
    umount "${MOUNTS[$i]}" 2>/dev/null || umount -l "${MOUNTS[$i]}" || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM  # through the EXIT trap: never leave the mounts behind
mount_in() {  # mount_in TARGET MOUNT-ARGS...
  local target=$ROOT$1
  shift
  mkdir -p "$target"
  mount "$@" "$target"
  MOUNTS+=("$target")
}
mount_in /proc -t proc proc           # LibTorch's cpuinfo reads /proc
mount_in /src --bind "$REPO"
mount -o remount,bind,ro "$ROOT/src"
DATA_ARG=""
if [ -d "$DATA" ]; then
  mount_in /data --bind "$(cd "$DATA" && pwd)"
  mount -o remount,bind,ro "$ROOT/data"
  DATA_ARG=-DFACEKEYS_DATA_DIR=/data
fi

in_chroot() {
  chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    OMP_WAIT_POLICY=passive TMPDIR=/tmp ASAN_OPTIONS="$ASAN_OPTS" UBSAN_OPTIONS="$UBSAN_OPTS" "$@"
}

# The trainer built here has no OpenCV to decode images: IMM is packed by the host's tool, for
# native_tests' training cases on IMM (FACEKEYS_TEST_IMM_PACK: resuming bit for bit, the
# moving average, --save-every, bad input) and the smoke run. Without it both are left out.
SMOKE=/tmp/facekeys-smoke
rm -rf "$ROOT$SMOKE"
mkdir -p "$ROOT$SMOKE"
IMM_PACK=""
if [ -x "$HOST_TOOL" ] && [ -d "$DATA/imm_face_db" ] && "$HOST_TOOL" pack imm --help >/dev/null 2>&1; then
  log "packing IMM with $HOST_TOOL"
  "$HOST_TOOL" pack imm "$DATA/imm_face_db" -o "$ROOT$SMOKE/imm.pack"
  IMM_PACK=$SMOKE/imm.pack
else
  log "no host facekeys with \`pack\` at $HOST_TOOL or no IMM at $DATA (build the native preset first):" \
      "native_tests' cases on IMM and the smoke run left out"
fi
packed=$(date +%s)

log "configure and build facekeys + native_tests with ASan + UBSan in $BUILD (LibTorch $(in_chroot dpkg-query -W -f='${Version}' libtorch-dev))"
in_chroot cmake -S /src -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" \
  -DCMAKE_CXX_FLAGS="$SANITIZE_FLAGS" -DFACEKEYS_BUILD_TESTS=ON -DFACEKEYS_TEST_IMM_PACK="$IMM_PACK" $DATA_ARG
in_chroot cmake --build "$BUILD" -j "$JOBS" --target facekeys native_tests
built=$(date +%s)

log "native_tests and the command-line checks (ctest), under ASan + UBSan"
# Less one long case: "overfitting a few IMM images" trains 80 epochs once per section (2 x 80),
# 35-50 s in Release but 6 minutes here (ASan maps and faults in every large tensor afresh: a third of
# its time went to page faults). The other IMM cases run the same training loop, checkpoints and
# resumes for a few epochs; it runs in the host's Release suite.
in_chroot ctest --test-dir "$BUILD" -R '^(native_tests:|cli_)' -E '^native_tests:overfitting a few IMM images' \
  --output-on-failure -j "$JOBS"
# A sanitizer report fails its process (exit status 1), but ctest ignores the status of the tests it
# judges by their output (the cli_ checks' PASS_REGULAR_EXPRESSION): read every test's output too.
SANITIZER_REPORT='ERROR: (AddressSanitizer|LeakSanitizer)|: runtime error: '
if grep -En "$SANITIZER_REPORT" "$ROOT$BUILD/Testing/Temporary/LastTest.log"; then
  echo "libtorch2: a sanitizer report in the tests' output ($BUILD/Testing/Temporary/LastTest.log in $ROOT)" >&2
  exit 1
fi
tested=$(date +%s)

# native_tests trains SimpleModel on a synthetic pack either way.
if [ -n "$IMM_PACK" ]; then
  log "smoke run: facekeys train SimpleModel and SimpleModelDeeper on IMM, under ASan + UBSan"
  for model in SimpleModel SimpleModelDeeper; do
    in_chroot "$BUILD/native/facekeys" train --pack "$IMM_PACK" --model "$model" --epochs 3 --device cpu \
      -o "$SMOKE/$model"
  done
fi
done_at=$(date +%s)
log "passed: chroot $((made - start)) s, pack $((packed - made)) s, build $((built - packed)) s," \
    "tests $((tested - built)) s, smoke $((done_at - tested)) s"
