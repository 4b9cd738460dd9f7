// Checkpoint -> ONNX + model card, without LibTorch.
//
// The exporter reads the checkpoint's safetensors with the shared core and
// writes the ONNX graph node by node (ModelProto built by hand, weights as
// raw_data initializers), so it never links LibTorch: pip's LibTorch carries
// its own protobuf/ONNX symbols, and libonnx must not share a process with it
// (docs/EXPORT.md, /work/shared/TOOLCHAIN.md).
//
// The graph: input "input" float [N, 1, H, W] (N symbolic), output "points"
// float [N, 2K] (coords) -- the model card says how to fill and read them.
// Opset 17 by default (13..17 accepted), IR version 8.
//
// Families: ConvRegressor (SimpleModel*, Baseline*), ResNet regression
// (ResNet18/34) and the heatmap U-Nets. Each family is one function of
// GraphBuilder calls (see onnx_export.cpp, "Families"), so a new one adds a
// function and a table row. onnx_import.hpp reads the weights back.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <vector>

#include "facekeys/model_card.hpp"
#include "facekeys/model_zoo.hpp"
#include "facekeys/safetensors.hpp"

namespace facekeys {

constexpr int kOnnxDefaultOpset = 17;
constexpr int kOnnxMinOpset = 13;
constexpr int kOnnxMaxOpset = 17;   // what libonnx 1.12's checker knows
constexpr int kOnnxIrVersion = 8;

// How conv / linear weights are stored in model.onnx (biases and BatchNorm
// parameters always stay float32). The graph takes and returns float32 either way.
//   float32  4 bytes a weight, exact
//   int8     1 byte a weight; symmetric per output channel: scale_c = max|w_c| / 127,
//            q = round-half-even(w / scale_c) in [-127, 127]. The graph computes
//            layer(x, Cast(q)) * scale_c (+ bias): the same as layer(x, q * scale_c).
// (No float16: OpenCV 4.6 DNN cannot read FLOAT16 initializers, and `predict` runs there.)
enum class WeightStorage { Float32, Int8 };
const char* weight_storage_name(WeightStorage w);      // "float32", "int8" (the card's onnx.weights)
WeightStorage parse_weight_storage(const std::string& s);  // throws on anything else

struct ExportOptions {
  std::string name;          // model card name; empty: "<arch>-<schema>"
  std::string metrics_path;  // eval JSON to copy into the card's "metrics"; empty: none
  double crop_margin = 0.0;  // face-box models: override the crop margin (0: the checkpoint's; see checkpoint_framing)
  int opset = kOnnxDefaultOpset;
  WeightStorage weights = WeightStorage::Float32;
  // The flip test (what `facekeys eval --flip-test` does in LibTorch): also run
  // the network on the mirrored input and average the mapped-back result in;
  // twice the compute, usually a little more accuracy. Pipeline: the card asks
  // the core to do it (output.flip_test; a tracker may skip it); Graph: built
  // into the graph (onnx.flip_test; for runtimes without the core).
  enum class FlipTest { None, Pipeline, Graph };
  FlipTest flip_test = FlipTest::None;
};

// The model description stored in a checkpoint's metadata.
struct CheckpointSpec {
  std::string arch, schema, output;
  int input_w = 0, input_h = 0, channels = 1, num_points = 0;
};

// Reads and checks format/version/spec fields; throws naming ckpt_path.
CheckpointSpec checkpoint_spec(const SafeTensorsFile& ckpt, const std::string& ckpt_path);

// The framing (crop policy) a checkpoint's model was trained with: the one its
// training pack recorded (metadata crop_*; model_zoo.hpp), or, for checkpoints
// from before packs recorded it, the model zoo's default for the architecture
// (recorded = false). Throws naming ckpt_path on an invalid value, or an
// unrecorded framing of an architecture the zoo does not know.
struct CardFraming {
  Framing framing;
  bool recorded = false;
};
CardFraming checkpoint_framing(const SafeTensorsFile& ckpt, const std::string& ckpt_path);

// Architectures the exporter can write.
std::vector<std::string> exportable_archs();

// Builds the graph for a checkpoint. Throws std::runtime_error naming
// ckpt_path on an unknown architecture or a missing / mis-shaped / non-F32 tensor.
onnx::ModelProto build_onnx_model(const SafeTensorsFile& ckpt, const std::string& ckpt_path,
                                  int opset = kOnnxDefaultOpset, WeightStorage weights = WeightStorage::Float32,
                                  bool flip_test = false);

// onnx::checker::check_model, then strict shape inference (on a copy), then
// checks that the inferred output shape equals the declared one. Throws
// std::runtime_error("<name>: ONNX check failed: ...").
void check_onnx_model(const onnx::ModelProto& model, const std::string& name);

// Parses an .onnx file; throws naming the file if it is not a ModelProto.
onnx::ModelProto read_onnx_model(const std::string& path);

// The single graph input's and output's declared shape; -1 for a symbolic dim.
struct OnnxIo {
  std::string input_name, output_name;
  std::vector<std::int64_t> input_shape, output_shape;
};
OnnxIo onnx_io(const onnx::ModelProto& model, const std::string& name);

// The card for a checkpoint (without onnx.sha256, which export fills in).
ModelCard make_model_card(const SafeTensorsFile& ckpt, const std::string& ckpt_path, const ExportOptions& options);

// Everything a consumer relies on: model.json parses and validates, model.onnx
// passes check_onnx_model, its input/output names and shapes match the card,
// and its SHA-256 matches the card's when recorded. Throws naming the file.
void verify_export(const std::string& dir);

struct ExportResult {
  std::string onnx_path, card_path;
  ModelCard card;
  bool crop_recorded = true;  // false: the card's crop is the zoo's default (see checkpoint_framing)
};

// `facekeys-export CHECKPOINT -o DIR`: builds, checks, and writes DIR/model.onnx
// and DIR/model.json atomically (creating DIR), then verify_export(DIR).
ExportResult export_checkpoint(const std::string& ckpt_path, const std::string& out_dir,
                               const ExportOptions& options = {});

}  // namespace facekeys
