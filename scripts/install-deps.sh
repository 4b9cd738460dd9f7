#!/usr/bin/env bash
# Installs every Debian package facekeys needs (Debian 12 "bookworm").
# Idempotent: apt skips what is already there. Runs apt through sudo when not root.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

PACKAGES=(
  # build
  build-essential cmake ninja-build ccache pkg-config
  # native: LibTorch (CPU), fast BLAS for it, OpenCV, ONNX, CLI, tests
  libtorch-dev libopenblas0-pthread libopencv-dev libjpeg-dev opencv-data libonnx-dev libcli11-dev catch2
  # torch.distributed: Gloo's headers for c10d's process group, torchrun (python3-torch) for the tests
  libgloo-dev python3-torch
  # fuzzing the core's parsers: clang with libFuzzer and the sanitizer runtimes
  clang libclang-rt-14-dev
  # the LibTorch 2.x check (scripts/test-libtorch2.sh): a Debian 13 chroot with its libtorch-dev
  mmdebstrap
  # web: Emscripten (with its own clang/LLVM); Chromium for the browser tests (playwright-core drives it)
  emscripten chromium
  # (npm packages, i.e. onnxruntime-node for the export parity test, come from package-lock.json:
  #  scripts/test.sh runs `ONNXRUNTIME_NODE_INSTALL=skip npm ci`)
)

# Node and npm: Debian's packages only where none is installed (a machine may
# already carry a Node.js build that bundles npm, which Debian's npm conflicts with).
if ! command -v node >/dev/null 2>&1; then PACKAGES+=(nodejs); fi
if ! command -v npm >/dev/null 2>&1; then PACKAGES+=(npm); fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all Debian packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
# apt can meet a lock held by unattended upgrades on a fresh machine: retry.
for attempt in 1 2 3 4 5; do
  if DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"; then
    exit 0
  fi
  echo "install-deps: apt failed (attempt $attempt), retrying in 15 s" >&2
  sleep 15
done
exit 1
