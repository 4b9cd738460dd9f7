#!/usr/bin/env bash
# Score, report, export and ship one trained 68-point run (docs/IBUG.md, docs/RESULTS.md "300-W").
#
#   scripts/ship_model.sh RUN_DIR NAME [--flip-test]
#   e.g. scripts/ship_model.sh work-data/runs/UNetSmall ibug68-unet --flip-test
#
# RUN_DIR is a `facekeys train` folder (best.safetensors picked by val loss). The script
#  1. evaluates best.safetensors on the val and test splits of the pack (LibTorch; --flip-test as given),
#     the test run also with per-image predictions, the Kaggle CSV and (heatmap models) heatmaps; then `facekeys report`;
#  2. exports float32 and int8 ONNX (same --flip-test) and scores both exports on test with OpenCV DNN;
#  3. ships the int8 export as assets/models/NAME with the int8 test metrics in its card;
#  4. copies the figures and JSON into docs/results/ibug/<run folder name>/.
# Knobs: PACK (work-data/lfpw.pack), FK (build/native/native/facekeys). The test split is only
# reported: nothing here chooses by it.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { sed -n 2,14p "$0" >&2; exit 2; }
RUN=$1 NAME=$2 FLIP=${3:-}
[ -z "$FLIP" ] || [ "$FLIP" = --flip-test ] || { echo "ship_model: third argument must be --flip-test" >&2; exit 2; }
PACK=${PACK:-work-data/lfpw.pack}
FK=${FK:-build/native/native/facekeys}
DOCS=docs/results/ibug/$(basename "$RUN")
EXPORTS=work-data/export/$NAME
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
[ -f "$RUN/best.safetensors" ] || { echo "ship_model: $RUN/best.safetensors not found" >&2; exit 1; }

heatmap_args=()
if grep -q '"model": "Heatmap' "$RUN/config.json"; then  # the heatmap models' names
  heatmap_args=(--heatmaps "$RUN/heatmaps_test.safetensors")
fi
"$FK" eval "$RUN/best.safetensors" --pack "$PACK" --split val $FLIP > "$RUN/eval_val.json"
"$FK" eval "$RUN/best.safetensors" --pack "$PACK" --split test $FLIP --predictions "$RUN/pred_test.json" \
  --kaggle-csv "$RUN/test.csv" "${heatmap_args[@]}" > "$RUN/eval_test.json"
"$FK" report "$RUN" --pack "$PACK" --predictions "$RUN/pred_test.json" --checkpoint "$RUN/best.safetensors" \
  "${heatmap_args[@]}" > /dev/null

mkdir -p "$DOCS"
for w in float32 int8; do
  rm -rf "$EXPORTS-$w"
  "$FK" export "$RUN/best.safetensors" -o "$EXPORTS-$w" --weights $w --name "$NAME" $FLIP > /dev/null
  "$FK" eval "$EXPORTS-$w" --pack "$PACK" --split test | sed "s#$EXPORTS-$w#$w export#" > "$DOCS/eval_test_${w}_onnx.json"
done
sed -i "s#\"int8 export\"#\"assets/models/$NAME\"#" "$DOCS/eval_test_int8_onnx.json"
rm -rf "assets/models/$NAME"
"$FK" export "$RUN/best.safetensors" -o "assets/models/$NAME" --weights int8 --name "$NAME" $FLIP \
  --metrics "$DOCS/eval_test_int8_onnx.json"

cp "$RUN"/{config.json,eval_test.json,eval_val.json,metrics.jsonl,loss.png,ced.png} "$DOCS/"
cp "$RUN"/pred_{best,median,worst}_0.png "$DOCS/"
if [ ${#heatmap_args[@]} -gt 0 ]; then cp "$RUN"/heatmap_{best,median,worst}.png "$DOCS/"; fi
cat "$RUN/eval_val.json" "$RUN/eval_test.json" "$DOCS"/eval_test_*_onnx.json
