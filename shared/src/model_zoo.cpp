#include "facekeys/model_zoo.hpp"

#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace facekeys {
namespace {

// Part 1 widths are not printed in the seed; these are small, as its
// "3 Conv(3x3) + 2 FC" suggests, and train in seconds on a CPU.
const std::vector<int> kSimpleWidths = {12, 24, 32};
const std::vector<int> kDeeperWidths = {12, 24, 32, 64};
// Part 2 is exactly the seed's printout: 1->16->32->64->128->256, fc 8960->256->116.
const std::vector<int> kBaselineWidths = {16, 32, 64, 128, 256};

// IMM models see the whole 640x480 studio portrait, resized (`facekeys pack imm`).
Architecture whole_image(const std::string& arch, const std::string& schema, int w, int h, int points,
                         const std::vector<int>& widths, int kernel, int hidden) {
  Architecture a;
  a.arch = arch;
  a.schema = schema;
  a.input_w = w;
  a.input_h = h;
  a.num_points = points;
  a.output = OutputKind::Coords;
  a.family = NetFamily::ConvRegressor;
  a.widths = widths;
  a.kernel = kernel;
  a.hidden = hidden;
  a.framing.source = Framing::Source::WholeImage;
  return a;
}

// 300-W models see a square crop 1.3 times the face box (`facekeys pack ibug`'s default).
Architecture face_box(const std::string& arch, int side, OutputKind output, NetFamily family,
                      const std::vector<int>& widths, int hidden) {
  Architecture a;
  a.arch = arch;
  a.schema = "ibug68";
  a.input_w = a.input_h = side;
  a.num_points = 68;
  a.output = output;
  a.family = family;
  a.widths = widths;
  a.hidden = hidden;
  a.framing.source = Framing::Source::FaceBox;
  a.framing.face = CropPolicy{};  // margin 1.3, square, no shift
  return a;
}

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

const char* output_kind_name(OutputKind kind) { return kind == OutputKind::Heatmaps ? "heatmaps" : "coords"; }

OutputKind output_kind_from_name(const std::string& name) {
  if (name == "coords") return OutputKind::Coords;
  if (name == "heatmaps") return OutputKind::Heatmaps;
  throw std::invalid_argument("unknown output kind '" + name + "' (known: coords, heatmaps)");
}

const char* net_family_name(NetFamily family) {
  switch (family) {
    case NetFamily::ConvRegressor: return "conv_regressor";
    case NetFamily::ResNet: return "resnet";
    case NetFamily::UNet: return "unet";
  }
  return "?";
}

const char* framing_source_name(Framing::Source source) {
  return source == Framing::Source::FaceBox ? "face-box" : "whole-image";
}

Framing::Source framing_source_from_name(const std::string& name) {
  if (name == "whole-image") return Framing::Source::WholeImage;
  if (name == "face-box") return Framing::Source::FaceBox;
  throw std::invalid_argument("unknown crop source '" + name + "' (known: whole-image, face-box)");
}

void write_framing(const Framing& framing, std::map<std::string, std::string>& meta) {
  meta["crop_source"] = framing_source_name(framing.source);
  if (framing.source != Framing::Source::FaceBox) return;
  meta["crop_margin"] = number_text(framing.face.margin);
  meta["crop_square"] = framing.face.square ? "true" : "false";
  meta["crop_center_shift_y"] = number_text(framing.face.center_shift_y);
}

std::optional<Framing> read_framing(const std::map<std::string, std::string>& meta, const std::string& file) {
  auto it = meta.find("crop_source");
  if (it == meta.end()) return std::nullopt;
  auto bad = [&](const std::string& key, const std::string& what) {
    return std::runtime_error(file + ": metadata '" + key + "' = '" + meta.at(key) + "' is not " + what);
  };
  Framing f;
  try {
    f.source = framing_source_from_name(it->second);
  } catch (const std::invalid_argument&) {
    throw bad("crop_source", "a crop source (whole-image or face-box)");
  }
  if (f.source != Framing::Source::FaceBox) return f;
  auto number = [&](const std::string& key, double fallback) {
    auto v = meta.find(key);
    if (v == meta.end()) return fallback;
    try {
      std::size_t used = 0;
      const double d = std::stod(v->second, &used);
      if (used == v->second.size() && std::isfinite(d)) return d;
    } catch (const std::exception&) {
    }
    throw bad(key, "a finite number");
  };
  f.face.margin = static_cast<float>(number("crop_margin", CropPolicy{}.margin));
  if (!(f.face.margin > 0)) throw bad("crop_margin", "a crop margin > 0");
  f.face.center_shift_y = static_cast<float>(number("crop_center_shift_y", 0.0));
  if (auto sq = meta.find("crop_square"); sq != meta.end()) {
    if (sq->second != "true" && sq->second != "false") throw bad("crop_square", "true or false");
    f.face.square = sq->second == "true";
  }
  return f;
}

const std::vector<Architecture>& architectures() {
  static const std::vector<Architecture> zoo = {
      // Part 1: nose tip, 1x60x80.
      whole_image("SimpleModel", "nose_tip", 80, 60, 1, kSimpleWidths, 3, 128),
      whole_image("SimpleModelDeeper", "nose_tip", 80, 60, 1, kDeeperWidths, 3, 128),
      whole_image("SimpleModelLargeKernel", "nose_tip", 80, 60, 1, kSimpleWidths, 5, 128),
      // Part 2: 58 points, 1x180x240.
      whole_image("Baseline", "imm58", 240, 180, 58, kBaselineWidths, 3, 256),
      whole_image("Baseline_5x5", "imm58", 240, 180, 58, kBaselineWidths, 5, 256),
      whole_image("Baseline_7x7", "imm58", 240, 180, 58, kBaselineWidths, 7, 256),
      whole_image("Baseline_9x9", "imm58", 240, 180, 58, kBaselineWidths, 9, 256),
      // Part 3: 300-W / iBUG 68 points on 224x224 face crops (docs/IBUG.md).
      face_box("ResNet18", 224, OutputKind::Coords, NetFamily::ResNet, {2, 2, 2, 2}, 256),
      face_box("ResNet34", 224, OutputKind::Coords, NetFamily::ResNet, {3, 4, 6, 3}, 256),
      // 128x128 in, 68 maps of 64x64 out (logits); the trainer area-resizes 224 packs.
      face_box("HeatmapUNet", 128, OutputKind::Heatmaps, NetFamily::UNet, {32}, 0),
      // The same at a quarter of the compute (base width 16 instead of 32): trains on a CPU.
      face_box("HeatmapUNetSmall", 128, OutputKind::Heatmaps, NetFamily::UNet, {16}, 0),
      // Base width 12: 0.56x HeatmapUNetSmall's compute, for live video in the page.
      face_box("HeatmapUNetTiny", 128, OutputKind::Heatmaps, NetFamily::UNet, {12}, 0),
  };
  return zoo;
}

const Architecture* find_architecture(const std::string& arch) {
  for (const auto& a : architectures())
    if (a.arch == arch) return &a;
  return nullptr;
}

const Architecture& architecture(const std::string& arch) {
  if (const Architecture* a = find_architecture(arch)) return *a;
  std::string known;
  for (const auto& a : architectures()) known += (known.empty() ? "" : ", ") + a.arch;
  throw std::invalid_argument("unknown model '" + arch + "' (known: " + known + ")");
}

}  // namespace facekeys
