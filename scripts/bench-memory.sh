#!/usr/bin/env bash
# Memory under load (docs/RELIABILITY.md), not a test: prints resident memory at intervals.
#   scripts/bench-memory.sh [native|web|all] [PHOTOS]
#   native: `facekeys predict` (the default model, detector included) over PHOTOS paths (default 2000:
#           LFPW's and IMM's photos repeated) in one call; RSS from /proc every 2 s.
#   web:    the page predicting 200 photos in a row (node tests/web/bench_memory.mjs): JS heap and
#           wasm memory every 20 photos. Needs dist/ (cmake --build --preset web).
# Datasets from FACEKEYS_DATA_DIR (default ../shared/data); the tool from FACEKEYS_BIN
# (default build/native/native/facekeys).
set -euo pipefail
cd "$(dirname "$0")/.."
WHAT=${1:-all}
N=${2:-2000}
DATA=${FACEKEYS_DATA_DIR:-../shared/data}
FK=${FACEKEYS_BIN:-build/native/native/facekeys}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}

if [ "$WHAT" = native ] || [ "$WHAT" = all ]; then
  [ -x "$FK" ] || { echo "bench-memory: $FK missing (cmake --build --preset native)" >&2; exit 1; }
  list=$(mktemp)
  trap 'rm -f "$list"' EXIT
  find "$DATA/300w/lfpw/testset" "$DATA/300w/lfpw/trainset" "$DATA/imm_face_db" -maxdepth 1 \
    \( -name '*.png' -o -name '*.jpg' \) | sort > "$list.one"
  [ -s "$list.one" ] || { echo "bench-memory: no photos under $DATA" >&2; exit 1; }
  while [ "$(wc -l < "$list")" -lt "$N" ]; do cat "$list.one" >> "$list"; done
  head -n "$N" "$list" > "$list.n" && mv "$list.n" "$list" && rm -f "$list.one"
  echo "native: facekeys predict over $N photos ($(sort -u "$list" | wc -l) distinct) in one call"
  mapfile -t photos < "$list"
  start=$(date +%s.%N)
  "$FK" predict "${photos[@]}" > /dev/null 2> /tmp/facekeys-bench-memory.err &
  pid=$!
  printf '%8s %10s %10s\n' seconds rss_mib hwm_mib
  while kill -0 "$pid" 2>/dev/null; do
    if rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null) && [ -n "$rss" ]; then
      hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
      printf '%8.1f %10.1f %10.1f\n' "$(echo "$(date +%s.%N) - $start" | bc)" "$(echo "$rss/1024" | bc -l)" "$(echo "$hwm/1024" | bc -l)"
    fi
    sleep 2
  done
  wait "$pid" && rc=0 || rc=$?
  echo "native: exit status $rc after $(echo "$(date +%s.%N) - $start" | bc | cut -c1-6) s"
fi

if [ "$WHAT" = web ] || [ "$WHAT" = all ]; then
  node tests/web/bench_memory.mjs 200
fi
