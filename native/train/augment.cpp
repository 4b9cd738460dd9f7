#include "train/augment.hpp"

#include <cmath>
#include <vector>

#include "facekeys/geometry.hpp"

namespace facekeys {
namespace {

// Forward map in centred pixel space q = x - (W-1)/2: q' = A q + t with
// A = s R(angle) F ([B,2,2]; F = diag(-1, 1) mirrors x first when flipped)
// and t [B,2]. One scale for both axes: Augmenter::apply inverts A as
// A^T / s^2, which holds only while A^T A = s^2 I (no shear, no aspect change).
std::pair<torch::Tensor, torch::Tensor> similarity(const AugmentParams& p) {
  const int64_t b = p.scale.size(0);
  auto rad = p.angle_deg * (M_PI / 180.0);
  auto c = torch::cos(rad), s = torch::sin(rad);
  auto rotation = torch::stack({c, -s, s, c}, 1).view({b, 2, 2});
  auto flip_sign = torch::rsub(p.flip, 1.0, 2.0);  // 1 - 2 flip: -1 mirrors
  auto column_scale = torch::stack({p.scale * flip_sign, p.scale}, 1).view({b, 1, 2});
  auto t = torch::stack({p.tx_px, p.ty_px}, 1);
  return {rotation * column_scale, t};
}

// A small constant tensor, copied to the device once (an Augmenter's life),
// not per batch: a copy from pageable memory waits for the GPU.
torch::Tensor constant(std::vector<double> values, std::vector<int64_t> shape, const torch::Device& device) {
  return torch::tensor(values, torch::kFloat64).to(torch::kFloat32).view(shape).to(device);
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
  auto [A, t] = similarity(p);
  // x' = A (x - c) + c + t  =>  offset = c + t - A c
  auto c = constant({(width - 1) / 2.0, (height - 1) / 2.0}, {2, 1}, A.device());
  auto offset = c.squeeze(1) + t - torch::matmul(A, c).squeeze(2);
  return torch::cat({A, offset.unsqueeze(2)}, 2);
}

Augmenter::Augmenter(const AugmentConfig& cfg, int64_t height, int64_t width, const torch::Tensor& flip_permutation,
                     const torch::Device& device)
    : cfg_(cfg), height_(height), width_(width), flip_permutation_(flip_permutation.to(device)) {
  const double W = static_cast<double>(width), H = static_cast<double>(height);
  // grid_sample's coordinates of the output pixel centres, rows in raster
  // order: with align_corners=false they are g = 2u - 1 for the shared core's
  // normalised u of the pixel centre (facekeys/geometry.hpp).
  const auto n = static_cast<std::size_t>(height * width);
  std::vector<double> base(3 * n);
  for (int64_t y = 0; y < height; ++y)
    for (int64_t x = 0; x < width; ++x) {
      const auto i = static_cast<std::size_t>(y * width + x);
      const Point2f u = to_normalized({static_cast<float>(x), static_cast<float>(y)}, static_cast<int>(width),
                                      static_cast<int>(height));
      base[i] = 2.0 * u.x - 1.0;
      base[n + i] = 2.0 * u.y - 1.0;
      base[2 * n + i] = 1.0;
    }
  grid_base_ = constant(std::move(base), {3, height * width}, device);
  // With S = diag(W/2, H/2) (normalised -> centred pixels) and A^-1 = A^T / s^2
  // (A is s times a rotation and a mirror), grid_sample's destination -> source
  // matrix S^-1 A^-1 [S | -t] is [A^T | A^T t] / s^2, times this elementwise.
  theta_scale_ = constant({1.0, H / W, -2.0 / W, W / H, 1.0, -2.0 / H}, {2, 3}, device);
  size_ = constant({W, H}, {2}, device);
  neg_half_size_ = constant({-W / 2.0, -H / 2.0}, {2}, device);
  inv_size_ = constant({1.0 / W, 1.0 / H}, {2}, device);
  half_ = constant({0.5, 0.5}, {2}, device);
}

AugmentParams Augmenter::sample(int64_t batch) const {
  return sample_augment_params(batch, static_cast<int>(width_), cfg_, grid_base_.device());
}

Batch Augmenter::apply(const Batch& in, const AugmentParams& p) const {
  const int64_t b = in.images.size(0);
  TORCH_CHECK(in.images.size(2) == height_ && in.images.size(3) == width_, "Augmenter made for ", width_, "x", height_,
              " images was given ", in.images.size(3), "x", in.images.size(2));
  auto [A, t] = similarity(p);
  auto At = A.transpose(1, 2);

  // Pixels: for each output pixel, where to sample the input.
  auto theta = torch::cat({At, torch::bmm(At, t.unsqueeze(2))}, 2) * theta_scale_ * p.scale.pow(-2).view({b, 1, 1});
  auto grid = torch::matmul(theta, grid_base_).transpose(1, 2).view({b, height_, width_, 2});
  auto images = torch::nn::functional::grid_sample(
      in.images, grid,
      torch::nn::functional::GridSampleFuncOptions().mode(torch::kBilinear).padding_mode(torch::kBorder).align_corners(false));

  // Photometric jitter, per sample, around each image's mean m:
  // (x - m) c + m + b  =  x c + (b + m (1 - c)).
  auto contrast = p.contrast.view({b, 1, 1, 1});
  auto mean = images.mean({1, 2, 3}, /*keepdim=*/true);
  auto offset = torch::addcmul(p.brightness.view({b, 1, 1, 1}), mean, torch::rsub(contrast, 1.0));
  images = torch::addcmul(offset, images, contrast).clamp_(0.0, 1.0);

  // Points: u -> centred pixels q = u (W, H) - (W, H) / 2 -> q A^T + t -> u'.
  auto q = torch::addcmul(neg_half_size_, in.points, size_);  // [B,K,2]
  auto moved = torch::addcmul(half_, torch::baddbmm(t.unsqueeze(1), q, At), inv_size_);
  auto relabelled = moved.index_select(1, flip_permutation_);
  return {images, torch::where(p.flip.view({b, 1, 1}) > 0.5, relabelled, moved)};
}

Batch apply_augment(const Batch& in, const AugmentParams& p, const torch::Tensor& flip_permutation) {
  return Augmenter(AugmentConfig{}, in.images.size(2), in.images.size(3), flip_permutation, in.images.device())
      .apply(in, p);
}

}  // namespace facekeys
