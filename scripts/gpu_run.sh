#!/usr/bin/env bash
# The GPU session's one device run: what needs CUDA, in one command.
#
#   scripts/gpu_run.sh --prepare        # here (OpenCV machine): pack and compress the datasets into work-data/gpu/
#   # on the GPU machine (device tool: carry work-data/gpu, the repo travels as it is):
#   OUT=$OUT scripts/gpu_run.sh          # build the trainer (LibTorch alone), bench, train, copy results to $OUT
#
# On the GPU machine it builds `facekeys` against the pip LibTorch (python3 -c 'import torch ...'),
# benchmarks the CUDA throughput ratios of the issues (Baseline_7x7 batch 16 fp32; ResNet18;
# HeatmapUNet), trains ResNet18 at 224x224 and the heatmap U-Net on the LFPW pack, and leaves in $OUT
# the bench output, the logs, and the best checkpoints with their metrics as a tar split into parts
# of at most 15 MiB (the device tool returns 8 files of at most 16 MiB):
#   cat $OUT/results.tar.part-* | tar -x     # here: results/gpu/{ResNet18,HeatmapUNet}/...
# Then ship here with scripts/ship_model.sh (eval, report, export --weights int8; docs/IBUG.md).
# Knobs: DEVICE (auto), EPOCHS_R18 (300), EPOCHS_UNET (150), BENCH_STEPS (100), FK (skip the build).
set -euo pipefail
cd "$(dirname "$0")/.."
GPU_DATA=work-data/gpu

if [ "${1:-}" = "--prepare" ]; then
  DATA_DIR=${FACEKEYS_DATA_DIR:-$(cd .. && pwd)/shared/data}
  FK=${FK:-build/native/native/facekeys}
  [ -x "$FK" ] || { echo "gpu_run: build the native tool first (cmake --preset native && cmake --build --preset native)" >&2; exit 1; }
  mkdir -p "$GPU_DATA"
  D="$DATA_DIR/300w"
  "$FK" pack ibug --train "$D/lfpw/trainset" --test "$D/lfpw/testset" --boxes "$D/boxes_lfpw.csv" -o "$GPU_DATA/lfpw.pack"
  "$FK" pack imm "$DATA_DIR/imm_face_db" -o "$GPU_DATA/imm.pack"
  # xz: the packs (62 MB) and the repo must fit the 64 MiB the device tool carries
  xz -3 -T2 -f "$GPU_DATA/lfpw.pack" "$GPU_DATA/imm.pack"
  ls -l "$GPU_DATA"
  exit 0
fi

OUT=${OUT:-results/gpu}
DEVICE=${DEVICE:-auto}
EPOCHS_R18=${EPOCHS_R18:-300}
EPOCHS_UNET=${EPOCHS_UNET:-150}
BENCH_STEPS=${BENCH_STEPS:-100}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT"
exec > >(tee "$OUT/gpu_run.log") 2>&1
nvidia-smi -L 2>/dev/null || true

for p in lfpw imm; do
  [ -f "$GPU_DATA/$p.pack.xz" ] || { echo "gpu_run: $GPU_DATA/$p.pack.xz missing: run scripts/gpu_run.sh --prepare here and carry $GPU_DATA" >&2; exit 1; }
  xz -d -c "$GPU_DATA/$p.pack.xz" > "$WORK/$p.pack"
done

if [ -z "${FK:-}" ]; then
  prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>/dev/null || true)
  cmake -S . -B build/gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DFACEKEYS_BUILD_TESTS=OFF ${prefix:+-DCMAKE_PREFIX_PATH="$prefix"}
  cmake --build build/gpu --target facekeys
  FK=build/gpu/native/facekeys
fi

echo "== bench (the issues' CUDA ratios)"
"$FK" bench --model Baseline_7x7 --pack "$WORK/imm.pack" --batch 16 --steps "$BENCH_STEPS" --device "$DEVICE" | tee "$OUT/bench.txt"
"$FK" bench --model ResNet18 --pack "$WORK/lfpw.pack" --batch 64 --steps "$BENCH_STEPS" --device "$DEVICE" | tee -a "$OUT/bench.txt"
"$FK" bench --model HeatmapUNet --pack "$WORK/lfpw.pack" --batch 64 --steps "$BENCH_STEPS" --device "$DEVICE" | tee -a "$OUT/bench.txt"

echo "== train"
R="$WORK/results/gpu"
mkdir -p "$R"
"$FK" train --pack "$WORK/lfpw.pack" --model ResNet18 --epochs "$EPOCHS_R18" --batch 64 --schedule cosine --warmup 5 \
  --loss l1 --ema 0.998 --weight-decay 1e-4 --scale 0.1 --rotate 20 --device "$DEVICE" --quiet -o "$R/ResNet18"
"$FK" train --pack "$WORK/lfpw.pack" --model HeatmapUNet --epochs "$EPOCHS_UNET" --batch 32 --schedule cosine --warmup 5 \
  --sigma 1.5 --scale 0.1 --rotate 20 --device "$DEVICE" --quiet -o "$R/HeatmapUNet"
for m in ResNet18 HeatmapUNet; do
  "$FK" eval "$R/$m/best.safetensors" --pack "$WORK/lfpw.pack" --split test > "$R/$m/eval_test.json"
  "$FK" eval "$R/$m/best.safetensors" --pack "$WORK/lfpw.pack" --split test --flip-test > "$R/$m/eval_test_flip.json"
  rm -f "$R/$m/last.safetensors"  # optimizer state: 3x the weights, not needed here
  cat "$R/$m/eval_test.json" "$R/$m/eval_test_flip.json"; echo
done
(cd "$WORK" && tar -c results) | split -b 15M - "$OUT/results.tar.part-"
ls -l "$OUT"
