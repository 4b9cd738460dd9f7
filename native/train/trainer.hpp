// The training loop: pack -> device tensors -> augmented batches -> model.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "train/adam.hpp"
#include "train/augment.hpp"
#include "train/dataset.hpp"
#include "train/distributed.hpp"

namespace facekeys {

// What the loss is. Coordinate models ("coords"): coord_loss on normalised
// coordinates, "mse" (the seed's), "l1", "smoothl1" (Huber with beta 0.01,
// i.e. quadratic below ~2 px at 224) or "wing" (Feng et al., CVPR 2018: log-
// shaped below wing_w, so small and medium errors weigh more than under L1;
// wing_w and wing_eps are fractions of the crop side, 0.05 and 0.01 are the
// paper's w = 10, eps = 2 px at a 200 px crop). Heatmap models ("heatmaps"): KL(target ||
// spatial softmax of each map) with Gaussian targets of `sigma` heatmap cells,
// normalised to sum to 1 (gaussian_heatmaps' HeatmapNorm::Sum), built on the
// device from the augmented keypoints.
struct LossConfig {
  std::string coord_loss = "mse";
  double wing_w = 0.05, wing_eps = 0.01;
  double sigma = 1.5;
};

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
  LossConfig loss;
  std::string init;             // weights to start from (matching names and shapes; others skipped): a
                                // safetensors file, or an exported model dir as the user named it
  std::string init_file;        // the safetensors file init's weights are read from when it is not one itself
                                // (an exported dir's, converted by facekeys-export; see cmd_train.cpp)
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

// An exponential moving average of a model's parameters and floating-point
// buffers (BatchNorm statistics included), updated after every optimiser step:
// shadow = decay * shadow + (1 - decay) * live. Averaging the end of a run
// smooths out the last steps' noise, which on a dataset as small as LFPW's 805
// crops is worth a few hundredths of a percent of NME. Integer buffers (BN's
// batch counters) are copied, not averaged.
class WeightAverage {
 public:
  WeightAverage(torch::nn::Module& model, double decay);
  void update();
  // Puts the average into the model, keeping the live weights to put back.
  void swap_in();
  void swap_out();
  // Continues an average saved earlier: copies the tensors of `from` (the same
  // architecture, or a checkpoint's `average`) into the shadow, by name.
  void load(torch::nn::Module& from);
  void load(const std::map<std::string, torch::Tensor>& saved);
  // The average by tensor name (what save_checkpoint keeps as "ema.<name>").
  std::vector<std::pair<std::string, torch::Tensor>> named() const;

 private:
  double decay_;
  std::vector<std::string> names_;
  std::vector<torch::Tensor> live_, shadow_, saved_;
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

// Gaussian heatmap targets on points' device: points [B, K, 2] normalised
// (u, v) of the model input -> [B, K, height, width], each map summing to 1
// (or all zeros when less than kHeatmapMinVisibleMass of the Gaussian falls on
// the map, or the point is NaN). Same convention and values as the core's
// gaussian_heatmaps(..., HeatmapNorm::Sum) at x_hm = u * width - 0.5,
// y_hm = v * height - 0.5 (heatmap.hpp: cell centres at integers).
torch::Tensor heatmap_targets(const torch::Tensor& points, int64_t height, int64_t width, double sigma);

// Mean over maps of KL(target || softmax(logits over the map's cells));
// logits and targets [B, K, H, W]. An all-zero target map contributes 0.
torch::Tensor heatmap_kl_loss(const torch::Tensor& logits, const torch::Tensor& targets);

// Mean over elements of wing(|pred - target|): w ln(1 + x/eps) for x < w, x - C
// above (C makes it continuous). Throws std::invalid_argument unless w, eps > 0.
torch::Tensor wing_loss(const torch::Tensor& pred, const torch::Tensor& target, double w, double eps);

// The training loss for a model output: [B, K, H, W] heatmap logits -> KL
// against heatmap_targets; [B, 2K] coordinates -> loss.coord_loss. Throws
// std::invalid_argument on an unknown coord_loss.
torch::Tensor keypoint_loss(const torch::Tensor& pred, const torch::Tensor& points, const LossConfig& loss);

// Learning rate for an epoch (0-based) under cfg's schedule.
double scheduled_lr(const TrainConfig& cfg, int epoch);

}  // namespace facekeys
