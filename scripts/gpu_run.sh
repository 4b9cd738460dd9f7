#!/usr/bin/env bash
# The GPU session's one device run: what needs CUDA, in one command.
#
#   scripts/gpu_run.sh --prepare        # here (OpenCV machine): packs, CLI11's headers and a size check, in work-data/gpu/
#   scripts/gpu_run.sh --check          # the size check alone (scripts/test.sh): the packs' size estimated when not made
#   # on the GPU machine (device tool: carry ["work-data/gpu"], timeout_s 540; the repo travels as it is):
#   OUT=$OUT scripts/gpu_run.sh          # build the trainer (LibTorch alone), bench, train, results to $OUT
#
# There it builds `facekeys` against the pip LibTorch (python3 -c 'import torch ...'), prints the CUDA
# throughput ratios of the issues into bench.txt (Baseline_7x7 batch 16 fp32 on IMM; ResNet18 and
# HeatmapUNet batch 64 on LFPW), then trains ResNet18 at 224x224 and the heatmap U-Net on the LFPW
# training crops, each under `timeout` so the run ends inside BUDGET_S whatever happens. Each model's
# best checkpoint, metrics and val scores go to $OUT as soon as it is done (also when a step fails or
# the time runs out), as a tar split into parts of at most 15 MiB (the device tool returns 8 files of
# at most 16 MiB, 64 MiB in all):
#   cat files_at/ResNet18.tar.part-* | tar -x     # here: results/gpu/ResNet18/...
# Then score on test and ship here with scripts/ship_model.sh (eval, report, export --weights int8).
# The carried packs hold no test split: the tree that travels must stay under 64 MiB.
# Knobs: DEVICE (cuda), BUDGET_S (500), EPOCHS_R18 (300), EPOCHS_UNET (150), BENCH_STEPS (100),
# BENCH_WARMUP (10), BENCH (1; 0 skips the benchmarks), SAVE_EVERY (50), FK (a built facekeys: skip the build; with DEVICE=cpu the whole
# flow runs on a CPU, e.g. FK=build/native/native/facekeys DEVICE=cpu EPOCHS_R18=1 EPOCHS_UNET=1
# BENCH_STEPS=1 BENCH_WARMUP=1).
set -euo pipefail
cd "$(dirname "$0")/.."
GPU_DATA=work-data/gpu
LIMIT_MIB=63  # the device tool's 64 MiB, less a margin for files written before the run

tree_bytes() {  # what the device tool sends: tracked and untracked-not-ignored files, and the carried folder
  { git ls-files -z --cached --others --exclude-standard | xargs -0 stat -c %s 2>/dev/null
    if [ -d "$GPU_DATA" ]; then find "$GPU_DATA" -type f -exec stat -c %s {} +; fi; } | awk '{s += $1} END {print s + 0}'
}

# Whether the tree that travels fits the device tool's limit; without packs, counts PACKS_MIB for them
# (what --prepare made on 2026-12-06: 22 MiB). A repository that grew past it would have its GPU run refused.
PACKS_MIB=22
check_size() {
  local bytes extra=0
  bytes=$(tree_bytes)
  [ -f "$GPU_DATA/lfpw.pack.xz" ] || extra=$((PACKS_MIB * 1048576))
  echo "gpu_run: the tree that travels: $(((bytes + extra) / 1048576)) MiB$([ "$extra" = 0 ] || echo " with the packs estimated") (limit $LIMIT_MIB MiB)"
  [ $((bytes + extra)) -le $((LIMIT_MIB * 1048576)) ] ||
    { echo "gpu_run: over $LIMIT_MIB MiB: the device tool would refuse the run; ship fewer files or smaller packs" >&2; return 1; }
}
if [ "${1:-}" = "--check" ]; then
  check_size
  exit
fi

