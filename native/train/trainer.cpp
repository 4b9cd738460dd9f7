#include "train/trainer.hpp"

#include <chrono>
#include <cstdio>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "train/batch_stream.hpp"
#include "train/checkpoint.hpp"
#include "train/dataset.hpp"
#include "train/device.hpp"
#include "facekeys/file_io.hpp"
#include "facekeys/heatmap.hpp"
#include "facekeys/json.hpp"
#include "facekeys/safetensors.hpp"
#include "train/progress.hpp"

namespace facekeys {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Seeds the generators for one epoch from (seed, epoch) alone (a splitmix64
// step), so the shuffling and augmentation of an epoch are the same whether
// the run got there in one go or was resumed: no generator state has to be
// saved, and its format differs between devices and LibTorch versions.
void seed_epoch(std::uint64_t seed, int epoch, const torch::Device& device) {
  std::uint64_t z = seed + 0x9e3779b97f4a7c15ull * static_cast<std::uint64_t>(epoch + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  torch::manual_seed(z);
  if (device.is_cuda()) torch::cuda::manual_seed_all(z);
}

// The square input side the --init weights were trained at (input_w/input_h
// of a facekeys checkpoint, or of an exported model's weights), 0 when the
// file does not say (converted torchvision weights) or is not square.
int init_input_side(const std::string& path) {
  const SafeTensorsFile st = read_safetensors(path);
  const auto w = st.metadata.find("input_w"), h = st.metadata.find("input_h");
  if (w == st.metadata.end() || h == st.metadata.end() || w->second != h->second) return 0;
  try {
    return std::stoi(w->second);
  } catch (const std::exception&) {
    throw std::runtime_error(path + ": metadata input_w '" + w->second + "' is not a number");
  }
}

// A fresh run (not --resume) into a folder that holds an earlier run replaces
// it as a whole: without this, a new run without --ema would leave the old
// ema.safetensors beside it, and one that stops in its first epoch would leave
// a new config.json over the old checkpoints. Only the trainer's own files go;
// report PNGs are `facekeys report`'s to replace.
void clear_previous_run(const std::string& out_dir, bool quiet) {
  namespace fs = std::filesystem;
  const fs::path dir(out_dir);
  std::error_code ec;
  std::string what = "a run";
  if (fs::is_regular_file(dir / "config.json", ec)) {
    try {
      const Json old = Json::parse(read_file_text((dir / "config.json").string()), (dir / "config.json").string());
      what = "a " + old.at("model").as_string() + " run";
    } catch (const std::exception&) {
      // An unreadable old config is replaced like any other.
    }
  }
  int removed = 0;
  for (const char* name : {"config.json", "metrics.jsonl", "last.safetensors", "best.safetensors", "ema.safetensors"})
    if (fs::remove(dir / name, ec)) ++removed;
  if (removed > 0 && !quiet)
    std::fprintf(stderr, "note: %s held %s; this run replaces it (use --resume %s to continue it instead)\n",
                 out_dir.c_str(), what.c_str(), (dir / "last.safetensors").string().c_str());
}

// The run folder, made before training (so that one that cannot be made stops
// the run at once) but written only when the first epoch ends: a run that fails
// before then leaves no folder behind, and an earlier run in it stays whole.
// Temporary files of writes that a kill interrupted are cleared on the way in.
class RunFolder {
 public:
  RunFolder(const std::string& dir, bool active) : dir_(dir), active_(active) {
    namespace fs = std::filesystem;
    if (!active_) return;
    std::error_code ec;
    made_ = fs::create_directories(dir_, ec);
    if (!made_ && ec) throw std::runtime_error("-o " + dir_ + ": cannot create the run folder: " + ec.message());
    for (const auto& e : fs::directory_iterator(dir_, ec)) {
      const std::string name = e.path().filename().string();
      const auto tmp = name.find(".tmp-");
      if (tmp != std::string::npos && name.find_first_not_of("0123456789", tmp + 5) == std::string::npos)
        fs::remove(e.path(), ec);
    }
  }
  ~RunFolder() {
    std::error_code ec;
    if (active_ && made_ && !started_) std::filesystem::remove_all(dir_, ec);
  }
  RunFolder(const RunFolder&) = delete;
  RunFolder& operator=(const RunFolder&) = delete;

  // Before the first file of the run: an earlier run's files go (a fresh run
  // replaces it), then config.json comes.
  void start(bool replace_previous, const std::string& config, bool quiet) {
    if (started_) return;
    if (replace_previous) clear_previous_run(dir_, quiet);
    write_file_atomic((std::filesystem::path(dir_) / "config.json").string(), config);
    started_ = true;
  }

 private:
  std::string dir_;
  bool active_, made_ = false, started_ = false;
};

Json config_json(const TrainConfig& c) {
  Json j = Json::object();
  j["model"] = c.model;
  j["pack"] = c.pack_path;
  j["epochs"] = c.epochs;
  j["batch"] = c.batch;
  j["lr"] = c.lr;
  j["weight_decay"] = c.weight_decay;
  j["schedule"] = c.schedule;
  j["warmup_epochs"] = c.warmup_epochs;
  j["seed"] = static_cast<double>(c.seed);
  j["device"] = c.device;
  j["bf16"] = c.bf16;
  Json a = Json::object();
  a["enabled"] = c.augment.enabled;
  a["rotate_deg"] = c.augment.rotate_deg;
  a["translate"] = c.augment.translate;
  a["scale"] = c.augment.scale;
  a["flip_prob"] = c.augment.flip_prob;
  a["brightness"] = c.augment.brightness;
  a["contrast"] = c.augment.contrast;
  j["augment"] = a;
  // Heatmap models always train with the KL loss; --loss chooses the coordinate models' loss.
  j["loss"] = model_spec(c.model).output == OutputKind::Heatmaps ? std::string("kl") : c.loss.coord_loss;
  j["sigma"] = c.loss.sigma;
  j["init"] = c.init;
  j["input_size"] = c.input_size;
  if (c.loss.coord_loss == "wing") {
    j["wing_w"] = c.loss.wing_w;
    j["wing_eps"] = c.loss.wing_eps;
  }
  j["ema_decay"] = c.ema_decay;
  j["train_on_val"] = c.train_on_val;
  j["save_every"] = c.save_every;
  return j;
}

// Mean training loss over a split, no augmentation, in eval mode. In a
// process group each rank scores its own contiguous share of the rows and the
// sums are added up, so every rank returns the same mean.
double evaluate_loss(KeypointNet& model, const DeviceSplit& split, int batch, const LossConfig& loss,
                     ProcessGroup* group) {
  torch::NoGradGuard no_grad;
  model.eval();
  const int64_t world = group ? group->size() : 1, rank = group ? group->rank() : 0;
  const int64_t share = (split.size() + world - 1) / world;
  const int64_t begin = std::min(split.size(), rank * share), end = std::min(split.size(), begin + share);
  double sum = 0;
  for (int64_t i = begin; i < end; i += batch) {
    const int64_t n = std::min<int64_t>(batch, end - i);
    auto x = normalize_input(to_unit_float(split.images.narrow(0, i, n)));
    auto y = split.points.narrow(0, i, n);
    sum += keypoint_loss(model.forward(x), y, loss).item<double>() * static_cast<double>(n);
  }
  model.train();
  if (group) sum = group->all_reduce_sum(std::vector<double>{sum})[0];
  return sum / static_cast<double>(split.size());
}

// A communication failure, said as what it most likely is.
[[noreturn]] void rethrow_as_group_failure(const std::exception& e, const ProcessGroup& group, int epoch,
                                          double timeout_s) {
  throw std::runtime_error("rank " + std::to_string(group.rank()) + " of " + std::to_string(group.size()) +
                           ": a collective failed in epoch " + std::to_string(epoch) +
                           " (another rank stopped, crashed, or did not answer within --dist-timeout " +
                           std::to_string(static_cast<int>(timeout_s)) + " s); no checkpoint of this epoch was "
                           "written: " + e.what());
}

void check_finite(double loss, int epoch, const std::string& where) {
  if (!std::isfinite(loss))
    throw std::runtime_error("epoch " + std::to_string(epoch) + ": " + where +
                             " loss is not finite (diverged: try a lower --lr); the last good checkpoint is kept");
}

// A coordinate regressor starts by predicting the mean training shape: the
// output layer's bias is set to it and its weights shrunk. With PyTorch's
// default init the first outputs are far from [0, 1]; the large early
// gradients then silence many ReLUs and training sits on the mean-face
// plateau for tens of epochs. Same architecture, better starting point.
void start_at_mean_shape(KeypointNet& model, const torch::Tensor& points) {
  torch::NoGradGuard no_grad;
  const int64_t outputs = points.size(1) * 2;
  torch::Tensor weight, bias;
  for (auto& p : model.named_parameters()) {  // the last layer with 2K outputs
    if (p.value().dim() == 1 && p.value().size(0) == outputs) bias = p.value();
    if (p.value().dim() == 2 && p.value().size(0) == outputs) weight = p.value();
  }
  if (!weight.defined() || !bias.defined()) return;
  bias.copy_(points.mean(0).reshape({outputs}).to(bias.device()));
  weight.mul_(0.1);
}

// Joins the process group of a data-parallel run (docs/DISTRIBUTED.md): only
// rank 0 then reports; after a torchrun --max-restarts restart every rank
// resumes from the run's last checkpoint.
std::unique_ptr<ProcessGroup> join_training_group(TrainConfig& cfg, const torch::Device& device) {
  namespace fs = std::filesystem;
  if (!(cfg.dist_timeout_s > 0)) throw std::invalid_argument("--dist-timeout must be positive (seconds)");
  auto group = ProcessGroup::join(cfg.dist, device, cfg.dist_backend,
                                  std::chrono::milliseconds(static_cast<int64_t>(cfg.dist_timeout_s * 1000)));
  if (group->rank() != 0) cfg.quiet = true;
  // Restarted by torchrun --max-restarts: continue from the run's last checkpoint.
  const fs::path last = fs::path(cfg.out_dir) / "last.safetensors";
  if (cfg.resume.empty() && cfg.dist.restart_count > 0 && group->all_agree(fs::exists(last))) {
    cfg.resume = last.string();
    if (!cfg.quiet)
      std::fprintf(stderr, "restart %d: resuming from %s\n", cfg.dist.restart_count, cfg.resume.c_str());
  }
  if (!cfg.quiet)
    std::fprintf(stderr, "process group: %d ranks (%s), batch %d per rank, %d in all\n", group->size(),
                 group->backend().c_str(), cfg.batch, cfg.batch * group->size());
  return group;
}

}  // namespace

torch::Tensor heatmap_targets(const torch::Tensor& points, int64_t height, int64_t width, double sigma) {
  if (points.dim() != 3 || points.size(2) != 2) throw std::invalid_argument("heatmap_targets: points must be [B, K, 2]");
  if (height < 1 || width < 1 || !(sigma > 0)) throw std::invalid_argument("heatmap_targets: bad map size or sigma");
  const auto opts = points.options().dtype(torch::kFloat32);
  auto p = points.to(torch::kFloat32);
  auto px = p.select(2, 0) * static_cast<double>(width) - 0.5;  // [B, K]
  auto py = p.select(2, 1) * static_cast<double>(height) - 0.5;
  auto finite = torch::isfinite(px) & torch::isfinite(py);
  px = torch::where(finite, px, torch::zeros_like(px));
  py = torch::where(finite, py, torch::zeros_like(py));
  const double inv_two_s2 = 1.0 / (2.0 * sigma * sigma);
  // Separable: exp(-dx^2/2s^2) exp(-dy^2/2s^2), like the core.
  auto gx = torch::exp(-(torch::arange(width, opts).view({1, 1, width}) - px.unsqueeze(2)).pow(2) * inv_two_s2);
  auto gy = torch::exp(-(torch::arange(height, opts).view({1, 1, height}) - py.unsqueeze(2)).pow(2) * inv_two_s2);
  auto mass = gx.to(torch::kFloat64).sum(2) * gy.to(torch::kFloat64).sum(2);  // [B, K], in double like the core
  const double full_mass = 2.0 * M_PI * sigma * sigma;
  auto valid = finite & (mass >= static_cast<double>(kHeatmapMinVisibleMass) * full_mass);
  auto scale = torch::where(valid, mass.reciprocal(), torch::zeros_like(mass)).to(torch::kFloat32);
  return (gy * scale.unsqueeze(2)).unsqueeze(3) * gx.unsqueeze(2);
}

torch::Tensor heatmap_kl_loss(const torch::Tensor& logits, const torch::Tensor& targets) {
  if (logits.sizes() != targets.sizes())
    throw std::invalid_argument("heatmap_kl_loss: logits " + c10::str(logits.sizes()) + " vs targets " +
                                c10::str(targets.sizes()));
  auto logp = torch::log_softmax(logits.to(torch::kFloat32).flatten(2), 2);
  auto t = targets.flatten(2);
  // sum t (log t - log p); xlogy gives 0 log 0 = 0.
  return (torch::xlogy(t, t) - t * logp).sum(2).mean();
}

torch::Tensor wing_loss(const torch::Tensor& pred, const torch::Tensor& target, double w, double eps) {
  if (!(w > 0) || !(eps > 0)) throw std::invalid_argument("wing_loss: w and eps must be > 0");
  auto x = (pred - target).abs();
  // Continuous at |x| = w: the linear part is shifted by C = w - w ln(1 + w/eps).
  const double c = w - w * std::log1p(w / eps);
  return torch::where(x < w, w * torch::log1p(x / eps), x - c).mean();
}

torch::Tensor keypoint_loss(const torch::Tensor& pred, const torch::Tensor& points, const LossConfig& loss) {
  if (pred.dim() == 4) {
    auto targets = heatmap_targets(points, pred.size(2), pred.size(3), loss.sigma);
    return heatmap_kl_loss(pred, targets);
  }
  auto p = pred.to(torch::kFloat32).view(points.sizes());
  if (loss.coord_loss == "mse") return torch::mse_loss(p, points);
  if (loss.coord_loss == "l1") return torch::l1_loss(p, points);
  if (loss.coord_loss == "smoothl1") return torch::smooth_l1_loss(p, points, at::Reduction::Mean, 0.01);
  if (loss.coord_loss == "wing") return wing_loss(p, points, loss.wing_w, loss.wing_eps);
  throw std::invalid_argument("unknown loss '" + loss.coord_loss + "' (expected mse, l1, smoothl1 or wing)");
}

torch::Tensor training_step(KeypointNet& model, Adam& optimizer, const Batch& batch, bool bf16,
                            const LossConfig& loss_cfg, GradientSync* sync) {
  const auto device = batch.images.device();
  torch::Tensor pred;
#if FACEKEYS_HAS_AUTOCAST
  {
    const CudaBf16Autocast autocast(bf16 && device.is_cuda());
    pred = model.forward(normalize_input(batch.images));
  }
#else
  if (bf16 && device.is_cuda())
    throw std::runtime_error("--bf16 needs LibTorch 2.4 or later (this build has " TORCH_VERSION ")");
  pred = model.forward(normalize_input(batch.images));
#endif
  auto loss = keypoint_loss(pred.to(torch::kFloat32), batch.points, loss_cfg);
  optimizer.zero_grad();
  if (sync)
    sync->backward(loss);
  else
    loss.backward();
  optimizer.step();
  return loss.detach();
}

bool saves_last_after(int epoch, int start_epoch, int total, int save_every) {
  return epoch == total || (epoch - start_epoch) % std::max(1, save_every) == 0;
}

double scheduled_lr(const TrainConfig& cfg, int epoch) {
  if (epoch < cfg.warmup_epochs) return cfg.lr * (epoch + 1) / (cfg.warmup_epochs + 1);
  if (cfg.schedule == "constant") return cfg.lr;
  const double t = static_cast<double>(epoch - cfg.warmup_epochs) / std::max(1, cfg.epochs - cfg.warmup_epochs);
  if (cfg.schedule == "cosine") return cfg.lr * (0.01 + 0.99 * 0.5 * (1.0 + std::cos(M_PI * t)));
  if (cfg.schedule == "step") return cfg.lr * (t < 0.5 ? 1.0 : t < 0.75 ? 0.1 : 0.01);
  throw std::invalid_argument("unknown schedule '" + cfg.schedule + "' (expected constant, cosine or step)");
}

WeightAverage::WeightAverage(torch::nn::Module& model, double decay) : decay_(decay) {
  torch::NoGradGuard no_grad;
  for (auto& [name, t] : named_tensors(model)) {
    names_.push_back(name);
    live_.push_back(t);
    shadow_.push_back(t.detach().clone());
  }
}

void WeightAverage::update() {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < live_.size(); ++i) {
    if (live_[i].is_floating_point())
      shadow_[i].mul_(decay_).add_(live_[i].detach(), 1.0 - decay_);
    else
      shadow_[i].copy_(live_[i]);
  }
}

void WeightAverage::swap_in() {
  torch::NoGradGuard no_grad;
  saved_.clear();
  for (size_t i = 0; i < live_.size(); ++i) {
    saved_.push_back(live_[i].detach().clone());
    live_[i].copy_(shadow_[i]);
  }
}

void WeightAverage::swap_out() {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < live_.size(); ++i) live_[i].copy_(saved_[i]);
  saved_.clear();
}

