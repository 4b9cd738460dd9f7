// Adam / AdamW with its state in plain named tensors.
//
// Why not torch::optim::Adam: its state is keyed by TensorImpl pointers and
// its layout changed between LibTorch 1.13 and 2.x, so it cannot be written to
// a version-independent checkpoint. This one is the same algorithm
// (Kingma & Ba, with PyTorch's bias correction; decoupled decay for AdamW)
// and its moments save and load by parameter name.
#pragma once

#include <torch/torch.h>

#include <cmath>
#include <string>
#include <vector>

namespace facekeys {

class Adam {
public:
  struct Options {
    double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
    double weight_decay = 0.0;  // decoupled (AdamW) when > 0
  };

  Adam(std::vector<std::pair<std::string, torch::Tensor>> named_params, Options opt)
      : opt_(opt), params_(std::move(named_params)) {
    for (auto& p : params_) {
      exp_avg_.push_back(torch::zeros_like(p.second));
      exp_avg_sq_.push_back(torch::zeros_like(p.second));
    }
  }

  void set_lr(double lr) { opt_.lr = lr; }
  double lr() const { return opt_.lr; }
  std::int64_t steps() const { return step_; }

  void zero_grad() {
    for (auto& p : params_)
      if (p.second.grad().defined()) p.second.grad().zero_();
  }

  void step() {
    torch::NoGradGuard no_grad;
    ++step_;
    const double bc1 = 1.0 - std::pow(opt_.beta1, static_cast<double>(step_));
    const double bc2 = 1.0 - std::pow(opt_.beta2, static_cast<double>(step_));
    for (std::size_t i = 0; i < params_.size(); ++i) {
      auto& p = params_[i].second;
      if (!p.grad().defined()) continue;
      const auto& g = p.grad();
      if (opt_.weight_decay > 0) p.mul_(1.0 - opt_.lr * opt_.weight_decay);
      exp_avg_[i].mul_(opt_.beta1).add_(g, 1.0 - opt_.beta1);
      exp_avg_sq_[i].mul_(opt_.beta2).addcmul_(g, g, 1.0 - opt_.beta2);
      auto denom = (exp_avg_sq_[i].sqrt() / std::sqrt(bc2)).add_(opt_.eps);
      p.addcdiv_(exp_avg_[i], denom, -opt_.lr / bc1);
    }
  }

  // State as (name, tensor) pairs: "adam.m.<param>", "adam.v.<param>".
  std::vector<std::pair<std::string, torch::Tensor>> state() const {
    std::vector<std::pair<std::string, torch::Tensor>> out;
    for (std::size_t i = 0; i < params_.size(); ++i) {
      out.emplace_back("adam.m." + params_[i].first, exp_avg_[i]);
      out.emplace_back("adam.v." + params_[i].first, exp_avg_sq_[i]);
    }
    return out;
  }

  // Restores moments by name; a missing or mis-shaped entry throws.
  template <class Lookup>
  void load_state(std::int64_t step, Lookup&& lookup) {
    torch::NoGradGuard no_grad;
    for (std::size_t i = 0; i < params_.size(); ++i) {
      exp_avg_[i].copy_(lookup("adam.m." + params_[i].first, exp_avg_[i].sizes()));
      exp_avg_sq_[i].copy_(lookup("adam.v." + params_[i].first, exp_avg_sq_[i].sizes()));
    }
    step_ = step;
  }

private:
  Options opt_;
  std::vector<std::pair<std::string, torch::Tensor>> params_;
  std::vector<torch::Tensor> exp_avg_, exp_avg_sq_;
  std::int64_t step_ = 0;
};

}  // namespace facekeys