if [ "${1:-}" = "--prepare" ]; then
  DATA_DIR=${FACEKEYS_DATA_DIR:-$(cd .. && pwd)/shared/data}
  FK=${FK:-build/native/native/facekeys}
  [ -x "$FK" ] || { echo "gpu_run: build the native tool first (cmake --preset native && cmake --build --preset native)" >&2; exit 1; }
  rm -rf "$GPU_DATA"
  mkdir -p "$GPU_DATA/include"
  D="$DATA_DIR/300w"
  # Training crops only (val is every 10th of them): the test split is scored here, after the run.
  "$FK" pack ibug --train "$D/lfpw/trainset" --boxes "$D/boxes_lfpw.csv" --size 224 -o "$GPU_DATA/lfpw.pack"
  "$FK" pack imm "$DATA_DIR/imm_face_db" --width 240 --height 180 -o "$GPU_DATA/imm.pack"
  # xz with a delta filter of one row (the packs hold 8-bit rows of 224 and 240 pixels, above): each
  # pixel stored as its difference from the one above, 23% smaller than plain xz -9 for LFPW
  # (18.2 MB against 23.7), which keeps the tree that travels under the limit (2026-12-06: 36 MiB
  # of tracked files). The GPU machine decodes it with xz or Python's lzma, filters and all.
  xz -T2 -f --delta=dist=224 --lzma2=preset=9e "$GPU_DATA/lfpw.pack"
  xz -T2 -f --delta=dist=240 --lzma2=preset=9e "$GPU_DATA/imm.pack"
  # CLI11 is header-only and the GPU machine has no package for it (nor apt, nor network).
  cli11=$(dirname "$(find /usr/include /usr/local/include -path '*/CLI/CLI.hpp' -print -quit 2>/dev/null)")
  [ -f "$cli11/CLI.hpp" ] || { echo "gpu_run: CLI11's headers not found (install libcli11-dev)" >&2; exit 1; }
  cp -r "$cli11" "$GPU_DATA/include/CLI"
  ls -l "$GPU_DATA"
  check_size
  exit
fi

OUT=${OUT:-results/gpu}
DEVICE=${DEVICE:-cuda}
BUDGET_S=${BUDGET_S:-500}
EPOCHS_R18=${EPOCHS_R18:-300}
EPOCHS_UNET=${EPOCHS_UNET:-150}
BENCH_STEPS=${BENCH_STEPS:-100}
BENCH_WARMUP=${BENCH_WARMUP:-10}
BENCH=${BENCH:-1}
SAVE_EVERY=${SAVE_EVERY:-50}
START=$SECONDS
WORK=$(mktemp -d)
R="$WORK/results/gpu"
mkdir -p "$OUT" "$R"
exec > >(tee "$OUT/gpu_run.log") 2>&1

# A model's folder into $OUT, once: its best checkpoint, metrics, config and scores
# (last/ema.safetensors hold the optimiser state and a copy of best: not needed here).
declare -A PACKED=()
pack_results() {
  local m=$1
  [ -d "$R/$m" ] && [ -z "${PACKED[$m]:-}" ] || return 0
  PACKED[$m]=1
  (cd "$WORK" && tar -c --exclude='last.safetensors' --exclude='ema.safetensors' --exclude='*.tmp-*' "results/gpu/$m") |
    split -b 15M - "$OUT/$m.tar.part-"
}
finish() {
  local rc=$?
  for m in ResNet18 HeatmapUNet; do pack_results "$m" || true; done
  ls -l "$OUT"
  echo "gpu_run: exit $rc after $((SECONDS - START)) s"
  rm -rf "$WORK"
}
trap finish EXIT
trap 'exit 143' TERM  # killed at the device tool's limit: still pack what is there
left() { echo $((BUDGET_S - (SECONDS - START))); }

nvidia-smi -L 2>/dev/null || true
unxz_to() {  # xz may be missing there; Python's lzma is not
  if command -v xz >/dev/null; then xz -d -c "$1" > "$2"
  else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"; fi
}
for p in lfpw imm; do
  [ -f "$GPU_DATA/$p.pack.xz" ] || { echo "gpu_run: $GPU_DATA/$p.pack.xz missing: run scripts/gpu_run.sh --prepare here and carry $GPU_DATA" >&2; exit 1; }
  unxz_to "$GPU_DATA/$p.pack.xz" "$WORK/$p.pack"
done

