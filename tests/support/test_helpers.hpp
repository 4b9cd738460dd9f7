// Small builders shared by several test suites (header-only: each suite is its
// own executable).
#pragma once

#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "facekeys/image.hpp"
#include "facekeys/model_card.hpp"
#include "facekeys/pack.hpp"
#include "facekeys/safetensors.hpp"

namespace facekeys::testing {

// An empty folder <tmp>/<name>, removing what an earlier run left there.
inline std::string fresh_temp_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

// A w x h image with c channels of uniform random bytes.
inline ImageU8 random_u8(int w, int h, int c, std::mt19937& rng) {
  ImageU8 img(w, h, c);
  std::uniform_int_distribution<int> v(0, 255);
  for (std::size_t i = 0; i < img.size(); ++i) img.data()[i] = static_cast<std::uint8_t>(v(rng));
  return img;
}

// An F32 tensor of the given shape, uniform in [-scale, scale].
inline TensorRecord random_tensor(const std::string& name, std::vector<std::int64_t> shape, std::mt19937& rng,
                                  float scale) {
  std::size_t n = 1;
  for (auto d : shape) n *= static_cast<std::size_t>(d);
  std::vector<float> v(n);
  std::uniform_real_distribution<float> u(-scale, scale);
  for (auto& x : v) x = u(rng);
  return make_tensor_record(name, DType::F32, std::move(shape), v);
}

// An empty pack of w x h gray frames with IMM's 58 points, for tests that make
// their own images.
inline Pack imm58_pack_header(int w, int h, const std::string& source) {
  Pack p;
  p.schema = "imm58";
  p.source = source;
  p.width = w;
  p.height = h;
  p.channels = 1;
  p.num_points = 58;
  return p;
}

// The card of an IMM 58-point model on whole 240x180 frames.
inline ModelCard imm_card(const std::string& name = "t-imm") {
  ModelCard c;
  c.name = name;
  c.arch = "Baseline_7x7";
  c.schema = "imm58";
  c.num_points = 58;
  c.input.width = 240;
  c.input.height = 180;
  c.crop.source = "whole-image";
  c.crop.aspect = 240.0 / 180.0;
  return c;
}

// The card of a 68-point face-box model at 128x128: coordinates or 64x64 heatmaps.
inline ModelCard ibug_card(const std::string& kind = "coords") {
  ModelCard c;
  c.name = "t-ibug";
  c.arch = kind == "coords" ? "ResNet18" : "HeatmapUNet";
  c.schema = "ibug68";
  c.num_points = 68;
  c.input.width = 128;
  c.input.height = 128;
  c.crop.source = "face-box";
  c.crop.margin = 1.3;
  c.crop.square = true;
  c.crop.center_shift_y = 0.1;
  c.output.kind = kind;
  if (kind == "heatmaps") {
    c.output.width = 64;
    c.output.height = 64;
    c.output.decode = "argmax-refined";
    c.output.sigma = 2.0;
  }
  return c;
}

}  // namespace facekeys::testing
