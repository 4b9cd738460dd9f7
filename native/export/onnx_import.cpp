// Reads an exported model's weights back out of its ONNX graph (the inverse of
// the exporter's initializers), so that a shipped model can be fine-tuned:
// `facekeys train --init assets/models/ibug68-resnet18` runs
// `facekeys-export --weights-of DIR -o FILE` and loads FILE like a checkpoint.
//
// The exporter names every initializer after its checkpoint tensor; the only
// changes it makes are undone here:
//   - int8 layers: "<w>.int8" (int8) and "<w>.scale" (one float per output
//     channel) become "<w>" = q * scale (the weights to within the int8 step);
//   - biases of int8 layers are stored shaped [1, C, 1, 1] to broadcast over the
//     layer output: back to [C];
//   - the flip test's fixed matrices ("flip_test.*") are not weights: dropped.
// BatchNorm's num_batches_tracked is not in the graph; the trainer keeps its own.
#include "onnx_import.hpp"

#include <cstring>
#include <filesystem>
#include <map>
#include <stdexcept>

#include "facekeys/model_card.hpp"
#include "onnx_export.hpp"

namespace facekeys {
namespace {

[[noreturn]] void fail(const std::string& name, const std::string& what) { throw std::runtime_error(name + ": " + what); }

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The number of values the initializer's dims promise, checked against what it
// holds before anything is allocated (a damaged file must not ask for terabytes).
std::size_t checked_count(const onnx::TensorProto& t, std::size_t held, const std::string& file) {
  std::int64_t n = 1;
  for (auto d : t.dims()) {
    if (d < 0 || (d > 0 && n > static_cast<std::int64_t>(held) / d))
      fail(file, "initializer '" + t.name() + "' has dims that do not match the " + std::to_string(held) +
                     " values it holds");
    n *= d;
  }
  if (static_cast<std::size_t>(n) != held)
    fail(file, "initializer '" + t.name() + "' holds " + std::to_string(held) + " values, its dims say " +
                   std::to_string(n));
  return held;
}

// An initializer's values as floats (FLOAT or INT8; raw_data or the typed field).
std::vector<float> values_of(const onnx::TensorProto& t, const std::string& file) {
  std::vector<float> out;
  if (t.data_type() == onnx::TensorProto::FLOAT) {
    const std::size_t held = t.has_raw_data() ? t.raw_data().size() / sizeof(float)
                                              : static_cast<std::size_t>(t.float_data_size());
    if (t.has_raw_data() && t.raw_data().size() % sizeof(float) != 0)
      fail(file, "initializer '" + t.name() + "' holds " + std::to_string(t.raw_data().size()) +
                     " bytes, not a whole number of floats");
    out.resize(checked_count(t, held, file));
    if (t.has_raw_data()) {
      std::memcpy(out.data(), t.raw_data().data(), t.raw_data().size());
    } else {
      for (std::size_t i = 0; i < out.size(); ++i) out[i] = t.float_data(static_cast<int>(i));
    }
  } else if (t.data_type() == onnx::TensorProto::INT8) {
    const std::size_t held = t.has_raw_data() ? t.raw_data().size() : static_cast<std::size_t>(t.int32_data_size());
    out.resize(checked_count(t, held, file));
    for (std::size_t i = 0; i < out.size(); ++i)
      out[i] = static_cast<float>(t.has_raw_data() ? static_cast<std::int8_t>(t.raw_data()[i])
                                                   : t.int32_data(static_cast<int>(i)));
  } else {
    fail(file, "initializer '" + t.name() + "' has ONNX data type " + std::to_string(t.data_type()) +
                   ": not one the facekeys exporter writes (FLOAT, INT8)");
  }
  return out;
}

}  // namespace

SafeTensorsFile onnx_weights(const onnx::ModelProto& model, const std::string& file) {
  const auto& g = model.graph();
  std::map<std::string, const onnx::TensorProto*> inits;
  for (const auto& t : g.initializer()) inits[t.name()] = &t;
  // Which op consumes each value: an int8 weight's output-channel axis is 0 for
  // Conv and Gemm ([out, in, ...]) and 1 for ConvTranspose ([in, out, ...]).
  std::map<std::string, std::string> consumer_op;
  for (const auto& n : g.node())
    for (const auto& in : n.input()) consumer_op.emplace(in, n.op_type());

  SafeTensorsFile st;
  for (const auto& t : g.initializer()) {
    const std::string& name = t.name();
    std::vector<std::int64_t> shape(t.dims().begin(), t.dims().end());
    if (name.rfind("flip_test.", 0) == 0) continue;
    if (ends_with(name, ".scale") && inits.count(name.substr(0, name.size() - 6) + ".int8")) continue;
    if (ends_with(name, ".int8")) {
      const std::string base = name.substr(0, name.size() - 5);
      auto scale_it = inits.find(base + ".scale");
      if (scale_it == inits.end()) fail(file, "int8 initializer '" + name + "' has no '" + base + ".scale'");
      std::vector<float> w = values_of(t, file);
      const std::vector<float> scale = values_of(*scale_it->second, file);
      const auto consumer = consumer_op.find(base);
      const std::size_t axis = consumer != consumer_op.end() && consumer->second == "ConvTranspose" ? 1 : 0;
      if (shape.size() <= axis || shape[axis] != static_cast<std::int64_t>(scale.size()))
        fail(file, "'" + base + ".scale' has " + std::to_string(scale.size()) + " values, not one per output channel of '" +
                       name + "'");
      std::size_t inner = 1;
      for (std::size_t d = axis + 1; d < shape.size(); ++d) inner *= static_cast<std::size_t>(shape[d]);
      for (std::size_t i = 0; i < w.size(); ++i) w[i] *= scale[(i / inner) % scale.size()];
      st.tensors.push_back(make_tensor_record(base, DType::F32, shape, w));
      continue;
    }
    if (t.data_type() != onnx::TensorProto::FLOAT)
      fail(file, "initializer '" + name + "' is not FLOAT: not a graph the facekeys exporter wrote");
    const std::vector<float> v = values_of(t, file);
    if (ends_with(name, ".bias")) shape = {static_cast<std::int64_t>(v.size())};
    st.tensors.push_back(make_tensor_record(name, DType::F32, shape, v));
  }
  if (st.tensors.empty()) fail(file, "the graph has no weights");
  return st;
}

void write_export_weights(const std::string& dir, const std::string& out_path) {
  const std::string card_path = (std::filesystem::path(dir) / "model.json").string();
  const ModelCard card = read_model_card(card_path);
  const std::string onnx_path = (std::filesystem::path(dir) / card.onnx.file).string();
  SafeTensorsFile st = onnx_weights(read_onnx_model(onnx_path), onnx_path);
  st.metadata["format"] = "facekeys-weights";
  st.metadata["arch"] = card.arch;
  st.metadata["source"] = onnx_path;
  st.metadata["weights"] = card.onnx.weights;
  // As in a checkpoint: a fine-tune from these weights keeps their input size.
  st.metadata["input_w"] = std::to_string(card.input.width);
  st.metadata["input_h"] = std::to_string(card.input.height);
  write_safetensors(out_path, st);
}

}  // namespace facekeys
