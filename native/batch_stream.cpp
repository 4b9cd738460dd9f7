#include "batch_stream.hpp"

#include <stdexcept>
#include <utility>

namespace facekeys {

Augmenter augmenter_for(const DeviceSplit& split, const ModelSpec& spec, const AugmentConfig& augment) {
  return Augmenter(augment, spec.input_h, spec.input_w, split.flip_permutation, split.images.device());
}

Batch make_training_batch(const DeviceSplit& split, const torch::Tensor& idx, const Augmenter& augment) {
  return augment({to_unit_float(split.images.index_select(0, idx)), split.points.index_select(0, idx)});
}

BatchStream::BatchStream(const DeviceSplit& split, const Augmenter& augment, int64_t steps,
                         std::function<torch::Tensor(int64_t)> rows, bool background)
    : split_(split), augment_(augment), steps_(steps), rows_(std::move(rows)) {
  if (background && steps_ > 0) worker_ = std::thread([this] { work(); });
}

BatchStream::~BatchStream() {
  if (!worker_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  worker_.join();
}

Batch BatchStream::make(int64_t step) const {
  torch::NoGradGuard no_grad;  // nothing here is trained through
  return make_training_batch(split_, rows_(step), augment_);
}

void BatchStream::work() {
  for (int64_t step = 0; step < steps_; ++step) {
    std::optional<Batch> batch;
    std::exception_ptr error;
    try {
      batch = make(step);
    } catch (...) {
      error = std::current_exception();
    }
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [this] { return stop_ || !ready_.has_value(); });
    if (stop_) return;
    ready_ = std::move(batch);
    error_ = error;
    changed_.notify_all();
    if (error) return;
  }
}

Batch BatchStream::next() {
  if (taken_ >= steps_) throw std::logic_error("BatchStream: all " + std::to_string(steps_) + " batches taken");
  const int64_t step = taken_++;
  if (!worker_.joinable()) return make(step);
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [this] { return ready_.has_value() || error_; });
  if (error_) std::rethrow_exception(error_);
  Batch batch = std::move(*ready_);
  ready_.reset();
  changed_.notify_all();
  return batch;
}

}  // namespace facekeys
