// The training loop: pack -> device tensors -> augmented batches -> model.
#pragma once

#include <string>

#include "adam.hpp"
#include "augment.hpp"
#include "dataset.hpp"

namespace facekeys {

struct TrainConfig {
  std::string model = "Baseline_7x7";
  std::string pack_path;
  std::string out_dir = "runs/baseline_7x7";
  int epochs = 100;
  int batch = 16;
  double lr = 1e-3;             // Adam, as the seed
  double weight_decay = 0.0;    // > 0 switches to AdamW
  std::string schedule = "constant";  // constant | cosine | step
  int warmup_epochs = 0;
  std::uint64_t seed = 0;
  std::string device = "auto";  // auto | cpu | cuda
  bool bf16 = false;            // CUDA autocast
  std::string resume;           // checkpoint to continue from
  AugmentConfig augment;
  bool quiet = false;           // no per-epoch lines (tests)
};

struct TrainResult {
  int epochs_run = 0;
  double final_train_loss = 0, final_val_loss = 0, best_val_loss = 0;
  int best_epoch = 0;
  double images_per_s = 0;
  std::string best_checkpoint, last_checkpoint, metrics_file;
};

// Writes <out_dir>/metrics.jsonl (one JSON object per epoch), last.safetensors
// (every epoch), best.safetensors (lowest val loss) and config.json.
// Throws std::runtime_error naming the epoch when the loss becomes NaN/inf.
TrainResult train(const TrainConfig& cfg);

// One augmented batch of the given rows (idx: [B] int64 on the split's device).
Batch make_training_batch(const DeviceSplit& split, const torch::Tensor& idx, const ModelSpec& spec,
                          const AugmentConfig& augment);

// Forward, MSE loss, backward, optimizer step; returns the detached loss
// (still on the device: reading it would synchronise the GPU).
torch::Tensor training_step(KeypointNet& model, Adam& optimizer, const Batch& batch, bool bf16);

// Learning rate for an epoch (0-based) under cfg's schedule.
double scheduled_lr(const TrainConfig& cfg, int epoch);

}  // namespace facekeys
