// Batched data augmentation on the training device.
//
// One random similarity transform per sample (rotation, scale, translation,
// optional horizontal flip) moves pixels and keypoints together; photometric
// jitter changes brightness and contrast. Everything is tensor ops over the
// whole batch: no per-sample CPU work per step.
//
// Conventions (docs/CONVENTIONS.md): keypoints are normalised (u, v) with
// u = (x + 0.5) / W, which is exactly grid_sample's align_corners=false
// coordinate g = 2u - 1, so the same matrix serves pixels and points.
#pragma once

#include <torch/torch.h>

namespace facekeys {

struct AugmentConfig {
  bool enabled = true;
  double rotate_deg = 15.0;   // uniform in [-r, r]
  double translate = 10.0 / 240.0;  // fraction of the image width (10 px at 240x180)
  double scale = 0.05;        // uniform in [1-s, 1+s]
  double flip_prob = 0.5;
  double brightness = 0.15;   // additive, in [0,1] intensity units
  double contrast = 0.2;      // multiplicative around the image mean, in [1-c, 1+c]
};

// Per-sample parameters, each a [B] tensor on the batch's device.
struct AugmentParams {
  torch::Tensor angle_deg, scale, tx_px, ty_px, flip, brightness, contrast;
};

AugmentParams sample_augment_params(int64_t batch, int width, const AugmentConfig& cfg, const torch::Device& device);
AugmentParams identity_augment_params(int64_t batch, const torch::Device& device);

// The 2x3 matrices (pixel coordinates, pixel centres at integers) that map
// source pixels to augmented pixels: [B, 2, 3]. Exposed so tests can compare
// against the shared core's warp_affine.
torch::Tensor augment_pixel_matrices(const AugmentParams& p, int width, int height);

struct Batch {
  torch::Tensor images;  // [B, C, H, W] float in [0, 1]
  torch::Tensor points;  // [B, K, 2] normalised
};

// Applies the transform to images and points; flipped samples are relabelled
// with flip_permutation ([K] int64: index of the point that point i becomes).
Batch apply_augment(const Batch& in, const AugmentParams& p, const torch::Tensor& flip_permutation);

}  // namespace facekeys
