#include "models/models.hpp"

#include <stdexcept>

#include "models/resnet.hpp"
#include "models/unet.hpp"

namespace facekeys {

const std::vector<ModelSpec>& model_zoo() {
  static const std::vector<ModelSpec> zoo = [] {
    std::vector<ModelSpec> out;
    for (const Architecture& a : architectures())
      out.push_back({a.arch, a.schema, a.input_w, a.input_h, a.channels, a.num_points, a.output});
    return out;
  }();
  return zoo;
}

const ModelSpec& model_spec(const std::string& arch) {
  const Architecture& a = architecture(arch);  // throws listing the known names
  return model_zoo()[static_cast<std::size_t>(&a - architectures().data())];
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
  const Architecture* a = find_architecture(spec.arch);
  if (!a) throw std::invalid_argument("no network for model '" + spec.arch + "'");
  switch (a->family) {
    case NetFamily::ConvRegressor: return std::make_shared<ConvRegressor>(spec, a->widths, a->kernel, a->hidden);
    case NetFamily::ResNet: return std::make_shared<ResNetRegressor>(spec, a->widths, a->hidden);
    case NetFamily::UNet: return std::make_shared<HeatmapUNet>(spec, a->widths.at(0));
  }
  throw std::invalid_argument("no network for model '" + spec.arch + "'");
}

}  // namespace facekeys
