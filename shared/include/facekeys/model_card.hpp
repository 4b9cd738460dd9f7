// Model cards: the JSON file (model.json) that travels with every exported
// model.onnx and tells a consumer (the native tools, the browser module) how
// to feed the network and how to read its output, without any tensor library.
//
//   {
//     "format": "facekeys-model-card", "version": 1,
//     "name": "...", "arch": "Baseline_7x7",
//     "landmarks": {"schema": "imm58", "num_points": 58},
//     "input": {"width": 240, "height": 180, "channels": 1, "color": "gray-bt601",
//               "mean": 0.5, "std": 0.5, "normalisation": "(pixel/255 - mean)/std", "layout": "NCHW"},
//     "crop": {"source": "whole-image" | "face-box", "margin": 1.3, "square": true,
//              "center_shift_y": 0, "aspect": 1.333},
//     "output": {"kind": "coords", "layout": "interleaved-xy",
//                "coordinates": "normalised (u=(x+0.5)/W) of the model input frame", "flip_test": true}
//            or {"kind": "heatmaps", "width": 64, "height": 64, "decode": "...", "sigma": 2},
//     "training": {...free-form, from the checkpoint metadata...},
//     "metrics": {...free-form, copied from an eval JSON, or null...},
//     "onnx": {"file": "model.onnx", "opset": 17, "ir_version": 8,
//              "input_name": "input", "output_name": "points", "sha256": "...",
//              "weights": "float32" | "int8", "flip_test": false}
//   }
//
// Input: the image in the crop (see crop), converted to gray with BT.601 luma,
// resized to width x height, value = (pixel/255 - mean) / std, as a float
// tensor [N, channels, height, width]. Output "coords": [N, 2K], point k at
// (u, v) = (out[2k], out[2k+1]) in normalised coordinates of that input frame
// (CONVENTIONS.md: u = (x + 0.5) / W). "heatmaps": [N, K, height, width]
// (layout and decoding as in heatmap.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "facekeys/json.hpp"

namespace facekeys {

constexpr const char* kModelCardFormat = "facekeys-model-card";
constexpr int kModelCardVersion = 1;

struct ModelCard {
  std::string name;
  std::string arch;
  std::string schema;  // landmark schema name ("imm58", "ibug68", "nose_tip")
  int num_points = 0;

  struct Input {
    int width = 0, height = 0, channels = 1;
    std::string color = "gray-bt601";
    double mean = 0.5, std = 0.5;  // value = (pixel/255 - mean) / std
  } input;

  struct Crop {
    std::string source = "whole-image";  // "whole-image" or "face-box"
    double margin = 1.0;                 // face-box only: crop side = box side * margin
    bool square = false;                 // face-box only
    double center_shift_y = 0.0;         // face-box only, fraction of the face box height
    double aspect = 1.0;                 // width / height of the model input
  } crop;

  struct Output {
    std::string kind = "coords";  // "coords" or "heatmaps"
    std::string layout = "interleaved-xy";
    std::string coordinates = "normalised (u=(x+0.5)/W) of the model input frame";
    // heatmaps only
    int width = 0, height = 0;
    std::string decode;  // how the maps are decoded, in words (informative: the core has one decoder)
    double sigma = 0.0;
    // The pipeline's flip test: photos also run each crop's mirror image and
    // average the outputs mapped back (keypoint_pipeline.hpp); a tracker may
    // skip it for speed. `facekeys-export --flip-test`. Written only when true.
    bool flip_test = false;
  } output;

  Json training = Json::object();  // free-form
  Json metrics;                    // free-form, null when none

  struct Onnx {
    std::string file = "model.onnx";
    int opset = 0;
    int ir_version = 0;
    std::string input_name = "input";
    std::string output_name = "points";
    std::string sha256;  // lower-case hex of model.onnx, empty when not recorded
    // How conv / linear weights are stored in model.onnx: "float32", or "int8"
    // (symmetric per output channel, widened and scaled in the graph; see
    // native/export/onnx_export.hpp). Informational: the graph is float in,
    // float out either way, so consumers need not read it.
    std::string weights = "float32";
    // True when the graph itself averages the network's output on the input
    // with its output on the mirrored input, mapped back (`facekeys-export
    // --flip-test-in-graph`): same interface, twice the compute, and no way
    // for a tracker to skip it. Never with output.flip_test.
    bool flip_test = false;
  } onnx;
};

// Card <-> JSON. model_card_from_json validates (see validate_model_card) and
// throws std::runtime_error("<name>: ...") naming the field at fault.
Json model_card_to_json(const ModelCard& card);
ModelCard model_card_from_json(const Json& j, const std::string& name);

// Throws std::runtime_error("<name>: ...") on an inconsistent card: unknown
// schema or num_points not matching it, non-positive sizes, channels != 1,
// std == 0, unknown output kind / layout / crop source, bad margin or aspect.
void validate_model_card(const ModelCard& card, const std::string& name);

// File versions. read_model_card rejects another "format" or "version" with a
// message naming the file; write_model_card validates first and writes atomically.
ModelCard read_model_card(const std::string& path);
void write_model_card(const std::string& path, const ModelCard& card);

// The tensor shapes the card promises: input [N, channels, height, width],
// output [N, 2K] (coords) or [N, K, h, w] (heatmaps); N is -1 (any batch).
std::vector<std::int64_t> card_input_shape(const ModelCard& card);
std::vector<std::int64_t> card_output_shape(const ModelCard& card);

// Checks a model's declared graph input/output shapes against the card; -1 in
// the model's shapes means a symbolic (dynamic) dimension, accepted only for
// the batch. Throws std::runtime_error("<model_name>: ...") on a mismatch.
void check_card_matches_shapes(const ModelCard& card, const std::vector<std::int64_t>& model_input,
                               const std::vector<std::int64_t>& model_output, const std::string& model_name);

// SHA-256 of a byte buffer as lower-case hex (for the card's onnx.sha256).
std::string sha256_hex(const void* data, std::size_t size);

// Why `data` (a model.onnx's bytes) is not the file the card describes, or ""
// when it is or the card records no SHA-256. Every loader of a model folder
// asks this (`facekeys predict`, the export check, the browser), so a
// model.onnx copied without its model.json is refused in the same words.
std::string onnx_bytes_mismatch(const ModelCard& card, const void* data, std::size_t size);

// The default keypoint model: the one rule of `facekeys predict` and the browser
// demo. `names` are the model folders on offer (assets/models/<name>/ natively,
// models/index.json's list in the page); `default_file_text` is the content of
// the models folder's DEFAULT file ("" when there is none): its first line,
// without surrounding white space, names the default. When that names none of
// `names` (no file, an empty file, a folder that is not there), the default is
// the first of `names` in byte order. "" only when `names` is empty.
std::string default_model_name(const std::string& default_file_text, const std::vector<std::string>& names);

// The first line of a DEFAULT file without surrounding white space.
std::string default_file_name(const std::string& default_file_text);

}  // namespace facekeys
