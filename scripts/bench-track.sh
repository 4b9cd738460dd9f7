#!/usr/bin/env bash
# `facekeys track` speed (docs/VIDEO.md), not a test: frames per second at 640x480, one face, the
# default model, tracking on, with the per-stage split (decode / detect / preprocess / infer).
#   scripts/bench-track.sh [VIDEO]
# Without VIDEO, the test video of tests/video (make_test_video: an LFPW face moving, leaving and
# coming back) is made in a temporary folder and its first 195 frames are used (still, pan, zoom,
# rotation: the face always in the frame; FRAMES=N for another count). Runs `facekeys track VIDEO --bench` with
# the detector every 10 frames (the default), every frame, and tracking with smoothing off, and prints
# each run's JSON summary. Datasets from FACEKEYS_DATA_DIR (default ../shared/data); the tools from
# FACEKEYS_BIN (default build/native/native/facekeys) and MAKE_TEST_VIDEO
# (default build/native/tests/make_test_video). EXTRA="--model DIR" passes more options.
set -euo pipefail
cd "$(dirname "$0")/.."
FK=${FACEKEYS_BIN:-build/native/native/facekeys}
MAKE=${MAKE_TEST_VIDEO:-build/native/tests/make_test_video}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
[ -x "$FK" ] || { echo "bench-track: $FK missing (cmake --build --preset native)" >&2; exit 1; }
VIDEO=${1:-}
FRAMES_OPT=()
if [ -z "$VIDEO" ]; then
  FRAMES_OPT=(--frames "${FRAMES:-195}")
  [ -x "$MAKE" ] || { echo "bench-track: $MAKE missing (cmake --build --preset native --target make_test_video)" >&2; exit 1; }
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  VIDEO=$tmp/face.y4m
  "$MAKE" "$VIDEO" "$tmp/face_truth.jsonl" > /dev/null
fi
[ -n "${1:-}" ] && [ -n "${FRAMES:-}" ] && FRAMES_OPT=(--frames "$FRAMES")
echo "bench-track: $(date -u +%Y-%m-%d), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), load $(cut -d' ' -f1-3 /proc/loadavg)"
for opts in "" "--detect-every 1" "--no-smoothing"; do
  echo "facekeys track $(basename "$VIDEO") --bench ${opts:-(defaults: detector every 10 frames, smoothing on)}"
  # shellcheck disable=SC2086
  "$FK" track "$VIDEO" --bench -q "${FRAMES_OPT[@]}" $opts ${EXTRA:-}
done
