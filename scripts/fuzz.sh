#!/usr/bin/env bash
# Fuzzes the core's parsers of untrusted bytes with libFuzzer, under ASan and UBSan
# (docs/RELIABILITY.md):  scripts/fuzz.sh [TARGET] [SECONDS]
#   TARGET   asf, pts, dlib_xml, box_csv, json, model_card, safetensors, pack, image_header, onnx_info, jpeg_scan,
#            photo_job, or all (default)
#   SECONDS  per target (default 25; CI runs all targets at that)
# Each run starts from the committed seeds (tests/fuzz/corpus/TARGET) plus what
# earlier runs here found (build/fuzz/corpus/TARGET). A crash, leak, sanitizer
# report or timeout stops with the input in build/fuzz/artifacts/ and a non-zero
# exit: turn it into a regression case in the unit tests. Prints executions per
# second and in all for each target.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${1:-all}
SECONDS_EACH=${2:-25}
TARGETS=(asf pts dlib_xml box_csv json model_card safetensors pack image_header onnx_info jpeg_scan photo_job)
if [ "$TARGET" != all ]; then
  printf '%s\n' "${TARGETS[@]}" | grep -qx "$TARGET" || { echo "fuzz: unknown target '$TARGET' (${TARGETS[*]})" >&2; exit 2; }
  TARGETS=("$TARGET")
fi
command -v clang++ >/dev/null || { echo "fuzz: clang++ missing (scripts/install-deps.sh installs clang)" >&2; exit 1; }

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "${JOBS:-$(nproc)}" >/dev/null
mkdir -p build/fuzz/artifacts
for t in "${TARGETS[@]}"; do
  work=build/fuzz/corpus/$t
  mkdir -p "$work"
  log=build/fuzz/$t.log
  # -rss_limit_mb: a parser that allocates what a header claims shows up here.
  seeds=(); [ -d "tests/fuzz/corpus/$t" ] && seeds=("tests/fuzz/corpus/$t")
  if ! build/fuzz/tests/fuzz/fuzz_$t "$work" "${seeds[@]}" -max_total_time="$SECONDS_EACH" \
       -timeout=10 -rss_limit_mb=1024 -max_len=65536 -print_final_stats=1 \
       -artifact_prefix=build/fuzz/artifacts/"$t"- >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "fuzz: $t FAILED: the input is in build/fuzz/artifacts/ (log: $log)" >&2
    exit 1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  secs=$(sed -n 's/^stat::total_time_seconds\{0,1\}: *//p' "$log" | tail -1)
  [ -n "$secs" ] || secs=$SECONDS_EACH
  printf 'fuzz: %-13s %9s executions in %ss (%s/s), corpus %s inputs: no crash\n' "$t" "$runs" "$secs" \
    "$(( runs / (secs > 0 ? secs : 1) ))" "$(ls "$work" | wc -l)"
done