void WeightAverage::load(const std::map<std::string, torch::Tensor>& saved) {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < names_.size(); ++i) {
    const auto it = saved.find(names_[i]);
    if (it == saved.end() || it->second.sizes() != shadow_[i].sizes())
      throw std::runtime_error("moving average: tensor '" + names_[i] + "' missing or mis-shaped");
    shadow_[i].copy_(it->second);
  }
}

std::vector<std::pair<std::string, torch::Tensor>> WeightAverage::named() const {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (size_t i = 0; i < names_.size(); ++i) out.emplace_back(names_[i], shadow_[i]);
  return out;
}

void WeightAverage::load(torch::nn::Module& from) {
  std::map<std::string, torch::Tensor> saved;
  for (auto& [name, t] : named_tensors(from)) saved[name] = t;
  load(saved);
}

TrainResult train(const TrainConfig& requested) {
  TrainConfig cfg = requested;
  const std::string init_path = cfg.init_file.empty() ? cfg.init : cfg.init_file;
  if (cfg.resume.empty() && !cfg.init.empty() && cfg.input_size == 0) {
    // A fine-tune keeps the input size its weights were trained at (the shipped
    // ResNet18 reads 160x160, the architecture's default is 224x224).
    const int side = init_input_side(init_path);
    if (side > 0 && side != model_spec(cfg.model).input_w) {
      cfg.input_size = side;
      if (!cfg.quiet)
        std::fprintf(stderr, "--init %s: training at its input size, %dx%d (--input-size to change)\n",
                     cfg.init.c_str(), side, side);
    }
  }
  if (cfg.epochs < 1 || cfg.batch < 1) throw std::invalid_argument("epochs and batch must be positive");
  if (cfg.ema_decay < 0 || cfg.ema_decay >= 1)
    throw std::invalid_argument("--ema must be in [0, 1) (0: off; 0.999 averages about the last 1000 steps)");
  if (std::error_code ec; std::filesystem::exists(cfg.out_dir, ec) && !std::filesystem::is_directory(cfg.out_dir, ec))
    throw std::runtime_error("-o " + cfg.out_dir + ": a file has this name; the run folder must be a folder");
  scheduled_lr(cfg, 0);  // validates the schedule name before any work
  keypoint_loss(torch::zeros({1, 2}), torch::zeros({1, 1, 2}), cfg.loss);  // and the loss name
  const torch::Device device = device_for_rank(pick_device(cfg.device), cfg.dist);
  namespace fs = std::filesystem;

  // Data parallel: join the group; rank 0 alone writes files and reports.
  std::unique_ptr<ProcessGroup> group;
  if (cfg.dist.joins_group(cfg.dist_backend)) group = join_training_group(cfg, device);
  const bool writes_files = !group || group->rank() == 0;
  const BatchShare share{group ? group->rank() : 0, group ? group->size() : 1};
  torch::manual_seed(cfg.seed);
  if (device.is_cuda()) torch::cuda::manual_seed_all(cfg.seed);

  const Pack pack = read_pack(cfg.pack_path);
  ModelSpec spec = model_spec(cfg.model);
  std::shared_ptr<KeypointNet> model;
  int start_epoch = 0;
  Checkpoint resumed;
  if (!cfg.resume.empty()) {
    resumed = load_checkpoint(cfg.resume);
    if (resumed.spec.arch != cfg.model)
      throw std::runtime_error(cfg.resume + ": checkpoint is a " + resumed.spec.arch + ", not a " + cfg.model);
    spec = resumed.spec;
    model = resumed.model;
    start_epoch = resumed.epoch;
  } else {
    if (cfg.input_size > 0) spec.input_w = spec.input_h = cfg.input_size;
    model = make_model(spec);
  }
  const DeviceSplit val_split = load_split(pack, cfg.pack_path, Split::Val, spec, device);
  DeviceSplit train_split = load_split(pack, cfg.pack_path, Split::Train, spec, device);
  if (cfg.train_on_val) train_split = concat_splits(train_split, val_split);
  if (cfg.resume.empty() && spec.output == OutputKind::Coords) start_at_mean_shape(*model, train_split.points);
  if (cfg.resume.empty() && !cfg.init.empty()) {
    // After the mean-shape start, so weights from the file (an fc2 included) win.
    std::vector<std::string> notes;
    const int loaded = load_matching_weights(*model, init_path, &notes);
    if (!cfg.quiet) {
      for (const auto& note : notes) std::fprintf(stderr, "warning: --init %s: %s\n", cfg.init.c_str(), note.c_str());
      std::fprintf(stderr, "--init %s: loaded %d tensors\n", cfg.init.c_str(), loaded);
    }
  }
  model->to(device);
  model->train();
  std::unique_ptr<GradientSync> sync;
  if (group) {
    // Every rank starts from rank 0's weights and buffers (as DDP); BatchNorm's
    // running statistics then follow each rank's own batches.
    std::vector<torch::Tensor> tensors;
    for (auto& [name, t] : named_tensors(*model)) tensors.push_back(t);
    group->broadcast_from_rank0(tensors);
    std::vector<torch::Tensor> params;
    for (auto& p : model->parameters()) params.push_back(p);
    sync = std::make_unique<GradientSync>(*group, params);
  }

  std::unique_ptr<WeightAverage> average;
  if (cfg.ema_decay > 0) {
    average = std::make_unique<WeightAverage>(*model, cfg.ema_decay);
    // A resumed run continues the average saved in its checkpoint (or, from
    // runs of before that, beside it).
    const fs::path saved = fs::path(cfg.resume).parent_path() / "ema.safetensors";
    if (!resumed.average.empty()) {
      std::map<std::string, torch::Tensor> on_device;
      for (const auto& [name, t] : resumed.average) on_device[name] = t.to(device);
      average->load(on_device);
    } else if (!cfg.resume.empty() && fs::exists(saved)) {
      Checkpoint ema = load_checkpoint(saved.string());
      if (ema.epoch != start_epoch)
        throw std::runtime_error(saved.string() + ": moving average is of epoch " + std::to_string(ema.epoch) +
                                 ", the checkpoint of epoch " + std::to_string(start_epoch) +
                                 " (delete it to start the average again from the checkpoint)");
      ema.model->to(device);
      average->load(*ema.model);
    }
  }

  std::vector<std::pair<std::string, torch::Tensor>> named;
  for (auto& p : model->named_parameters()) named.emplace_back(p.key(), p.value());
  Adam optimizer(named, {cfg.lr, 0.9, 0.999, 1e-8, cfg.weight_decay});
  if (!cfg.resume.empty() && !resumed.optimizer_state.empty()) {
    optimizer.load_state(resumed.optimizer_step, [&](const std::string& name, c10::IntArrayRef sizes) {
      auto it = resumed.optimizer_state.find(name);
      if (it == resumed.optimizer_state.end() || it->second.sizes() != sizes)
        throw std::runtime_error(cfg.resume + ": optimizer state '" + name + "' missing or mis-shaped");
      return it->second.to(device);
    });
  }

  RunFolder folder(cfg.out_dir, writes_files);
  TrainResult result;
  result.world_size = share.world;
  result.metrics_file = (fs::path(cfg.out_dir) / "metrics.jsonl").string();
  result.last_checkpoint = (fs::path(cfg.out_dir) / "last.safetensors").string();
  result.best_checkpoint = (fs::path(cfg.out_dir) / "best.safetensors").string();

  // Keep the history of the run being resumed, drop anything after its epoch.
  std::string history;
  result.best_val_loss = INFINITY;
  if (start_epoch > 0 && fs::exists(result.metrics_file)) {
    std::istringstream lines(read_file_text(result.metrics_file));
    for (std::string line; std::getline(lines, line);) {
      if (line.empty()) continue;
      Json row = Json::parse(line, result.metrics_file);
      if (row.at("epoch").as_int() > start_epoch) break;
      history += line + "\n";
      if (row.at("val_loss").as_number() < result.best_val_loss) {
        result.best_val_loss = row.at("val_loss").as_number();
        result.best_epoch = static_cast<int>(row.at("epoch").as_int());
      }
    }
  }

  const std::string config_text = config_json(cfg).dump();
  ProgressBar progress(cfg.epochs);
  // Whole batches only: the last one is completed with the epoch's first
  // images, so no step sees a batch of one (which BatchNorm cannot normalise)
  // and every rank of a process group takes the same number of steps.
  const int64_t n = train_split.size();
  const int64_t steps = steps_per_epoch(n, cfg.batch, share);
  const int64_t global_batch = static_cast<int64_t>(cfg.batch) * share.world;
  result.train_images = n;
  result.images_per_epoch = steps * global_batch;
  const auto run_start = Clock::now();
  int64_t images_seen = 0;

  const Augmenter augment = augmenter_for(train_split, spec, cfg.augment);
  for (int epoch = start_epoch; epoch < cfg.epochs; ++epoch) try {
    seed_epoch(cfg.seed, epoch, device);
    optimizer.set_lr(scheduled_lr(cfg, epoch));
    const auto epoch_start = Clock::now();
    auto order = torch::randperm(train_split.size(), torch::TensorOptions().device(device).dtype(torch::kInt64));
    torch::Tensor loss_sum = torch::zeros({}, torch::TensorOptions().device(device));
    BatchStream batches(
        train_split, augment, steps, [&](int64_t step) { return epoch_rows(order, step, cfg.batch, share); },
        BatchStream::background_for(device), share);
    for (int64_t step = 0; step < steps; ++step) {
      const Batch batch = batches.next();
      auto loss = training_step(*model, optimizer, batch, cfg.bf16, cfg.loss, sync.get());
      if (average) average->update();
      loss_sum += loss;
      images_seen += global_batch;

      // Reading the loss syncs the GPU: only a few times per epoch, and only for a bar someone sees.
      if (!cfg.quiet && progress.live() && (step % 8 == 7 || step + 1 == steps)) {
        const double elapsed = seconds_since(run_start);
        const double ips = images_seen / std::max(elapsed, 1e-9);
        const double remaining =
            (static_cast<double>(cfg.epochs - epoch) * steps - (step + 1.0)) * global_batch / std::max(ips, 1e-9);
        progress.update(epoch + 1, (step + 1.0) / steps, loss_sum.item<double>() / (step + 1.0), ips, remaining);
      }
    }
    // The mean over the epoch's batches (and ranks): every rank gets the same
    // number, so all stop together if it is not finite. Waits for the GPU.
    double train_loss = loss_sum.item<double>();
    if (group) train_loss = group->all_reduce_sum(std::vector<double>{train_loss})[0] / share.world;
    train_loss /= static_cast<double>(steps);
    const double train_s = seconds_since(epoch_start);
    check_finite(train_loss, epoch + 1, "training");
    // With a moving average, the average is what gets validated and kept as best.
    double live_val_loss = NAN;
    if (average) {
      live_val_loss = evaluate_loss(*model, val_split, std::max(cfg.batch, 64), cfg.loss, group.get());
      average->swap_in();
    }
    const double val_loss = evaluate_loss(*model, val_split, std::max(cfg.batch, 64), cfg.loss, group.get());
    if (average) average->swap_out();
    check_finite(val_loss, epoch + 1, "validation");
    // img/s of the training steps alone: validation is in `seconds` (the
    // epoch up to its writes), and on a GPU it can take longer than the steps.
    const double ips = static_cast<double>(result.images_per_epoch) / std::max(train_s, 1e-9);

    result.epochs_run = epoch + 1 - start_epoch;
    result.final_train_loss = train_loss;
    result.final_val_loss = val_loss;
    // A val split that was trained on cannot choose an epoch: the last one is kept.
    const bool best = cfg.train_on_val || val_loss < result.best_val_loss;
    Json row = Json::object();
    row["epoch"] = epoch + 1;
    row["train_loss"] = train_loss;
    row["val_loss"] = val_loss;
    if (average) row["val_loss_live"] = live_val_loss;
    row["lr"] = optimizer.lr();
    row["img_per_s"] = ips;
    const bool save_last = saves_last_after(epoch + 1, start_epoch, cfg.epochs, cfg.save_every);
    // With val trained on, best is the last epoch: written with last (it need not be written every epoch).
    const bool write_best = best && (!cfg.train_on_val || save_last);

    std::map<std::string, std::string> meta = {{"config", config_text},
                                               {"pack_schema", pack.schema},
                                               {"pack_source", pack.source},
                                               {"device", device.str()},
                                               {"train_loss", std::to_string(train_loss)},
                                               {"val_loss", std::to_string(val_loss)},
                                               {"torch_version", TORCH_VERSION},
                                               {"world_size", std::to_string(share.world)}};
    if (spec.output == OutputKind::Heatmaps) meta["heatmap_sigma"] = std::to_string(cfg.loss.sigma);
    if (pack.framing) write_framing(*pack.framing, meta);  // what `facekeys export` writes into the card
    if (best) {
      result.best_val_loss = val_loss;
      result.best_epoch = epoch + 1;
    }
    const double epoch_s = seconds_since(epoch_start);
    row["seconds"] = epoch_s;
    history += row.dump() + "\n";
    // In an order that a kill at any moment leaves resumable: the history
    // first (a resume drops rows past its checkpoint), then best and the
    // average, and last.safetensors, the resume point, last of all (a resume
    // from the one before trains this epoch again, to the same weights).
    if (writes_files) {
      folder.start(cfg.resume.empty(), config_json(cfg).dump(2) + "\n", cfg.quiet);
      write_file_atomic(result.metrics_file, history);
      if (average) average->swap_in();
      if (write_best) save_checkpoint(result.best_checkpoint, spec, *model, nullptr, epoch + 1, meta);
      if (average && save_last)
        save_checkpoint((fs::path(cfg.out_dir) / "ema.safetensors").string(), spec, *model, nullptr, epoch + 1, meta);
      if (average) average->swap_out();
      if (save_last)
        save_checkpoint(result.last_checkpoint, spec, *model, &optimizer, epoch + 1, meta,
                        average ? average->named() : std::vector<std::pair<std::string, torch::Tensor>>{});
    }
    result.images_per_s = ips;
    if (!cfg.quiet)
      progress.epoch_done(epoch + 1, train_loss, val_loss, ips, epoch_s * (cfg.epochs - epoch - 1), best);
  } catch (const CommunicationError& e) {
    rethrow_as_group_failure(e, *group, epoch + 1, cfg.dist_timeout_s);
  }
  // Rank 0 has written the last checkpoint before any rank leaves: a rank
  // that leaves first would make the others' last collective fail.
  if (group) group->barrier();
  return result;
}

}  // namespace facekeys
