#include "models/unet.hpp"

#include <stdexcept>

namespace facekeys {

DoubleConvImpl::DoubleConvImpl(int64_t in, int64_t out) {
  body = register_module(
      "body", torch::nn::Sequential(
                  torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).padding(1).bias(false)),
                  torch::nn::BatchNorm2d(out), torch::nn::ReLU(),
                  torch::nn::Conv2d(torch::nn::Conv2dOptions(out, out, 3).padding(1).bias(false)),
                  torch::nn::BatchNorm2d(out), torch::nn::ReLU()));
}

torch::Tensor DoubleConvImpl::forward(torch::Tensor x) { return body->forward(x); }

HeatmapUNet::HeatmapUNet(const ModelSpec& spec, int64_t w) {
  if (spec.input_w % 16 != 0 || spec.input_h % 16 != 0 || spec.input_w < 16 || spec.input_h < 16)
    throw std::invalid_argument(spec.arch + ": input " + std::to_string(spec.input_w) + "x" +
                                std::to_string(spec.input_h) + " must have sides that are multiples of 16");
  auto up = [](int64_t in, int64_t out) {
    return torch::nn::ConvTranspose2d(torch::nn::ConvTranspose2dOptions(in, out, 2).stride(2));
  };
  inc = register_module("inc", DoubleConv(spec.channels, w));
  down1 = register_module("down1", DoubleConv(w, 2 * w));
  down2 = register_module("down2", DoubleConv(2 * w, 4 * w));
  down3 = register_module("down3", DoubleConv(4 * w, 8 * w));
  down4 = register_module("down4", DoubleConv(8 * w, 8 * w));
  up1t = register_module("up1t", up(8 * w, 8 * w));
  up1 = register_module("up1", DoubleConv(16 * w, 4 * w));
  up2t = register_module("up2t", up(4 * w, 4 * w));
  up2 = register_module("up2", DoubleConv(8 * w, 2 * w));
  up3t = register_module("up3t", up(2 * w, 2 * w));
  up3 = register_module("up3", DoubleConv(4 * w, 2 * w));
  head = register_module("head", torch::nn::Conv2d(torch::nn::Conv2dOptions(2 * w, spec.num_points, 1)));
}

torch::Tensor HeatmapUNet::forward(torch::Tensor x) {
  auto x0 = inc->forward(x);                                  // 1/1
  auto x1 = down1->forward(torch::max_pool2d(x0, 2));         // 1/2
  auto x2 = down2->forward(torch::max_pool2d(x1, 2));         // 1/4
  auto x3 = down3->forward(torch::max_pool2d(x2, 2));         // 1/8
  auto x4 = down4->forward(torch::max_pool2d(x3, 2));         // 1/16
  auto y = up1->forward(torch::cat({up1t->forward(x4), x3}, 1));  // 1/8
  y = up2->forward(torch::cat({up2t->forward(y), x2}, 1));        // 1/4
  y = up3->forward(torch::cat({up3t->forward(y), x1}, 1));        // 1/2
  return head->forward(y);
}

torch::Tensor HeatmapUNet::narrowed(const std::string& name, const torch::Tensor& wider, at::IntArrayRef to) const {
  if (wider.dim() != static_cast<int64_t>(to.size())) return {};
  // The first conv of up1..up3 reads cat(upNt's output, the skip): two halves
  // of equal width, each cut to its first channels.
  const bool reads_concat = name.rfind("up", 0) == 0 && name.find(".body.0.") != std::string::npos;
  torch::Tensor t = wider;
  for (int64_t d = 0; d < t.dim(); ++d) {
    const int64_t from = t.size(d), keep = to[static_cast<size_t>(d)];
    if (keep > from) return {};
    if (keep == from) continue;
    if (d == 1 && reads_concat) {
      if (from % 2 != 0 || keep % 2 != 0) return {};
      t = torch::cat({t.narrow(1, 0, keep / 2), t.narrow(1, from / 2, keep / 2)}, 1);
    } else {
      t = t.narrow(d, 0, keep);
    }
  }
  return t;
}

}  // namespace facekeys
