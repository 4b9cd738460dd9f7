#include "models/models.hpp"

#include <stdexcept>

#include "models/resnet.hpp"
#include "models/unet.hpp"

namespace facekeys {
namespace {

// Part 1 widths are not printed in the seed; these are small, as its
// "3 Conv(3x3) + 2 FC" suggests, and train in seconds on a CPU.
const std::vector<int> kSimpleChannels = {12, 24, 32};
const std::vector<int> kDeeperChannels = {12, 24, 32, 64};
// Part 2 is exactly the seed's printout: 1->16->32->64->128->256, fc 8960->256->116.
const std::vector<int> kBaselineChannels = {16, 32, 64, 128, 256};

int kernel_of(const std::string& arch) {
  if (arch == "SimpleModelLargeKernel" || arch == "Baseline_5x5") return 5;
  if (arch == "Baseline_7x7") return 7;
  if (arch == "Baseline_9x9") return 9;
  return 3;
}

}  // namespace

const std::vector<ModelSpec>& model_zoo() {
  static const std::vector<ModelSpec> zoo = {
      {"SimpleModel", "nose_tip", 80, 60, 1, 1, "coords"},
      {"SimpleModelDeeper", "nose_tip", 80, 60, 1, 1, "coords"},
      {"SimpleModelLargeKernel", "nose_tip", 80, 60, 1, 1, "coords"},
      {"Baseline", "imm58", 240, 180, 1, 58, "coords"},
      {"Baseline_5x5", "imm58", 240, 180, 1, 58, "coords"},
      {"Baseline_7x7", "imm58", 240, 180, 1, 58, "coords"},
      {"Baseline_9x9", "imm58", 240, 180, 1, 58, "coords"},
      // 300-W / iBUG 68 points on 224x224 face crops (docs/IBUG.md).
      {"ResNet18", "ibug68", 224, 224, 1, 68, "coords"},
      {"ResNet34", "ibug68", 224, 224, 1, 68, "coords"},
      // 128x128 in, 68 maps of 64x64 out (logits); load_split area-resizes 224 packs.
      {"HeatmapUNet", "ibug68", 128, 128, 1, 68, "heatmaps"},
      // The same at a quarter of the compute (base width 16 instead of 32): trains on a CPU.
      {"HeatmapUNetSmall", "ibug68", 128, 128, 1, 68, "heatmaps"},
  };
  return zoo;
}

const ModelSpec& model_spec(const std::string& arch) {
  std::string known;
  for (const auto& s : model_zoo()) {
    if (s.arch == arch) return s;
    known += (known.empty() ? "" : ", ") + s.arch;
  }
  throw std::invalid_argument("unknown model '" + arch + "' (known: " + known + ")");
}

ConvRegressor::ConvRegressor(const ModelSpec& spec, const std::vector<int>& channels, int kernel, int hidden) {
  int in = spec.channels, h = spec.input_h, w = spec.input_w;
  for (std::size_t i = 0; i < channels.size(); ++i) {
    auto conv = torch::nn::Conv2d(torch::nn::Conv2dOptions(in, channels[i], kernel).padding(kernel / 2));
    convs.push_back(register_module("conv" + std::to_string(i + 1), conv));
    in = channels[i];
    h /= 2;  // max-pool 2x2, floor like PyTorch
    w /= 2;
  }
  if (h < 1 || w < 1) throw std::invalid_argument(spec.arch + ": input too small for " + std::to_string(channels.size()) + " pooling stages");
  fc = register_module("fc", torch::nn::Linear(in * h * w, hidden));
  fc2 = register_module("fc2", torch::nn::Linear(hidden, 2 * spec.num_points));
}

torch::Tensor ConvRegressor::forward(torch::Tensor x) {
  for (auto& conv : convs) x = torch::max_pool2d(torch::relu(conv->forward(x)), 2);
  x = torch::relu(fc->forward(x.flatten(1)));
  return fc2->forward(x);
}

std::shared_ptr<KeypointNet> make_model(const ModelSpec& spec) {
  const int k = kernel_of(spec.arch);
  if (spec.arch == "SimpleModel" || spec.arch == "SimpleModelLargeKernel")
    return std::make_shared<ConvRegressor>(spec, kSimpleChannels, k, 128);
  if (spec.arch == "SimpleModelDeeper") return std::make_shared<ConvRegressor>(spec, kDeeperChannels, k, 128);
  if (spec.arch == "ResNet18") return std::make_shared<ResNetRegressor>(spec, std::vector<int>{2, 2, 2, 2});
  if (spec.arch == "ResNet34") return std::make_shared<ResNetRegressor>(spec, std::vector<int>{3, 4, 6, 3});
  if (spec.arch == "HeatmapUNet") return std::make_shared<HeatmapUNet>(spec, 32);
  if (spec.arch == "HeatmapUNetSmall") return std::make_shared<HeatmapUNet>(spec, 16);
  if (spec.arch.rfind("Baseline", 0) == 0) return std::make_shared<ConvRegressor>(spec, kBaselineChannels, k, 256);
  throw std::invalid_argument("no network for model '" + spec.arch + "'");
}

}  // namespace facekeys
