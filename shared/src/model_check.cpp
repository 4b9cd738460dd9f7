#include "facekeys/model_check.hpp"

#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <vector>

#include "facekeys/face_detect.hpp"
#include "facekeys/onnx_info.hpp"
#include "format_util.hpp"

namespace facekeys {

namespace {

using format_detail::quote;
using format_detail::shape_text;

// A model's dims: "?" for a symbolic or unknown one (the card's own shapes say "N" for the batch).
std::string dims_text(const std::vector<std::int64_t>& dims) {
  std::string out = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) out += (i ? ", " : "") + (dims[i] < 0 ? std::string("?") : std::to_string(dims[i]));
  return out + "]";
}

[[noreturn]] void refuse(const std::string& path, const std::string& problem) {
  throw std::runtime_error(path + ": " + problem);
}

std::string mib(std::uint64_t bytes) {
  const double m = static_cast<double>(bytes) / (1 << 20);
  char buf[48];
  std::snprintf(buf, sizeof buf, m < 10 ? "%.2f MiB" : "%.0f MiB", m);
  return buf;
}

std::string bytes_text(std::uint64_t bytes) {
  if (bytes == UINT64_MAX) return "more than 2^64 bytes";
  return std::to_string(bytes) + " bytes" + (bytes >= (1u << 20) ? " (" + mib(bytes) + ")" : std::string());
}

// What both kinds of model must be: a well-formed ONNX graph within the
// runtimes' IR and opset versions, weights inside the file and within `limit`.
OnnxInfo read_and_check_outline(const std::uint8_t* data, std::size_t size, const std::string& path,
                                std::uint64_t limit, const char* what) {
  if (size > limit)
    refuse(path, "the file is " + bytes_text(size) + ", over the limit of " + mib(limit) + " for " + what);
  const OnnxInfo info = read_onnx_info(data, size, path);
  if (!info.has_graph) refuse(path, "not an ONNX model (no graph)");
  if (info.ir_version < kMinOnnxIrVersion || info.ir_version > kMaxOnnxIrVersion)
    refuse(path, "ONNX IR version " + std::to_string(info.ir_version) + " is not supported (the runtimes read " +
                     std::to_string(kMinOnnxIrVersion) + " to " + std::to_string(kMaxOnnxIrVersion) + ")");
  bool standard = false;
  for (const OnnxOpset& o : info.opsets) {
    if (!o.domain.empty() && o.domain != "ai.onnx")
      refuse(path, "uses operator set " + quote(o.domain) + " (version " + std::to_string(o.version) +
                       "): only the standard ONNX operators run in both OpenCV DNN and ONNX Runtime Web");
    standard = true;
    if (o.version < kMinOnnxOpset || o.version > kMaxOnnxOpset)
      refuse(path, "ONNX opset " + std::to_string(o.version) + " is not supported: OpenCV DNN 4.6 (facekeys predict) "
                       "and the page run opsets " + std::to_string(kMinOnnxOpset) + " to " +
                       std::to_string(kMaxOnnxOpset) + " (re-export with opset " + std::to_string(kMaxOnnxOpset) + ")");
  }
  if (!standard) refuse(path, "declares no ONNX operator set (opset_import)");
  if (info.external_count > 0)
    refuse(path, std::to_string(info.external_count) + " weight tensor(s) keep their data in another file (" +
                     quote(info.external_names.empty() ? std::string() : info.external_names.front()) +
                     "...): only self-contained model files are loaded");
  if (info.declared_bytes > size)
    refuse(path, "its weights declare " + bytes_text(info.declared_bytes) + " but the file holds only " +
                     bytes_text(size) + ": a damaged or forged model");
  if (info.declared_bytes > limit)
    refuse(path, "its weights declare " + bytes_text(info.declared_bytes) + ", over the limit of " + mib(limit) +
                     " for " + what);
  if (!info.inconsistent_tensor.empty()) refuse(path, "damaged weights: " + info.inconsistent_tensor);
  return info;
}

bool is_initializer(const OnnxInfo& info, const std::string& name) {
  for (const std::string& n : info.initializer_names)
    if (n == name) return true;
  return false;
}

// The graph inputs a caller must feed (those without an initializer behind them).
std::vector<const OnnxValueInfo*> fed_inputs(const OnnxInfo& info) {
  std::vector<const OnnxValueInfo*> out;
  for (const OnnxValueInfo& v : info.inputs)
    if (!is_initializer(info, v.name)) out.push_back(&v);
  return out;
}

std::string names_text(const std::vector<const OnnxValueInfo*>& list) {
  std::string s;
  for (const OnnxValueInfo* v : list) s += (s.empty() ? "" : ", ") + quote(v->name);
  return s.empty() ? std::string("none") : s;
}

// `what` ("input 'x'") against the shape the card promises (`want`, -1: any
// batch). `dim_names` says which dimension is which, for the message.
void check_shape(const std::string& path, const std::string& what, const OnnxValueInfo& v,
                 const std::vector<std::int64_t>& want, const std::vector<const char*>& dim_names,
                 const std::string& card_name) {
  if (v.elem_type != kOnnxFloat)
    refuse(path, what + " is " + onnx_elem_type_name(v.elem_type) + ", not float");
  if (!v.has_shape)
    refuse(path, what + " states no shape; " + card_name + " promises " + shape_text(want));
  if (v.dims.size() != want.size())
    refuse(path, what + " has rank " + std::to_string(v.dims.size()) + " " + dims_text(v.dims) + ", but " + card_name +
                     " promises rank " + std::to_string(want.size()) + " " + shape_text(want) + ": card and model do not match");
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (want[i] < 0) continue;  // the batch: any size, symbolic or fixed
    const std::string dim = std::string(i < dim_names.size() ? dim_names[i] : "dimension") + " (dimension " +
                            std::to_string(i) + ")";
    if (v.dims[i] < 0)
      refuse(path, what + " has a dynamic " + dim + " " + dims_text(v.dims) + "; " + card_name + " fixes it at " +
                       std::to_string(want[i]) + ": only the batch dimension may be dynamic");
    if (v.dims[i] != want[i])
      refuse(path, what + " is " + dims_text(v.dims) + " but " + card_name + " promises " + shape_text(want) + " (" +
                       dim + " " + std::to_string(v.dims[i]) + " instead of " + std::to_string(want[i]) +
                       "): card and model do not match");
  }
}

