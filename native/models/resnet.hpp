// ResNet18 / ResNet34 keypoint regressors (torchvision's layout, BasicBlock).
//
// Parameter names follow torchvision (conv1, bn1, layer1.0.conv1, ...,
// layer2.0.downsample.0/1, ...) so torchvision weights converted to
// safetensors load by name with `facekeys train --init` (conv1 takes one gray
// channel: a 3-channel conv1 is summed over its input channels on load).
// torchvision's 1000-way `fc` is replaced by two newly initialised layers, as
// the seed's regressors end: fc (512 -> 256) -> ReLU -> fc2 (256 -> 2K).
#pragma once

#include "models/models.hpp"

namespace facekeys {

struct BasicBlockImpl : torch::nn::Module {
  BasicBlockImpl(int64_t in_planes, int64_t planes, int64_t stride);
  torch::Tensor forward(torch::Tensor x);

  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
  torch::nn::Sequential downsample{nullptr};  // 1x1 conv + BN when the shape changes
};
TORCH_MODULE(BasicBlock);

struct ResNetRegressor : KeypointNet {
  // blocks: per stage, e.g. {2, 2, 2, 2} (ResNet18) or {3, 4, 6, 3} (ResNet34).
  ResNetRegressor(const ModelSpec& spec, const std::vector<int>& blocks, int hidden = 256);
  torch::Tensor forward(torch::Tensor x) override;

  torch::nn::Conv2d conv1{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr};
  std::vector<torch::nn::Sequential> layers;
  torch::nn::Linear fc{nullptr}, fc2{nullptr};
};

}  // namespace facekeys