if [ -z "${FK:-}" ]; then
  echo "== build ($(left) s left)"
  [ -d /usr/local/cuda/bin ] && export PATH=/usr/local/cuda/bin:$PATH
  command -v nvcc >/dev/null && nvcc --version | tail -1
  prefix=${TORCH_PREFIX:-$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>/dev/null || true)}
  echo "LibTorch: ${prefix:-not from python3, CMake searches its default places}"
  gen=(); command -v ninja >/dev/null && gen=(-G Ninja)
  cmake -S . -B build/gpu "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DFACEKEYS_BUILD_TESTS=OFF \
    -DCLI11_INCLUDE_DIR="$PWD/$GPU_DATA/include" ${prefix:+-DCMAKE_PREFIX_PATH="$prefix"}
  grep -q '^Torch_DIR:PATH=.*NOTFOUND' build/gpu/CMakeCache.txt &&
    { echo "gpu_run: CMake did not find LibTorch (see above)" >&2; exit 1; }
  cmake --build build/gpu --target facekeys -j "$(nproc)"
  FK=build/gpu/native/facekeys
  if ldd "$FK" | grep 'not found'; then echo "gpu_run: $FK misses libraries (above)" >&2; exit 1; fi
fi

if [ "$BENCH" != 0 ]; then
  echo "== bench: the issues' CUDA ratios ($(left) s left)"
  "$FK" bench --model Baseline_7x7 --pack "$WORK/imm.pack" --batch 16 --steps "$BENCH_STEPS" --warmup "$BENCH_WARMUP" --device "$DEVICE" | tee "$OUT/bench.txt"
  "$FK" bench --model ResNet18 --pack "$WORK/lfpw.pack" --batch 64 --steps "$BENCH_STEPS" --warmup "$BENCH_WARMUP" --device "$DEVICE" | tee -a "$OUT/bench.txt"
  "$FK" bench --model HeatmapUNet --pack "$WORK/lfpw.pack" --batch 64 --steps "$BENCH_STEPS" --warmup "$BENCH_WARMUP" --device "$DEVICE" | tee -a "$OUT/bench.txt"
  # The distributed trainer on the GPU: a process group of one rank with the backend
  # named (NCCL where this LibTorch has it, else Gloo), docs/DISTRIBUTED.md. A failure
  # is reported, not fatal: the training below matters more.
  backend=gloo; [ "$DEVICE" = cuda ] && backend=nccl
  echo "== bench in a process group of one rank ($backend)"
  RANK=0 LOCAL_RANK=0 WORLD_SIZE=1 MASTER_ADDR=127.0.0.1 MASTER_PORT=29577 timeout 120 \
    "$FK" bench --model Baseline_7x7 --pack "$WORK/imm.pack" --batch 16 --steps "$BENCH_STEPS" --warmup "$BENCH_WARMUP" \
    --device "$DEVICE" --dist-backend "$backend" 2>&1 | tee -a "$OUT/bench.txt" || echo "gpu_run: the $backend smoke test failed"
fi

# Trains under `timeout`, leaving 30 s for the scores and the tar; a run cut short
# keeps the best checkpoint it wrote (written atomically whenever val improves).
train_model() {
  local m=$1; shift
  local t=$(($(left) - 30))
  [ "$t" -gt 20 ] || { echo "gpu_run: no time left to train $m"; return 0; }
  echo "== train $m (at most $t s)"
  timeout --signal=TERM "$t" "$FK" train --pack "$WORK/lfpw.pack" --model "$m" --device "$DEVICE" \
    --save-every "$SAVE_EVERY" -o "$R/$m" "$@" || echo "gpu_run: $m training ended early (status $?)"
  if [ -f "$R/$m/best.safetensors" ]; then
    "$FK" eval "$R/$m/best.safetensors" --pack "$WORK/lfpw.pack" --split val > "$R/$m/eval_val.json"
    "$FK" eval "$R/$m/best.safetensors" --pack "$WORK/lfpw.pack" --split val --flip-test > "$R/$m/eval_val_flip.json"
    cat "$R/$m/eval_val.json" "$R/$m/eval_val_flip.json"
  fi
  pack_results "$m"
}
train_model ResNet18 --epochs "$EPOCHS_R18" --batch 64 --schedule cosine --warmup 5 \
  --loss l1 --ema 0.998 --weight-decay 1e-4 --scale 0.1 --rotate 20
train_model HeatmapUNet --epochs "$EPOCHS_UNET" --batch 32 --schedule cosine --warmup 5 \
  --sigma 1.5 --scale 0.1 --rotate 20
