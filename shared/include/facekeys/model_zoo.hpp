// The model zoo: every architecture facekeys trains and exports, described once
// (torch-free, so the trainer, the exporter and the core share the same table:
// the core's packs record the Framing defined here).
//
//   architecture  how the network is built: family and its sizes (the trainer's
//                 native/models/ builds it, the exporter's native/export/ writes
//                 the same graph from a checkpoint's weights)
//   schema, input landmark schema of the outputs and the default input size
//   output        coords ([B, 2K] normalised (u, v), interleaved) or heatmaps
//                 ([B, K, h, w] logits, heatmap.hpp's cell convention)
//   framing       the default crop policy: which part of a photo the model
//                 sees. A pack records the framing its images were made with
//                 (pack.hpp), the trainer copies it into the checkpoint and the
//                 exporter into the card; this default applies only to packs
//                 and checkpoints made before they recorded it.
//
// Framing metadata (packs and checkpoints, string -> string, as safetensors
// stores it): crop_source = "whole-image" | "face-box", and for face-box
// crop_margin, crop_square ("true" | "false"), crop_center_shift_y.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "facekeys/crop.hpp"

namespace facekeys {

enum class OutputKind { Coords, Heatmaps };
const char* output_kind_name(OutputKind kind);  // "coords" | "heatmaps" (checkpoints, cards)
// Throws std::invalid_argument naming the known kinds.
OutputKind output_kind_from_name(const std::string& name);

enum class NetFamily {
  ConvRegressor,  // conv(k x k, same) -> ReLU -> 2x2 max-pool per stage, then fc -> ReLU -> fc2
  ResNet,         // ResNet with BasicBlocks, global average pool, fc
  UNet,           // encoder-decoder emitting one heatmap per point at half the input size
};
const char* net_family_name(NetFamily family);  // "conv_regressor" | "resnet" | "unet"

// Which part of a photo a model sees.
struct Framing {
  enum class Source { WholeImage, FaceBox };
  Source source = Source::WholeImage;  // WholeImage: the photo resized to the input size
  CropPolicy face;                     // FaceBox: the crop box grown from a face box (crop.hpp)
};
const char* framing_source_name(Framing::Source source);  // "whole-image" | "face-box" (the card's crop.source)
// Throws std::invalid_argument naming the known sources.
Framing::Source framing_source_from_name(const std::string& name);

// Writes the framing metadata keys (above) into `meta`.
void write_framing(const Framing& framing, std::map<std::string, std::string>& meta);
// The framing recorded in `meta`, or nullopt when it has none (files written
// before framing was recorded). Throws std::runtime_error naming `file` and the
// key when a value is not valid (an unknown source, a margin that is not a
// finite number > 0, ...).
std::optional<Framing> read_framing(const std::map<std::string, std::string>& meta, const std::string& file);

struct Architecture {
  std::string arch;    // "Baseline_7x7", what `facekeys train --model` takes
  std::string schema;  // "imm58", "nose_tip", "ibug68"
  int input_w = 0, input_h = 0, channels = 1;
  int num_points = 0;
  OutputKind output = OutputKind::Coords;
  NetFamily family = NetFamily::ConvRegressor;
  // ConvRegressor: output channels per conv stage; ResNet: BasicBlocks per
  // stage; UNet: {base width} (the widths double per level).
  std::vector<int> widths;
  int kernel = 3;  // ConvRegressor: conv kernel side
  int hidden = 0;  // ConvRegressor: width of the hidden fully connected layer
  Framing framing;  // the default framing (see above)
};

// The whole zoo, in the order `facekeys train --help` lists it.
const std::vector<Architecture>& architectures();
// Null when `arch` is not in the zoo.
const Architecture* find_architecture(const std::string& arch);
// Throws std::invalid_argument("unknown model '<arch>' (known: ...)").
const Architecture& architecture(const std::string& arch);

}  // namespace facekeys
