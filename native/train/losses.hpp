// The training losses: what a keypoint model's output is compared with.
//
// Coordinate models ([B, 2K] normalised (u, v)): the coordinate loss on
// normalised coordinates, MSE (the seed's), L1, smooth L1 (Huber with beta
// 0.01, i.e. quadratic below ~2 px at 224) or Wing (Feng et al., CVPR 2018:
// log-shaped below wing_w, so small and medium errors weigh more than under
// L1; wing_w and wing_eps are fractions of the crop side, 0.05 and 0.01 are
// the paper's w = 10, eps = 2 px at a 200 px crop). Heatmap models ([B, K, h,
// w] logits): KL(target || spatial softmax of each map) with Gaussian targets
// of `sigma` heatmap cells, normalised to sum to 1 (gaussian_heatmaps'
// HeatmapNorm::Sum), built on the device from the augmented keypoints.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace facekeys {

enum class CoordLoss { Mse, L1, SmoothL1, Wing };
const char* coord_loss_name(CoordLoss loss);  // "mse" | "l1" | "smoothl1" | "wing" (config.json)
// Throws std::invalid_argument("unknown loss '<name>' (expected ...)").
CoordLoss coord_loss_from_name(const std::string& name);

struct LossConfig {
  CoordLoss coord_loss = CoordLoss::Mse;
  double wing_w = 0.05, wing_eps = 0.01;
  double sigma = 1.5;
};

// Gaussian heatmap targets on points' device: points [B, K, 2] normalised
// (u, v) of the model input -> [B, K, height, width], each map summing to 1
// (or all zeros when less than kHeatmapMinVisibleMass of the Gaussian falls on
// the map, or the point is NaN). Same convention and values as the core's
// gaussian_heatmaps(..., HeatmapNorm::Sum) at x_hm = u * width - 0.5,
// y_hm = v * height - 0.5 (heatmap.hpp: cell centres at integers).
torch::Tensor heatmap_targets(const torch::Tensor& points, int64_t height, int64_t width, double sigma);

// Mean over maps of KL(target || softmax(logits over the map's cells));
// logits and targets [B, K, H, W]. An all-zero target map contributes 0.
torch::Tensor heatmap_kl_loss(const torch::Tensor& logits, const torch::Tensor& targets);

// Mean over elements of wing(|pred - target|): w ln(1 + x/eps) for x < w, x - C
// above (C makes it continuous). Throws std::invalid_argument unless w, eps > 0.
torch::Tensor wing_loss(const torch::Tensor& pred, const torch::Tensor& target, double w, double eps);

// The training loss for a model output: [B, K, H, W] heatmap logits -> KL
// against heatmap_targets; [B, 2K] coordinates -> loss.coord_loss.
torch::Tensor keypoint_loss(const torch::Tensor& pred, const torch::Tensor& points, const LossConfig& loss);

}  // namespace facekeys
