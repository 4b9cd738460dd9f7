// The training loop: pack -> device tensors -> augmented batches -> model.
// train() is a short loop over named steps (trainer.cpp); the losses
// (losses.hpp), the weight average (weight_average.hpp) and the run folder
// with its checkpoints (run_folder.hpp) have files of their own.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "train/adam.hpp"
#include "train/augment.hpp"
#include "train/dataset.hpp"
#include "train/device.hpp"
#include "train/distributed.hpp"
#include "train/losses.hpp"
#include "train/weight_average.hpp"

namespace facekeys {

// How the learning rate moves over the epochs (after any warm-up): constant;
// cosine from lr down to lr/100; step: lr, then /10 after half the epochs and
// /100 after three quarters.
enum class Schedule { Constant, Cosine, Step };
const char* schedule_name(Schedule s);  // "constant" | "cosine" | "step" (config.json)
// Throws std::invalid_argument("unknown schedule '<name>' (expected ...)").
Schedule schedule_from_name(const std::string& name);

struct TrainConfig {
  std::string model = "Baseline_7x7";
  std::string pack_path;
  std::string out_dir = "runs/baseline_7x7";
  int epochs = 100;
  int batch = 16;
  double lr = 1e-3;             // Adam, as the seed
  double weight_decay = 0.0;    // > 0 switches to AdamW
  Schedule schedule = Schedule::Constant;
  int warmup_epochs = 0;
  std::uint64_t seed = 0;
  DeviceChoice device = DeviceChoice::Auto;
  bool bf16 = false;            // CUDA autocast
  std::string resume;           // checkpoint to continue from
  AugmentConfig augment;
  LossConfig loss;
  std::string init;             // weights to start from (matching names and shapes; others skipped): a
                                // safetensors file, or an exported model dir as the user named it
  std::string init_file;        // the safetensors file init's weights are read from when it is not one itself
                                // (an exported dir's, converted by facekeys-export; see cli/train.cpp)
  int input_size = 0;           // square input side overriding the model's default (0: the zoo's)
  double ema_decay = 0.0;       // > 0: validate and save an exponential moving average of the weights
  bool train_on_val = false;    // train on train + val, for a last run of a recipe chosen on val: the val loss
                                // is still logged but no longer held out, so best.safetensors is the last epoch
  int save_every = 1;           // write last.safetensors (and ema.safetensors) every n epochs and at the
                                // last one; best.safetensors is written whenever val improves
  bool quiet = false;           // no per-epoch lines (tests)
  // Data parallel (docs/DISTRIBUTED.md): the process group to join, read from
  // the environment by `facekeys train` (WORLD_SIZE 1: one process). --batch is
  // per rank; the global batch is batch x world size.
  DistEnv dist;
  std::string dist_backend = "auto";  // auto | gloo | nccl
  double dist_timeout_s = 300;        // how long a rank waits for the others before giving up
};

// Whether training writes last.safetensors after 1-based epoch `epoch` of a
// run that started after `start_epoch` and ends at `total`: every
// `save_every` epochs of this run, and always at the last.
bool saves_last_after(int epoch, int start_epoch, int total, int save_every);

struct TrainResult {
  int epochs_run = 0;
  int64_t train_images = 0;  // images an epoch covers (train, or train + val)
  int64_t images_per_epoch = 0;  // images an epoch trains on, over all ranks: whole global batches,
                                 // the last one completed with the epoch's first images
  int world_size = 1;
  double final_train_loss = 0, final_val_loss = 0, best_val_loss = 0;
  int best_epoch = 0;
  double images_per_s = 0;
  std::string best_checkpoint, last_checkpoint, metrics_file;
};

// Writes <out_dir>/metrics.jsonl (one JSON object per epoch), last.safetensors
// (every epoch), best.safetensors (lowest val loss) and config.json. With
// ema_decay > 0 the validated and best weights are the moving average, and
// ema.safetensors keeps it beside last.safetensors so that a resume continues it.
// Throws std::runtime_error naming the epoch when the loss becomes NaN/inf.
TrainResult train(const TrainConfig& cfg);

// Forward, loss (keypoint_loss), backward, optimizer step; returns the detached loss
// (still on the device: reading it would synchronise the GPU). With `sync`, the
// gradients are averaged over the process group during the backward pass.
torch::Tensor training_step(KeypointNet& model, Adam& optimizer, const Batch& batch, bool bf16,
                            const LossConfig& loss = {}, GradientSync* sync = nullptr);

// Learning rate for an epoch (0-based) under cfg's schedule.
double scheduled_lr(const TrainConfig& cfg, int epoch);

}  // namespace facekeys
