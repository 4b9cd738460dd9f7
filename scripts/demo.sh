#!/usr/bin/env bash
# The training demo: install, build, pack the IMM face database, train the seed's
# best Part 2 model (Baseline_7x7), score it and draw the report.
#   EPOCHS=120 scripts/demo.sh      # the shipped model's run (GPU: minutes; 2-core CPU: about 20 minutes)
# Data comes from FACEKEYS_DATA_DIR (default: ../shared/data beside the repo).
set -euo pipefail
cd "$(dirname "$0")/.."

# LibTorch's OpenMP threads spin while they wait; on a small shared machine
# that makes training and its tests several times slower (docs/IBUG.md).
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
DATA_DIR=${FACEKEYS_DATA_DIR:-$(cd .. && pwd)/shared/data}
EPOCHS=${EPOCHS:-15}
OUT=${OUT:-results/demo}
if [ ! -d "$DATA_DIR/imm_face_db" ]; then
  echo "demo: no IMM data at $DATA_DIR/imm_face_db. See README.md, 'Getting the data'," >&2
  echo "      then run: FACEKEYS_DATA_DIR=/path/to/data scripts/demo.sh" >&2
  exit 1
fi

scripts/install-deps.sh
cmake --preset native -DFACEKEYS_DATA_DIR="$DATA_DIR"
cmake --build --preset native -j "$(nproc)" --target facekeys
FK=build/native/native/facekeys

mkdir -p "$OUT"
$FK pack imm "$DATA_DIR/imm_face_db" -o "$OUT/imm.pack"
$FK train --pack "$OUT/imm.pack" --model Baseline_7x7 --epochs "$EPOCHS" --batch 4 --schedule cosine --warmup 3 --seed 1 -o "$OUT/Baseline_7x7"
$FK eval "$OUT/Baseline_7x7/best.safetensors" --pack "$OUT/imm.pack" --split val \
  --predictions "$OUT/Baseline_7x7/predictions_val.json" | tee "$OUT/Baseline_7x7/eval_val.json"
$FK report "$OUT/Baseline_7x7" --pack "$OUT/imm.pack" --predictions "$OUT/Baseline_7x7/predictions_val.json" \
  --checkpoint "$OUT/Baseline_7x7/best.safetensors"
echo
echo "demo: done. Open $OUT/Baseline_7x7/report.md (loss curve, overlays, filters)."
