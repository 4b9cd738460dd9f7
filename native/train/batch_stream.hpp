// The batches of one epoch, in order, each one made while the step before it
// trains.
//
// Why: at small batches a GPU training step is a few milliseconds of kernel
// launches (Baseline_7x7 at batch 16 on an H200: ~3.8 ms, less than half of
// it GPU work), and gathering and augmenting a batch is some 40 more
// launches (native/train/augment.hpp). Issued from the training thread they add
// straight onto the step; from a worker thread they overlap it. The worker
// issues onto the same CUDA stream, and the training thread takes a batch only
// once the worker has queued all of its kernels, so stream order keeps it
// correct.
//
// The worker draws the augmentation's random numbers in the order the steps
// use them, and the epoch's stream ends with its last step (the next epoch
// reseeds first), so a run is the same, bit for bit, with or without it.
#pragma once

#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "train/augment.hpp"
#include "train/dataset.hpp"

namespace facekeys {

// The augmentation of a split's images at the model's input size.
Augmenter augmenter_for(const DeviceSplit& split, const ModelSpec& spec, const AugmentConfig& augment);

// A rank's share of a global batch (data-parallel training): slice `rank` of
// `world` equal slices.
struct BatchShare {
  int rank = 0, world = 1;
};

// One augmented batch of the given rows (idx: [B] int64 on the split's device).
// The augmentation's random parameters are drawn for the whole global batch
// (B x share.world samples, the same draws on every rank) and this rank's slice
// is used: each sample of a step is augmented the same way whatever the number
// of ranks that share the step, so a run depends on its global batch alone.
Batch make_training_batch(const DeviceSplit& split, const torch::Tensor& idx, const Augmenter& augment,
                          BatchShare share = {});

// The split rows of one rank at one step of an epoch. `order` is the epoch's
// global order of the n rows (the same on every rank); step k's global batch
// is positions [k B W, (k + 1) B W) of it, of which this rank takes the
// slice [rank B, (rank + 1) B). Positions past the end wrap round to the
// order's start, so every batch is full (as torch's DistributedSampler pads):
// over an epoch of ceil(n / (B W)) steps the ranks' rows are disjoint but for
// those few repeats, and together cover every row.
torch::Tensor epoch_rows(const torch::Tensor& order, int64_t step, int64_t batch, BatchShare share);
int64_t steps_per_epoch(int64_t n, int64_t batch, BatchShare share);

class BatchStream {
public:
  // rows(step): the split rows of step 0 .. steps-1. With background false the
  // batches are made in next() on the calling thread (the CPU: a worker would
  // only compete with LibTorch's own threads for the cores).
  // split and augment are the caller's and must outlive the stream (one
  // Augmenter serves a whole run: it holds the constants made once).
  BatchStream(const DeviceSplit& split, const Augmenter& augment, int64_t steps,
              std::function<torch::Tensor(int64_t)> rows, bool background, BatchShare share = {});
  ~BatchStream();
  BatchStream(const BatchStream&) = delete;
  BatchStream& operator=(const BatchStream&) = delete;

  // The next step's batch; rethrows what making it threw.
  Batch next();

  // Whether batches are made on a worker thread: on CUDA devices.
  static bool background_for(const torch::Device& device) { return device.is_cuda(); }

private:
  Batch make(int64_t step) const;
  void work();

  const DeviceSplit& split_;
  const Augmenter& augment_;
  const int64_t steps_;
  const std::function<torch::Tensor(int64_t)> rows_;
  const BatchShare share_;
  int64_t taken_ = 0;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::optional<Batch> ready_;    // the one batch made ahead
  std::exception_ptr error_;
  bool stop_ = false;
  std::thread worker_;
};

}  // namespace facekeys
