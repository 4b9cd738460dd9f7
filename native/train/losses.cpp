#include "train/losses.hpp"

#include <cmath>
#include <stdexcept>

#include "facekeys/heatmap.hpp"

namespace facekeys {

const char* coord_loss_name(CoordLoss loss) {
  switch (loss) {
    case CoordLoss::Mse: return "mse";
    case CoordLoss::L1: return "l1";
    case CoordLoss::SmoothL1: return "smoothl1";
    case CoordLoss::Wing: return "wing";
  }
  return "?";
}

CoordLoss coord_loss_from_name(const std::string& name) {
  for (CoordLoss l : {CoordLoss::Mse, CoordLoss::L1, CoordLoss::SmoothL1, CoordLoss::Wing})
    if (name == coord_loss_name(l)) return l;
  throw std::invalid_argument("unknown loss '" + name + "' (expected mse, l1, smoothl1 or wing)");
}

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
  switch (loss.coord_loss) {
    case CoordLoss::Mse: return torch::mse_loss(p, points);
    case CoordLoss::L1: return torch::l1_loss(p, points);
    case CoordLoss::SmoothL1: return torch::smooth_l1_loss(p, points, at::Reduction::Mean, 0.01);
    case CoordLoss::Wing: return wing_loss(p, points, loss.wing_w, loss.wing_eps);
  }
  throw std::invalid_argument("unknown coordinate loss");
}

}  // namespace facekeys
