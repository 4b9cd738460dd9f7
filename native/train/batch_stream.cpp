#include "train/batch_stream.hpp"

#include <stdexcept>
#include <utility>

namespace facekeys {

Augmenter augmenter_for(const DeviceSplit& split, const ModelSpec& spec, const AugmentConfig& augment) {
  return Augmenter(augment, spec.input_h, spec.input_w, split.flip_permutation, split.images.device());
}

Batch make_training_batch(const DeviceSplit& split, const torch::Tensor& idx, const Augmenter& augment,
                          BatchShare share) {
  const int64_t b = idx.size(0);
  AugmentParams p = augment.sample(b * share.world);
  if (share.world > 1) {
    for (torch::Tensor* t : {&p.angle_deg, &p.scale, &p.tx_px, &p.ty_px, &p.flip, &p.brightness, &p.contrast})
      *t = t->narrow(0, share.rank * b, b);
  }
  return augment.apply({to_unit_float(split.images.index_select(0, idx)), split.points.index_select(0, idx)}, p);
}

int64_t steps_per_epoch(int64_t n, int64_t batch, BatchShare share) {
  const int64_t global = batch * share.world;
  return (n + global - 1) / global;
}

torch::Tensor epoch_rows(const torch::Tensor& order, int64_t step, int64_t batch, BatchShare share) {
  const int64_t n = order.size(0);
  const int64_t start = (step * share.world + share.rank) * batch;
  if (start + batch <= n) return order.narrow(0, start, batch);  // all but the last step or two
  auto positions = torch::arange(start, start + batch, torch::TensorOptions().dtype(torch::kInt64)).remainder_(n);
  return order.index_select(0, positions.to(order.device()));
}

BatchStream::BatchStream(const DeviceSplit& split, const Augmenter& augment, int64_t steps,
                         std::function<torch::Tensor(int64_t)> rows, bool background, BatchShare share)
    : split_(split), augment_(augment), steps_(steps), rows_(std::move(rows)), share_(share) {
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
  return make_training_batch(split_, rows_(step), augment_, share_);
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
