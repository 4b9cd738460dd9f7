#!/usr/bin/env bash
# The LibTorch 2.x check (docs/BENCHMARKS.md, "LibTorch 2.x in CI"; scripts/test.sh runs it):
# builds the trainer with LibTorch alone (no OpenCV, no ONNX) against Debian 13
# (trixie)'s libtorch-dev 2.6 with its GCC 14 and Catch2 3, in a chroot, runs the
# trainer's test suite (native_tests and the command-line checks) there, and a
# short SimpleModel training run of the built `facekeys`.
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
BUILD=/build/facekeys
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
    OMP_WAIT_POLICY=passive TMPDIR=/tmp "$@"
}

log "configure and build facekeys + native_tests in $BUILD (LibTorch $(in_chroot dpkg-query -W -f='${Version}' libtorch-dev))"
in_chroot cmake -S /src -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DFACEKEYS_BUILD_TESTS=ON $DATA_ARG
in_chroot cmake --build "$BUILD" -j "$JOBS" --target facekeys native_tests
built=$(date +%s)

log "native_tests and the command-line checks (ctest)"
in_chroot ctest --test-dir "$BUILD" -R '^(native_tests:|cli_)' --output-on-failure -j "$JOBS"
tested=$(date +%s)

# The trainer built here has no OpenCV to decode images: the pack comes from the
# host's tool. native_tests trains SimpleModel on a synthetic pack either way.
SMOKE=/tmp/facekeys-smoke
rm -rf "$ROOT$SMOKE"
mkdir -p "$ROOT$SMOKE"
if [ -x "$HOST_TOOL" ] && [ -d "$DATA/imm_face_db" ] && "$HOST_TOOL" pack imm --help >/dev/null 2>&1; then
  log "smoke run: facekeys train SimpleModel and SimpleModelDeeper on IMM (packed by $HOST_TOOL)"
  "$HOST_TOOL" pack imm "$DATA/imm_face_db" -o "$ROOT$SMOKE/imm.pack"
  for model in SimpleModel SimpleModelDeeper; do
    in_chroot "$BUILD/native/facekeys" train --pack "$SMOKE/imm.pack" --model "$model" --epochs 3 --device cpu \
      -o "$SMOKE/$model"
  done
else
  log "smoke run skipped: no host facekeys with \`pack\` at $HOST_TOOL or no IMM at $DATA (build the native preset first)"
fi
done_at=$(date +%s)
log "passed: chroot $((made - start)) s, build $((built - made)) s, tests $((tested - built)) s, smoke $((done_at - tested)) s"