const OnnxValueInfo* find(const std::vector<OnnxValueInfo>& list, const std::string& name) {
  for (const OnnxValueInfo& v : list)
    if (v.name == name) return &v;
  return nullptr;
}

}  // namespace

void check_keypoint_model_file(const ModelCard& card, const std::uint8_t* data, std::size_t size,
                               const std::string& path) {
  // The card's fingerprint first: a file from another export is named as such,
  // whatever else is wrong with it.
  if (const std::string why = onnx_bytes_mismatch(card, data, size); !why.empty()) refuse(path, why);
  const OnnxInfo info = read_and_check_outline(data, size, path, kMaxKeypointModelBytes, "a keypoint model");
  const std::string card_name = "its card (" + card.name + ")";

  const std::vector<const OnnxValueInfo*> inputs = fed_inputs(info);
  const OnnxValueInfo* in = nullptr;
  for (const OnnxValueInfo* v : inputs)
    if (v->name == card.onnx.input_name) in = v;
  if (!in)
    refuse(path, "has no input " + quote(card.onnx.input_name) + " (" + card_name + " names it); its inputs: " +
                     names_text(inputs));
  if (inputs.size() > 1)
    refuse(path, "needs " + std::to_string(inputs.size()) + " inputs (" + names_text(inputs) + "); " + card_name +
                     " feeds one, " + quote(card.onnx.input_name));
  check_shape(path, "input " + quote(in->name), *in, card_input_shape(card), {"batch", "channels", "height", "width"},
              card_name);

  std::vector<const OnnxValueInfo*> outputs;
  for (const OnnxValueInfo& v : info.outputs) outputs.push_back(&v);
  const OnnxValueInfo* out = find(info.outputs, card.onnx.output_name);
  if (!out)
    refuse(path, "has no output " + quote(card.onnx.output_name) + " (" + card_name + " names it); its outputs: " +
                     names_text(outputs));
  if (outputs.size() > 1)
    refuse(path, "has " + std::to_string(outputs.size()) + " outputs (" + names_text(outputs) + "); " + card_name +
                     " reads one, " + quote(card.onnx.output_name));
  const std::vector<const char*> out_dims = card.output.kind == "heatmaps"
                                                ? std::vector<const char*>{"batch", "points", "height", "width"}
                                                : std::vector<const char*>{"batch", "coordinates"};
  check_shape(path, "output " + quote(out->name), *out, card_output_shape(card), out_dims, card_name);
}

void check_face_detector_file(const std::uint8_t* data, std::size_t size, const std::string& path) {
  const OnnxInfo info = read_and_check_outline(data, size, path, kMaxDetectorModelBytes, "a face detector");
  const std::string what = "the UltraFace detector";
  const UltraFaceConfig config;
  const std::vector<const OnnxValueInfo*> inputs = fed_inputs(info);
  if (inputs.size() != 1)
    refuse(path, "needs " + std::to_string(inputs.size()) + " inputs (" + names_text(inputs) + "); " + what +
                     " has one");
  const std::vector<std::int64_t> in_shape = {-1, 3, config.input_height, config.input_width};
  check_shape(path, "input " + quote(inputs[0]->name), *inputs[0], in_shape, {"batch", "channels", "height", "width"},
              what);
  // P (the number of priors) may be symbolic; both outputs must agree on it when stated.
  const OnnxValueInfo* scores = find(info.outputs, "scores");
  const OnnxValueInfo* boxes = find(info.outputs, "boxes");
  if (!scores || !boxes)
    refuse(path, "has no outputs 'scores' and 'boxes' (" + what + "'s); its outputs are " + [&] {
      std::vector<const OnnxValueInfo*> all;
      for (const OnnxValueInfo& v : info.outputs) all.push_back(&v);
      return names_text(all);
    }());
  check_shape(path, "output 'scores'", *scores, {-1, -1, 2}, {"batch", "priors", "classes"}, what);
  check_shape(path, "output 'boxes'", *boxes, {-1, -1, 4}, {"batch", "priors", "coordinates"}, what);
  if (scores->dims[1] >= 0 && boxes->dims[1] >= 0 && scores->dims[1] != boxes->dims[1])
    refuse(path, "outputs 'scores' " + dims_text(scores->dims) + " and 'boxes' " + dims_text(boxes->dims) +
                     " disagree on the number of priors");
}

}  // namespace facekeys
