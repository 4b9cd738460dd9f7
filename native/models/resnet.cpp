#include "models/resnet.hpp"

namespace facekeys {
namespace {

torch::nn::Conv2d conv(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t pad) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, k).stride(stride).padding(pad).bias(false));
}

// torchvision's initialisation: Kaiming normal (fan_out, ReLU) for convs,
// BN weight 1 and bias 0; Linear layers keep PyTorch's default.
void torchvision_init(torch::nn::Module& m) {
  torch::NoGradGuard no_grad;
  for (auto& sub : m.modules(/*include_self=*/false)) {
    if (auto* c = sub->as<torch::nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanOut, torch::kReLU);
    } else if (auto* b = sub->as<torch::nn::BatchNorm2d>()) {
      torch::nn::init::ones_(b->weight);
      torch::nn::init::zeros_(b->bias);
    }
  }
}

}  // namespace

BasicBlockImpl::BasicBlockImpl(int64_t in_planes, int64_t planes, int64_t stride) {
  conv1 = register_module("conv1", conv(in_planes, planes, 3, stride, 1));
  bn1 = register_module("bn1", torch::nn::BatchNorm2d(planes));
  conv2 = register_module("conv2", conv(planes, planes, 3, 1, 1));
  bn2 = register_module("bn2", torch::nn::BatchNorm2d(planes));
  if (stride != 1 || in_planes != planes) {
    downsample = register_module(
        "downsample", torch::nn::Sequential(conv(in_planes, planes, 1, stride, 0), torch::nn::BatchNorm2d(planes)));
  }
}

torch::Tensor BasicBlockImpl::forward(torch::Tensor x) {
  auto identity = downsample ? downsample->forward(x) : x;
  auto out = torch::relu(bn1->forward(conv1->forward(x)));
  out = bn2->forward(conv2->forward(out));
  return torch::relu(out + identity);
}

ResNetRegressor::ResNetRegressor(const ModelSpec& spec, const std::vector<int>& blocks, int hidden) {
  conv1 = register_module("conv1", conv(spec.channels, 64, 7, 2, 3));
  bn1 = register_module("bn1", torch::nn::BatchNorm2d(64));
  int64_t in = 64;
  const int64_t widths[4] = {64, 128, 256, 512};
  for (int s = 0; s < 4; ++s) {
    torch::nn::Sequential stage;
    for (int b = 0; b < blocks.at(s); ++b) {
      stage->push_back(BasicBlock(in, widths[s], b == 0 && s > 0 ? 2 : 1));
      in = widths[s];
    }
    layers.push_back(register_module("layer" + std::to_string(s + 1), stage));
  }
  fc = register_module("fc", torch::nn::Linear(512, hidden));
  fc2 = register_module("fc2", torch::nn::Linear(hidden, 2 * spec.num_points));
  torchvision_init(*this);
}

torch::Tensor ResNetRegressor::forward(torch::Tensor x) {
  x = torch::relu(bn1->forward(conv1->forward(x)));
  x = torch::max_pool2d(x, 3, 2, 1);
  for (auto& stage : layers) x = stage->forward(x);
  x = torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
  return fc2->forward(torch::relu(fc->forward(x)));
}

}  // namespace facekeys
