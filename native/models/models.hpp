// The keypoint networks in LibTorch, built from the core's model zoo
// (facekeys/model_zoo.hpp: names, sizes, output kind and framing, one table
// shared by the trainer, the exporter and the core).
//
// Part 1 (nose tip, 1x60x80):   SimpleModel, SimpleModelDeeper, SimpleModelLargeKernel
// Part 2 (58 points, 1x180x240): Baseline, Baseline_5x5, Baseline_7x7, Baseline_9x9
// Part 3 (68 points, 300-W):    ResNet18, ResNet34 (1x224x224, resnet.hpp),
//                               HeatmapUNet, HeatmapUNetSmall, HeatmapUNetTiny (1x128x128, unet.hpp)
//
// Coords models regress normalised (u, v) coordinates (CONVENTIONS.md), interleaved: output [B, 2K];
// heatmap models output logits [B, K, h, w], one map per point (heatmap.hpp's cell convention).
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "facekeys/model_zoo.hpp"

namespace facekeys {

// What a model expects and produces; stored in checkpoints and model cards.
// The zoo's entry, with the input size a run may have changed (--input-size).
struct ModelSpec {
  std::string arch;       // e.g. "Baseline_7x7"
  std::string schema;     // landmark schema of the outputs: "imm58", "nose_tip", "ibug68"
  int input_w = 0, input_h = 0, channels = 1;
  int num_points = 0;
  OutputKind output = OutputKind::Coords;
};

// Every architecture `facekeys train --model` accepts, with its default input
// (the core's architectures(), in the same order).
const std::vector<ModelSpec>& model_zoo();
// Throws std::invalid_argument listing the known names when arch is unknown.
const ModelSpec& model_spec(const std::string& arch);

// Common base so the trainer, evaluator and exporter handle every family alike.
struct KeypointNet : torch::nn::Module {
  virtual torch::Tensor forward(torch::Tensor x) = 0;
  // A wider model's tensor `name` cut to this model's shape `to` (`train --init`
  // from a wider network of the same family), or an undefined tensor when this
  // family cannot take a wider model's weights (the default).
  virtual torch::Tensor narrowed(const std::string& name, const torch::Tensor& wider, at::IntArrayRef to) const {
    (void)name, (void)wider, (void)to;
    return {};
  }
};

// conv(k x k, same padding) -> ReLU -> 2x2 max-pool, repeated, then fc -> ReLU -> fc2.
// Parameter names follow the seed's printout: conv1..convN, fc, fc2.
struct ConvRegressor : KeypointNet {
  ConvRegressor(const ModelSpec& spec, const std::vector<int>& channels, int kernel, int hidden);
  torch::Tensor forward(torch::Tensor x) override;

  std::vector<torch::nn::Conv2d> convs;
  torch::nn::Linear fc{nullptr}, fc2{nullptr};
};

std::shared_ptr<KeypointNet> make_model(const ModelSpec& spec);

}  // namespace facekeys
