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

// The augmentation of one image size on one device. What does not change from
// batch to batch (the output pixels' sampling grid, the pixel <-> normalised
// scales) is made once here, so that gathering and augmenting a batch is 38
// small kernels: on a GPU at small batches each one is a launch that the
// training step competes with (docs/BENCHMARKS.md).
class Augmenter {
public:
  // flip_permutation: [K] int64, the index of the point that point i becomes
  // when the image is mirrored.
  Augmenter(const AugmentConfig& cfg, int64_t height, int64_t width, const torch::Tensor& flip_permutation,
            const torch::Device& device);

  // Random parameters for a batch of `batch` samples (identity when disabled).
  AugmentParams sample(int64_t batch) const;

  // Moves images and points by the parameters' transforms; flipped samples are
  // relabelled through the flip permutation.
  Batch apply(const Batch& in, const AugmentParams& p) const;

  Batch operator()(const Batch& in) const { return apply(in, sample(in.images.size(0))); }

private:
  AugmentConfig cfg_;
  int64_t height_, width_;
  torch::Tensor flip_permutation_;
  torch::Tensor grid_base_;   // [3, H*W]: each output pixel's (g_x, g_y, 1)
  torch::Tensor theta_scale_; // [2, 3]: see the constructor
  torch::Tensor size_, neg_half_size_, inv_size_, half_;  // [2]: (W, H), -(W, H)/2, 1/(W, H), (0.5, 0.5)
};

// One batch through a one-off Augmenter (tests, single uses; loops keep one).
Batch apply_augment(const Batch& in, const AugmentParams& p, const torch::Tensor& flip_permutation);

}  // namespace facekeys
