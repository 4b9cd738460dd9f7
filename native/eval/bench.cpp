#include "eval/bench.hpp"

#include <algorithm>
#include <chrono>

#include "train/batch_stream.hpp"
#include "train/device.hpp"
#include "train/trainer.hpp"

namespace facekeys {
namespace {

// Runs `step` warmup + timed times; returns images per second.
template <class Step>
double time_steps(const torch::Device& device, int warmup, int steps, int batch, Step&& step) {
  torch::Tensor last;
  for (int i = 0; i < warmup; ++i) last = step(i);
  synchronize(device);
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < steps; ++i) last = step(i);
  last.item<float>();  // waits for the queued work, like a real loop's loss read
  synchronize(device);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return static_cast<double>(steps) * batch / s;
}

}  // namespace

Json benchmark_training(const BenchConfig& cfg) {
  const torch::Device device = device_for_rank(pick_device(cfg.device), cfg.dist);
  std::unique_ptr<ProcessGroup> group;
  if (cfg.dist.joins_group(cfg.dist_backend))
    group = ProcessGroup::join(cfg.dist, device, cfg.dist_backend,
                               std::chrono::milliseconds(static_cast<int64_t>(cfg.dist_timeout_s * 1000)));
  torch::manual_seed(0);
  const ModelSpec spec = model_spec(cfg.model);
  auto model = make_model(spec);
  model->to(device);
  std::vector<std::pair<std::string, torch::Tensor>> named;
  for (auto& p : model->named_parameters()) named.emplace_back(p.key(), p.value());
  Adam optimizer(named, {});

  DeviceSplit data;
  std::string data_source = "synthetic";
  if (!cfg.pack_path.empty()) {
    data = load_split(read_pack(cfg.pack_path), cfg.pack_path, Split::Train, spec, device);
    data_source = cfg.pack_path;
  } else {
    const int64_t n = 192;  // IMM's training split size
    data.images = torch::randint(0, 256, {n, spec.channels, spec.input_h, spec.input_w},
                                 torch::TensorOptions().dtype(torch::kUInt8).device(device));
    data.points = torch::rand({n, spec.num_points, 2}, torch::TensorOptions().device(device));
    data.flip_permutation = torch::arange(spec.num_points, torch::TensorOptions().dtype(torch::kInt64).device(device));
  }

  // Ceiling: one fixed random batch, already normalised, on the device.
  Batch fixed{torch::rand({cfg.batch, spec.channels, spec.input_h, spec.input_w}, torch::TensorOptions().device(device)),
              torch::rand({cfg.batch, spec.num_points, 2}, torch::TensorOptions().device(device))};
  const double ceiling = time_steps(device, cfg.warmup_steps, cfg.steps, cfg.batch,
                                    [&](int) { return training_step(*model, optimizer, fixed, cfg.bf16); });

  // In a process group: the same steps with the gradients averaged, and the
  // averaging's all-reduce alone, on a tensor of all the gradients' bytes.
  std::unique_ptr<GradientSync> sync;
  Json dist = Json::object();
  if (group) {
    std::vector<torch::Tensor> params;
    for (auto& p : model->parameters()) params.push_back(p);
    sync = std::make_unique<GradientSync>(*group, params);
    const double synced = time_steps(device, cfg.warmup_steps, cfg.steps, cfg.batch, [&](int) {
      return training_step(*model, optimizer, fixed, cfg.bf16, {}, sync.get());
    });
    auto flat = torch::zeros({sync->bytes_per_step() / 4}, torch::TensorOptions().device(device));
    group->barrier();
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < cfg.steps; ++i) group->all_reduce_sum(flat);
    synchronize(device);
    const double all_reduce_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / cfg.steps;
    // Every rank's figures to every rank: one slot per rank.
    const int w = group->size(), r = group->rank();
    std::vector<double> slots(3 * static_cast<std::size_t>(w), 0.0);
    slots[r] = synced;
    slots[w + r] = ceiling;
    slots[2 * w + r] = all_reduce_ms;
    slots = group->all_reduce_sum(slots);
    Json per_rank = Json::array(), alone = Json::array();
    double total = 0, total_alone = 0, max_all_reduce_ms = 0;
    for (int i = 0; i < w; ++i) {
      per_rank.push_back(slots[i]);
      alone.push_back(slots[w + i]);
      total += slots[i];
      total_alone += slots[w + i];
      max_all_reduce_ms = std::max(max_all_reduce_ms, slots[2 * w + i]);
    }
    dist["world_size"] = w;
    dist["rank"] = r;
    dist["backend"] = group->backend();
    dist["per_rank_img_s"] = per_rank;
    dist["per_rank_alone_img_s"] = alone;
    dist["total_img_s"] = total;
    dist["total_alone_img_s"] = total_alone;
    dist["scaling_efficiency"] = total / std::max(total_alone, 1e-9);
    dist["all_reduce_ms_per_step"] = max_all_reduce_ms;
    dist["all_reduce_bytes_per_step"] = static_cast<double>(sync->bytes_per_step());
    dist["buckets"] = sync->buckets();
  }

  // End to end: what `facekeys train` does per step (shuffle, gather, augment, train).
  AugmentConfig aug;
  aug.enabled = cfg.augment;
  const Augmenter augmenter = augmenter_for(data, spec, aug);
  const int64_t n = data.size();
  auto order = torch::randperm(n, torch::TensorOptions().dtype(torch::kInt64).device(device));
  auto rows = [&](int64_t i) {  // consecutive windows of one shuffle, wrapping round
    const int64_t start = (i * cfg.batch) % std::max<int64_t>(1, n - cfg.batch + 1);
    return order.narrow(0, start, std::min<int64_t>(cfg.batch, n));
  };
  BatchStream batches(data, augmenter, cfg.warmup_steps + cfg.steps, rows, BatchStream::background_for(device));
  const double e2e = time_steps(device, cfg.warmup_steps, cfg.steps, cfg.batch, [&](int) {
    return training_step(*model, optimizer, batches.next(), cfg.bf16, {}, sync.get());
  });

  // The batches alone (gather + augment, on this thread): what the stream has to hide.
  const double batches_only = time_steps(device, std::min(cfg.warmup_steps, 2), cfg.steps, cfg.batch, [&](int i) {
    torch::NoGradGuard no_grad;
    return make_training_batch(data, rows(i), augmenter).points.sum();
  });

  Json j = Json::object();
  j["model"] = cfg.model;
  j["device"] = device.str();
  j["torch_version"] = TORCH_VERSION;
  j["threads"] = at::get_num_threads();
  j["batch"] = cfg.batch;
  j["steps"] = cfg.steps;
  j["augment"] = cfg.augment;
  j["bf16"] = cfg.bf16;
  j["data"] = data_source;
  j["model_only_img_s"] = ceiling;
  j["end_to_end_img_s"] = e2e;
  j["ratio"] = e2e / ceiling;
  j["batches_only_img_s"] = batches_only;
  j["batches_in_background"] = BatchStream::background_for(device);
  if (group) {
    // In a group, model_only_img_s is a rank's alone; the ratio is against it.
    j["distributed"] = dist;
    group->barrier();
  }
  return j;
}

}  // namespace facekeys
