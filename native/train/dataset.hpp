// A split of a pack as tensors on the training device, at the model's input
// size, with the keypoints the model predicts.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "facekeys/pack.hpp"
#include "models/models.hpp"

namespace facekeys {

struct DeviceSplit {
  torch::Tensor images;           // [N, C, H, W] uint8 on the device (4x smaller than float)
  torch::Tensor points;           // [N, K, 2] float, normalised
  torch::Tensor flip_permutation; // [K] int64
  std::vector<std::int64_t> pack_index;  // row in the pack, for names and original-pixel metrics
  int64_t size() const { return images.defined() ? images.size(0) : 0; }
};

// Throws naming pack_path when the split is empty or the pack does not fit the
// model (schema, channels).
DeviceSplit load_split(const Pack& pack, const std::string& pack_path, Split split, const ModelSpec& spec,
                       const torch::Device& device);

// The rows of a, then those of b (same model, same pack): `train --train-on-val`.
DeviceSplit concat_splits(const DeviceSplit& a, const DeviceSplit& b);

// uint8 [B,C,H,W] -> float in [0,1]; and the model's input normalisation ((v - 0.5) / 0.5).
torch::Tensor to_unit_float(const torch::Tensor& images_u8);
torch::Tensor normalize_input(const torch::Tensor& unit_images);

}  // namespace facekeys
