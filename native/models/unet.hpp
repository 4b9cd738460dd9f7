// Heatmap U-Net: an encoder-decoder with skip connections that outputs one
// map per landmark at half the input resolution (128x128 in -> 64x64 maps by
// default; any input whose sides are multiples of 16 works). Base width w:
// 32 for HeatmapUNet, 16 for HeatmapUNetSmall (a quarter of the compute), 12
// for HeatmapUNetTiny (0.56x HeatmapUNetSmall's: the page's live video).
//
//   inc   2x(conv3x3-BN-ReLU)           1 -> w        at 1/1
//   down1 maxpool, 2x(conv-BN-ReLU)     w -> 2w       at 1/2
//   down2 ...                           2w -> 4w      at 1/4
//   down3 ...                           4w -> 8w      at 1/8
//   down4 ...                           8w -> 8w      at 1/16
//   up1   convT 2x2 s2, concat down3, 2x conv -> 4w   at 1/8
//   up2   convT, concat down2, 2x conv      -> 2w     at 1/4
//   up3   convT, concat down1, 2x conv      -> 2w     at 1/2
//   head  conv1x1 2w -> K                            at 1/2
//
// The output is raw logits [B, K, H/2, W/2]; the trainer's loss is the KL
// divergence between the normalised Gaussian target and the spatial softmax of
// each map, and the evaluator decodes softmax(map) with the core's
// decode_argmax_refined. Only ops the ONNX exporter's list has (Conv,
// BatchNorm, Relu, MaxPool, ConvTranspose, Concat).
#pragma once

#include "models/models.hpp"

namespace facekeys {

struct DoubleConvImpl : torch::nn::Module {
  DoubleConvImpl(int64_t in, int64_t out);
  torch::Tensor forward(torch::Tensor x);
  torch::nn::Sequential body{nullptr};
};
TORCH_MODULE(DoubleConv);

struct HeatmapUNet : KeypointNet {
  explicit HeatmapUNet(const ModelSpec& spec, int64_t width = 32);
  torch::Tensor forward(torch::Tensor x) override;
  // A wider U-Net's weights, each layer keeping its first channels (the
  // decoder's concatenated inputs: the first of each half), for a narrower
  // network to fine-tune from (docs/RESULTS.md, ibug68-unet96-tiny).
  torch::Tensor narrowed(const std::string& name, const torch::Tensor& wider, at::IntArrayRef to) const override;

  DoubleConv inc{nullptr}, down1{nullptr}, down2{nullptr}, down3{nullptr}, down4{nullptr};
  torch::nn::ConvTranspose2d up1t{nullptr}, up2t{nullptr}, up3t{nullptr};
  DoubleConv up1{nullptr}, up2{nullptr}, up3{nullptr};
  torch::nn::Conv2d head{nullptr};
};

}  // namespace facekeys
