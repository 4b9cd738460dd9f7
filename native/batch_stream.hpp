// The batches of one epoch, in order, each one made while the step before it
// trains.
//
// Why: at small batches a GPU training step is a few milliseconds of kernel
// launches (Baseline_7x7 at batch 16 on an H200: ~3.8 ms, less than half of
// it GPU work), and gathering and augmenting a batch is some 40 more
// launches (native/augment.hpp). Issued from the training thread they add
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

#include "augment.hpp"
#include "dataset.hpp"

namespace facekeys {

// The augmentation of a split's images at the model's input size.
Augmenter augmenter_for(const DeviceSplit& split, const ModelSpec& spec, const AugmentConfig& augment);

// One augmented batch of the given rows (idx: [B] int64 on the split's device).
Batch make_training_batch(const DeviceSplit& split, const torch::Tensor& idx, const Augmenter& augment);

class BatchStream {
public:
  // rows(step): the split rows of step 0 .. steps-1. With background false the
  // batches are made in next() on the calling thread (the CPU: a worker would
  // only compete with LibTorch's own threads for the cores).
  // split and augment are the caller's and must outlive the stream (one
  // Augmenter serves a whole run: it holds the constants made once).
  BatchStream(const DeviceSplit& split, const Augmenter& augment, int64_t steps,
              std::function<torch::Tensor(int64_t)> rows, bool background);
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
  int64_t taken_ = 0;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::optional<Batch> ready_;    // the one batch made ahead
  std::exception_ptr error_;
  bool stop_ = false;
  std::thread worker_;
};

}  // namespace facekeys
