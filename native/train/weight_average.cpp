#include "train/weight_average.hpp"

#include <filesystem>
#include <stdexcept>

#include "train/checkpoint.hpp"

namespace facekeys {

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

std::unique_ptr<WeightAverage> start_weight_average(torch::nn::Module& model, double decay,
                                                    const Checkpoint& resumed, const std::string& resume_path,
                                                    int start_epoch, const torch::Device& device) {
  namespace fs = std::filesystem;
  if (!(decay > 0)) return nullptr;
  auto average = std::make_unique<WeightAverage>(model, decay);
  // A resumed run continues the average saved in its checkpoint (or, from
  // runs of before that, beside it).
  const fs::path saved = fs::path(resume_path).parent_path() / "ema.safetensors";
  if (!resumed.average.empty()) {
    std::map<std::string, torch::Tensor> on_device;
    for (const auto& [name, t] : resumed.average) on_device[name] = t.to(device);
    average->load(on_device);
  } else if (!resume_path.empty() && fs::exists(saved)) {
    Checkpoint ema = load_checkpoint(saved.string());
    if (ema.epoch != start_epoch)
      throw std::runtime_error(saved.string() + ": moving average is of epoch " + std::to_string(ema.epoch) +
                               ", the checkpoint of epoch " + std::to_string(start_epoch) +
                               " (delete it to start the average again from the checkpoint)");
    ema.model->to(device);
    average->load(*ema.model);
  }
  return average;
}

}  // namespace facekeys
