#include "augment.hpp"

#include <cmath>

namespace facekeys {
namespace {

// Forward map in centred pixel space q = x - (W-1)/2: q' = s R(angle) F q + t,
// returned as A [B,2,2] and t [B,2].
std::pair<torch::Tensor, torch::Tensor> centred_forward(const AugmentParams& p) {
  auto rad = p.angle_deg * (M_PI / 180.0);
  auto c = torch::cos(rad) * p.scale, s = torch::sin(rad) * p.scale;
  auto fx = 1.0 - 2.0 * p.flip;  // -1 mirrors x before rotating
  auto row0 = torch::stack({c * fx, -s}, 1);
  auto row1 = torch::stack({s * fx, c}, 1);
  auto A = torch::stack({row0, row1}, 1);  // [B,2,2]
  auto t = torch::stack({p.tx_px, p.ty_px}, 1);
  return {A, t};
}

// [a, b] as a tensor made on `o`'s device. torch::tensor({a, b}, o) would build
// it on the CPU and copy it over, and that copy waits for the GPU every step.
torch::Tensor pair_on(double a, double b, const torch::TensorOptions& o) {
  auto v = torch::full({2}, a, o);
  v.select(0, 1).fill_(b);
  return v;
}

// Inverse of a batch of 2x2 matrices [B,2,2] in closed form: torch::inverse
// reads its error flags back to the CPU (a GPU wait per step). A = s R F is
// never singular (scale > 0).
torch::Tensor inverse_2x2(const torch::Tensor& A) {
  auto a = A.select(1, 0).select(1, 0), b = A.select(1, 0).select(1, 1);
  auto c = A.select(1, 1).select(1, 0), d = A.select(1, 1).select(1, 1);
  auto adj = torch::stack({torch::stack({d, -b}, 1), torch::stack({-c, a}, 1)}, 1);
  return adj / (a * d - b * c).view({-1, 1, 1});
}

}  // namespace

AugmentParams sample_augment_params(int64_t b, int width, const AugmentConfig& cfg, const torch::Device& device) {
  if (!cfg.enabled) return identity_augment_params(b, device);
  // One [7, B] block filled row by row in place: 7 kernels a batch instead of
  // three per parameter (rand, scale, shift), which matters where a training
  // step is a few milliseconds of kernel launches (small batches on a GPU).
  auto rows = torch::empty({7, b}, torch::TensorOptions().device(device));
  const double shift = cfg.translate * width;
  rows[0].uniform_(-cfg.rotate_deg, cfg.rotate_deg);
  rows[1].uniform_(1.0 - cfg.scale, 1.0 + cfg.scale);
  rows[2].uniform_(-shift, shift);
  rows[3].uniform_(-shift, shift);
  rows[4].bernoulli_(cfg.flip_prob);
  rows[5].uniform_(-cfg.brightness, cfg.brightness);
  rows[6].uniform_(1.0 - cfg.contrast, 1.0 + cfg.contrast);
  return {rows[0], rows[1], rows[2], rows[3], rows[4], rows[5], rows[6]};
}

AugmentParams identity_augment_params(int64_t b, const torch::Device& device) {
  auto o = torch::TensorOptions().device(device);
  return {torch::zeros({b}, o), torch::ones({b}, o), torch::zeros({b}, o), torch::zeros({b}, o),
          torch::zeros({b}, o), torch::zeros({b}, o), torch::ones({b}, o)};
}

torch::Tensor augment_pixel_matrices(const AugmentParams& p, int width, int height) {
  auto [A, t] = centred_forward(p);
  // x' = A (x - c) + c + t  =>  offset = c + t - A c
  auto c = pair_on((width - 1) / 2.0, (height - 1) / 2.0, A.options());
  auto offset = c + t - torch::matmul(A, c);
  return torch::cat({A, offset.unsqueeze(2)}, 2);
}

Batch apply_augment(const Batch& in, const AugmentParams& p, const torch::Tensor& flip_permutation) {
  const auto H = in.images.size(2), W = in.images.size(3);
  auto [A, t] = centred_forward(p);
  // S maps grid coordinates g (align_corners=false) to centred pixels: q = S g.
  auto S = pair_on(W / 2.0, H / 2.0, A.options());
  auto Ainv = inverse_2x2(A);

  // grid_sample wants destination -> source in g space: g_src = S^-1 A^-1 (S g_dst - t).
  auto theta_lin = Ainv * S.view({1, 1, 2}) / S.view({1, 2, 1});
  auto theta_off = -torch::matmul(Ainv, t.unsqueeze(2)).squeeze(2) / S.view({1, 2});
  auto theta = torch::cat({theta_lin, theta_off.unsqueeze(2)}, 2);
  auto grid = torch::nn::functional::affine_grid(theta, in.images.sizes(), /*align_corners=*/false);
  auto images = torch::nn::functional::grid_sample(
      in.images, grid,
      torch::nn::functional::GridSampleFuncOptions().mode(torch::kBilinear).padding_mode(torch::kBorder).align_corners(false));

  // Photometric jitter, per sample, around each image's mean.
  auto mean = images.mean({1, 2, 3}, /*keepdim=*/true);
  images = ((images - mean) * p.contrast.view({-1, 1, 1, 1}) + mean + p.brightness.view({-1, 1, 1, 1})).clamp(0.0, 1.0);

  // Points: u -> q = S (2u - 1) -> A q + t -> u'.
  auto q = (in.points * 2.0 - 1.0) * S;                            // [B,K,2]
  auto q2 = torch::matmul(q, A.transpose(1, 2)) + t.unsqueeze(1);  // [B,K,2]
  auto points = (q2 / S + 1.0) * 0.5;
  auto relabelled = points.index_select(1, flip_permutation.to(points.device()));
  points = torch::where(p.flip.view({-1, 1, 1}) > 0.5, relabelled, points);
  return {images, points};
}

}  // namespace facekeys
