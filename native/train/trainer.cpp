#include "train/trainer.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <stdexcept>

#include "facekeys/json.hpp"
#include "facekeys/safetensors.hpp"
#include "train/batch_stream.hpp"
#include "train/checkpoint.hpp"
#include "train/dataset.hpp"
#include "train/progress.hpp"
#include "train/run_folder.hpp"

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

// The safetensors file a fine-tune's weights are read from.
const std::string& init_weights_path(const TrainConfig& cfg) { return cfg.init_file.empty() ? cfg.init : cfg.init_file; }

// The square input side the init weights were trained at (input_w/input_h
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

Json config_json(const TrainConfig& c) {
  Json j = Json::object();
  j["model"] = c.model;
  j["pack"] = c.pack_path;
  j["epochs"] = c.epochs;
  j["batch"] = c.batch;
  j["lr"] = c.lr;
  j["weight_decay"] = c.weight_decay;
  j["schedule"] = schedule_name(c.schedule);
  j["warmup_epochs"] = c.warmup_epochs;
  j["seed"] = static_cast<double>(c.seed);
  j["device"] = device_choice_name(c.device);
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
  j["loss"] = model_spec(c.model).output == OutputKind::Heatmaps ? std::string("kl") : coord_loss_name(c.loss.coord_loss);
  j["sigma"] = c.loss.sigma;
  j["init"] = c.init;
  j["input_size"] = c.input_size;
  if (c.loss.coord_loss == CoordLoss::Wing) {
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
                           " (another rank stopped, crashed, or did not answer within the process group's timeout, " +
                           std::to_string(static_cast<int>(timeout_s)) + " s); no checkpoint of this epoch was "
                           "written: " + e.what());
}

void check_finite(double loss, int epoch, const std::string& where) {
  if (!std::isfinite(loss))
    throw std::runtime_error("epoch " + std::to_string(epoch) + ": " + where +
                             " loss is not finite (diverged: a lower learning rate may help); the last good checkpoint is kept");
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
  if (!(cfg.dist_timeout_s > 0)) throw std::invalid_argument("the process group's timeout must be positive (seconds)");
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
    throw std::runtime_error("bf16 autocast needs LibTorch 2.4 or later (this build has " TORCH_VERSION ")");
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

const char* schedule_name(Schedule s) {
  switch (s) {
    case Schedule::Constant: return "constant";
    case Schedule::Cosine: return "cosine";
    case Schedule::Step: return "step";
  }
  return "?";
}

Schedule schedule_from_name(const std::string& name) {
  for (Schedule s : {Schedule::Constant, Schedule::Cosine, Schedule::Step})
    if (name == schedule_name(s)) return s;
  throw std::invalid_argument("unknown schedule '" + name + "' (expected constant, cosine or step)");
}

double scheduled_lr(const TrainConfig& cfg, int epoch) {
  if (epoch < cfg.warmup_epochs) return cfg.lr * (epoch + 1) / (cfg.warmup_epochs + 1);
  const double t = static_cast<double>(epoch - cfg.warmup_epochs) / std::max(1, cfg.epochs - cfg.warmup_epochs);
  switch (cfg.schedule) {
    case Schedule::Constant: break;
    case Schedule::Cosine: return cfg.lr * (0.01 + 0.99 * 0.5 * (1.0 + std::cos(M_PI * t)));
    case Schedule::Step: return cfg.lr * (t < 0.5 ? 1.0 : t < 0.75 ? 0.1 : 0.01);
  }
  return cfg.lr;
}

namespace {

// ---- the steps of a run, in the order train() takes them ----------------------

// The config as the run uses it: a fine-tune's input size, and every value
// checked before any work.
TrainConfig settle_config(const TrainConfig& requested) {
  TrainConfig cfg = requested;
  if (cfg.resume.empty() && !cfg.init.empty() && cfg.input_size == 0) {
    // A fine-tune keeps the input size its weights were trained at (the shipped
    // ResNet18 reads 160x160, the architecture's default is 224x224).
    const int side = init_input_side(init_weights_path(cfg));
    if (side > 0 && side != model_spec(cfg.model).input_w) {
      cfg.input_size = side;
      if (!cfg.quiet)
        std::fprintf(stderr, "%s: training at the input size these weights were trained at, %dx%d (unless an input "
                             "size is given)\n",
                     cfg.init.c_str(), side, side);
    }
  }
  if (cfg.epochs < 1 || cfg.batch < 1) throw std::invalid_argument("epochs and batch must be positive");
  if (cfg.ema_decay < 0 || cfg.ema_decay >= 1)
    throw std::invalid_argument("the moving average's decay must be in [0, 1) (0: off; 0.999 averages about the "
                                "last 1000 steps)");
  if (std::error_code ec; std::filesystem::exists(cfg.out_dir, ec) && !std::filesystem::is_directory(cfg.out_dir, ec))
    throw std::runtime_error(cfg.out_dir + ": a file has this name; the run folder must be a folder");
  keypoint_loss(torch::zeros({1, 2}), torch::zeros({1, 1, 2}), cfg.loss);  // the loss's parameters
  return cfg;
}

// The same seed on every device the run uses.
void seed_run(std::uint64_t seed, const torch::Device& device) {
  torch::manual_seed(seed);
  if (device.is_cuda()) torch::cuda::manual_seed_all(seed);
}

// The network the run starts from: a new one of the zoo's (or the configured)
// input size, or the checkpoint it resumes.
struct StartingPoint {
  ModelSpec spec;
  std::shared_ptr<KeypointNet> model;
  int epoch = 0;       // epochs already trained
  Checkpoint resumed;  // empty for a new run
};

StartingPoint build_or_resume_model(const TrainConfig& cfg) {
  StartingPoint s;
  s.spec = model_spec(cfg.model);
  if (!cfg.resume.empty()) {
    s.resumed = load_checkpoint(cfg.resume);
    if (s.resumed.spec.arch != cfg.model)
      throw std::runtime_error(cfg.resume + ": checkpoint is a " + s.resumed.spec.arch + ", not a " + cfg.model);
    s.spec = s.resumed.spec;
    s.model = s.resumed.model;
    s.epoch = s.resumed.epoch;
  } else {
    if (cfg.input_size > 0) s.spec.input_w = s.spec.input_h = cfg.input_size;
    s.model = make_model(s.spec);
  }
  return s;
}

struct TrainingData {
  DeviceSplit train, val;
};

// The pack's splits on the device at the model's input size; with
// train_on_val the val split is trained on too.
TrainingData load_training_data(const Pack& pack, const TrainConfig& cfg, const ModelSpec& spec,
                                const torch::Device& device) {
  TrainingData d;
  d.val = load_split(pack, cfg.pack_path, Split::Val, spec, device);
  d.train = load_split(pack, cfg.pack_path, Split::Train, spec, device);
  if (cfg.train_on_val) d.train = concat_splits(d.train, d.val);
  return d;
}

// A new run's first weights: coordinate models start at the mean shape, then
// the init weights (matching names and shapes) win over it.
void initialise_weights(const TrainConfig& cfg, const ModelSpec& spec, KeypointNet& model,
                        const torch::Tensor& train_points) {
  if (spec.output == OutputKind::Coords) start_at_mean_shape(model, train_points);
  if (cfg.init.empty()) return;
  std::vector<std::string> notes;
  const int loaded = load_matching_weights(model, init_weights_path(cfg), &notes);
  if (!cfg.quiet) {
    for (const auto& note : notes) std::fprintf(stderr, "warning: %s: %s\n", cfg.init.c_str(), note.c_str());
    std::fprintf(stderr, "%s: loaded %d tensors\n", cfg.init.c_str(), loaded);
  }
}

// In a process group every rank starts from rank 0's weights and buffers (as
// DDP; BatchNorm's running statistics then follow each rank's own batches),
// and the gradients are averaged from then on. Null without a group.
std::unique_ptr<GradientSync> share_starting_weights(ProcessGroup* group, KeypointNet& model) {
  if (!group) return nullptr;
  std::vector<torch::Tensor> tensors;
  for (auto& [name, t] : named_tensors(model)) tensors.push_back(t);
  group->broadcast_from_rank0(tensors);
  std::vector<torch::Tensor> params;
  for (auto& p : model.parameters()) params.push_back(p);
  return std::make_unique<GradientSync>(*group, params);
}

// Adam (AdamW with weight decay) over the model's parameters; a resumed run
// continues the optimiser state saved in its checkpoint.
std::unique_ptr<Adam> make_optimizer(const TrainConfig& cfg, KeypointNet& model, const Checkpoint& resumed,
                                     const torch::Device& device) {
  std::vector<std::pair<std::string, torch::Tensor>> named;
  for (auto& p : model.named_parameters()) named.emplace_back(p.key(), p.value());
  auto optimizer = std::make_unique<Adam>(named, Adam::Options{cfg.lr, 0.9, 0.999, 1e-8, cfg.weight_decay});
  if (!cfg.resume.empty() && !resumed.optimizer_state.empty()) {
    optimizer->load_state(resumed.optimizer_step, [&](const std::string& name, c10::IntArrayRef sizes) {
      auto it = resumed.optimizer_state.find(name);
      if (it == resumed.optimizer_state.end() || it->second.sizes() != sizes)
        throw std::runtime_error(cfg.resume + ": optimizer state '" + name + "' missing or mis-shaped");
      return it->second.to(device);
    });
  }
  return optimizer;
}

// One epoch's losses: the training steps' mean, and the validation loss (of
// the moving average when there is one; live_val_loss is then the live weights').
struct EpochLosses {
  double train = 0, val = 0, live_val = NAN;
  double train_s = 0;  // seconds of the training steps alone
};

// The epochs of a run over what the steps above set up.
class EpochLoop {
 public:
  EpochLoop(const TrainConfig& cfg, const Pack& pack, const StartingPoint& start, const TrainingData& data,
            const torch::Device& device, ProcessGroup* group, GradientSync* sync, WeightAverage* average,
            Adam& optimizer, RunFolder& folder)
      : cfg_(cfg), pack_(pack), spec_(start.spec), model_(*start.model), start_epoch_(start.epoch), data_(data),
        device_(device), group_(group), sync_(sync), average_(average), optimizer_(optimizer), folder_(folder),
        share_{group ? group->rank() : 0, group ? group->size() : 1}, progress_(cfg.epochs),
        augment_(augmenter_for(data.train, spec_, cfg.augment)), config_text_(config_json(cfg).dump()),
        config_file_(config_json(cfg).dump(2) + "\n") {
    result_.world_size = share_.world;
    result_.metrics_file = folder.metrics_file();
    result_.last_checkpoint = folder.last_checkpoint();
    result_.best_checkpoint = folder.best_checkpoint();
    // Keep the history of the run being resumed, drop anything after its epoch.
    RunHistory h = read_run_history(result_.metrics_file, start_epoch_);
    history_ = std::move(h.rows);
    result_.best_val_loss = h.best_val_loss;
    result_.best_epoch = h.best_epoch;
    // Whole batches only: the last one is completed with the epoch's first
    // images, so no step sees a batch of one (which BatchNorm cannot normalise)
    // and every rank of a process group takes the same number of steps.
    steps_ = steps_per_epoch(data.train.size(), cfg.batch, share_);
    global_batch_ = static_cast<int64_t>(cfg.batch) * share_.world;
    result_.train_images = data.train.size();
    result_.images_per_epoch = steps_ * global_batch_;
    run_start_ = Clock::now();
  }

  // Shuffles, augments and takes the epoch's optimiser steps; the mean loss
  // over its batches (and ranks): every rank gets the same number, so all stop
  // together if it is not finite.
  EpochLosses train_epoch(int epoch) {
    seed_epoch(cfg_.seed, epoch, device_);
    optimizer_.set_lr(scheduled_lr(cfg_, epoch));
    epoch_start_ = Clock::now();
    auto order = torch::randperm(data_.train.size(), torch::TensorOptions().device(device_).dtype(torch::kInt64));
    torch::Tensor loss_sum = torch::zeros({}, torch::TensorOptions().device(device_));
    BatchStream batches(
        data_.train, augment_, steps_, [&](int64_t step) { return epoch_rows(order, step, cfg_.batch, share_); },
        BatchStream::background_for(device_), share_);
    for (int64_t step = 0; step < steps_; ++step) {
      const Batch batch = batches.next();
      auto loss = training_step(model_, optimizer_, batch, cfg_.bf16, cfg_.loss, sync_);
      if (average_) average_->update();
      loss_sum += loss;
      images_seen_ += global_batch_;
      show_progress(epoch, step, loss_sum);
    }
    EpochLosses e;
    e.train = loss_sum.item<double>();  // waits for the GPU
    if (group_) e.train = group_->all_reduce_sum(std::vector<double>{e.train})[0] / share_.world;
    e.train /= static_cast<double>(steps_);
    e.train_s = seconds_since(epoch_start_);
    check_finite(e.train, epoch + 1, "training");
    return e;
  }

  // With a moving average, the average is what gets validated and kept as best.
  void validate(int epoch, EpochLosses& e) {
    const int batch = std::max(cfg_.batch, 64);
    if (average_) {
      e.live_val = evaluate_loss(model_, data_.val, batch, cfg_.loss, group_);
      average_->swap_in();
    }
    e.val = evaluate_loss(model_, data_.val, batch, cfg_.loss, group_);
    if (average_) average_->swap_out();
    check_finite(e.val, epoch + 1, "validation");
  }

  // The epoch's metrics row and checkpoints (RunFolder::write_epoch), and its line.
  void record(int epoch, const EpochLosses& e) {
    // img/s of the training steps alone: validation is in `seconds` (the
    // epoch up to its writes), and on a GPU it can take longer than the steps.
    const double ips = static_cast<double>(result_.images_per_epoch) / std::max(e.train_s, 1e-9);
    result_.epochs_run = epoch + 1 - start_epoch_;
    result_.final_train_loss = e.train;
    result_.final_val_loss = e.val;
    // A val split that was trained on cannot choose an epoch: the last one is kept.
    const bool best = cfg_.train_on_val || e.val < result_.best_val_loss;
    Json row = Json::object();
    row["epoch"] = epoch + 1;
    row["train_loss"] = e.train;
    row["val_loss"] = e.val;
    if (average_) row["val_loss_live"] = e.live_val;
    row["lr"] = optimizer_.lr();
    row["img_per_s"] = ips;
    RunFolder::EpochWrite w;
    w.epoch = epoch + 1;
    w.write_last = saves_last_after(epoch + 1, start_epoch_, cfg_.epochs, cfg_.save_every);
    // With val trained on, best is the last epoch: written with last (it need not be written every epoch).
    w.write_best = best && (!cfg_.train_on_val || w.write_last);
    const std::map<std::string, std::string> meta = checkpoint_metadata(e);
    if (best) {
      result_.best_val_loss = e.val;
      result_.best_epoch = epoch + 1;
    }
    const double epoch_s = seconds_since(epoch_start_);
    row["seconds"] = epoch_s;
    history_ += row.dump() + "\n";
    w.history = &history_;
    w.config = &config_file_;
    w.replace_previous = cfg_.resume.empty();
    w.metadata = &meta;
    folder_.write_epoch(w, spec_, model_, optimizer_, average_, cfg_.quiet);
    result_.images_per_s = ips;
    if (!cfg_.quiet)
      progress_.epoch_done(epoch + 1, e.train, e.val, ips, epoch_s * (cfg_.epochs - epoch - 1), best);
  }

  const TrainResult& result() const { return result_; }

 private:
  // Reading the loss syncs the GPU: only a few times per epoch, and only for a bar someone sees.
  void show_progress(int epoch, int64_t step, const torch::Tensor& loss_sum) {
    if (cfg_.quiet || !progress_.live() || !(step % 8 == 7 || step + 1 == steps_)) return;
    const double elapsed = seconds_since(run_start_);
    const double ips = images_seen_ / std::max(elapsed, 1e-9);
    const double remaining =
        (static_cast<double>(cfg_.epochs - epoch) * steps_ - (step + 1.0)) * global_batch_ / std::max(ips, 1e-9);
    progress_.update(epoch + 1, (step + 1.0) / steps_, loss_sum.item<double>() / (step + 1.0), ips, remaining);
  }

  // What every checkpoint of the epoch records besides the weights: the
  // config, the data (and the crop it was made with, for the model card), the
  // machine and the losses.
  std::map<std::string, std::string> checkpoint_metadata(const EpochLosses& e) const {
    std::map<std::string, std::string> meta = {{"config", config_text_},
                                               {"pack_schema", pack_.schema},
                                               {"pack_source", pack_.source},
                                               {"device", device_.str()},
                                               {"train_loss", std::to_string(e.train)},
                                               {"val_loss", std::to_string(e.val)},
                                               {"torch_version", TORCH_VERSION},
                                               {"world_size", std::to_string(share_.world)}};
    if (spec_.output == OutputKind::Heatmaps) meta["heatmap_sigma"] = std::to_string(cfg_.loss.sigma);
    if (pack_.framing) write_framing(*pack_.framing, meta);  // what `facekeys export` writes into the card
    return meta;
  }

  const TrainConfig& cfg_;
  const Pack& pack_;
  const ModelSpec& spec_;
  KeypointNet& model_;
  const int start_epoch_;
  const TrainingData& data_;
  const torch::Device device_;
  ProcessGroup* group_;
  GradientSync* sync_;
  WeightAverage* average_;
  Adam& optimizer_;
  RunFolder& folder_;
  const BatchShare share_;
  ProgressBar progress_;
  const Augmenter augment_;
  const std::string config_text_, config_file_;
  TrainResult result_;
  std::string history_;
  int64_t steps_ = 0, global_batch_ = 0, images_seen_ = 0;
  Clock::time_point run_start_, epoch_start_;
};

}  // namespace

TrainResult train(const TrainConfig& requested) {
  TrainConfig cfg = settle_config(requested);
  const torch::Device device = device_for_rank(pick_device(cfg.device), cfg.dist);
  // Data parallel: join the group; rank 0 alone writes files and reports.
  std::unique_ptr<ProcessGroup> group;
  if (cfg.dist.joins_group(cfg.dist_backend)) group = join_training_group(cfg, device);
  seed_run(cfg.seed, device);

  const Pack pack = read_pack(cfg.pack_path);
  StartingPoint start = build_or_resume_model(cfg);
  const TrainingData data = load_training_data(pack, cfg, start.spec, device);
  if (cfg.resume.empty()) initialise_weights(cfg, start.spec, *start.model, data.train.points);
  start.model->to(device);
  start.model->train();
  const std::unique_ptr<GradientSync> sync = share_starting_weights(group.get(), *start.model);
  const std::unique_ptr<WeightAverage> average =
      start_weight_average(*start.model, cfg.ema_decay, start.resumed, cfg.resume, start.epoch, device);
  const std::unique_ptr<Adam> optimizer = make_optimizer(cfg, *start.model, start.resumed, device);

  RunFolder folder(cfg.out_dir, !group || group->rank() == 0);
  EpochLoop loop(cfg, pack, start, data, device, group.get(), sync.get(), average.get(), *optimizer, folder);
  for (int epoch = start.epoch; epoch < cfg.epochs; ++epoch) try {
    EpochLosses losses = loop.train_epoch(epoch);
    loop.validate(epoch, losses);
    loop.record(epoch, losses);
  } catch (const CommunicationError& e) {
    rethrow_as_group_failure(e, *group, epoch + 1, cfg.dist_timeout_s);
  }
  // Rank 0 has written the last checkpoint before any rank leaves: a rank
  // that leaves first would make the others' last collective fail.
  if (group) group->barrier();
  return loop.result();
}

}  // namespace facekeys
