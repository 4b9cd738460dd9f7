#include "onnx_export.hpp"

#include <onnx/checker.h>
#include <onnx/shape_inference/implementation.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <stdexcept>

#include "facekeys/file_io.hpp"
#include "facekeys/json.hpp"
#include "facekeys/schema.hpp"

namespace facekeys {
namespace {

constexpr const char* kCheckpointFormat = "facekeys-checkpoint";
constexpr int kCheckpointVersion = 1;
constexpr float kBatchNormEps = 1e-5f;  // LibTorch's BatchNorm2d default

[[noreturn]] void fail(const std::string& name, const std::string& what) { throw std::runtime_error(name + ": " + what); }

std::string shape_str(const std::vector<std::int64_t>& s) {
  std::string out = "[";
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + (s[i] < 0 ? std::string("?") : std::to_string(s[i]));
  return out + "]";
}

int meta_int(const SafeTensorsFile& st, const std::string& key, const std::string& path) {
  const std::string& v = st.meta(key, path);
  try {
    std::size_t used = 0;
    const long long i = std::stoll(v, &used);
    if (used == v.size() && i >= 0 && i < (1LL << 30)) return static_cast<int>(i);
  } catch (const std::exception&) {
  }
  fail(path, "checkpoint metadata '" + key + "' is not a non-negative integer: '" + v + "'");
}

// ---- GraphBuilder ------------------------------------------------------------
//
// Appends nodes to a GraphProto. Every weight comes from the checkpoint through
// weight(), which checks presence, dtype and shape (-1 = any) and records the
// tensor as used; finish() then rejects checkpoints with tensors the graph did
// not use (another architecture's weights under this arch's name).
class GraphBuilder {
 public:
  GraphBuilder(onnx::GraphProto& g, const SafeTensorsFile& st, std::string path, std::string arch,
               WeightStorage storage)
      : g_(g), st_(st), path_(std::move(path)), arch_(std::move(arch)), storage_(storage) {}

  const std::string& path() const { return path_; }
  const std::string& arch() const { return arch_; }

  const TensorRecord* find(const std::string& name) const { return st_.find(name); }

  // The checkpoint tensor `name` as a float32 initializer of that name (or,
  // with `dims`, of that shape: same values); returns its name.
  std::string weight(const std::string& name, const std::vector<std::int64_t>& expect,
                     const std::vector<std::int64_t>& dims = {}) {
    const TensorRecord* r = checked(name, expect);
    if (used_.insert(name).second)
      initializer(name, onnx::TensorProto::FLOAT, dims.empty() ? r->shape : dims, r->bytes.data(), r->bytes.size());
    return name;
  }

  // A conv / linear weight stored as the builder's WeightStorage says. Float32:
  // as weight(), scale empty. Int8 (symmetric, one scale per slice along
  // `channel_axis`, which must be the layer's output-channel axis): the int8
  // values, widened by Cast, are the layer's weight, and `scale` names the
  // float scales (shaped to broadcast over the output: [1, C, 1, 1] or [C])
  // that the caller multiplies into the layer's *output*
  // (conv(x, q) * s == conv(x, q * s)). Scaling the output rather than the
  // weight keeps every op one that OpenCV 4.6 imports (its Mul folds constants
  // only of equal shapes); ONNX Runtime folds the Cast at load time and fuses
  // a Conv's Mul and Add back into it (a Gemm's stay: a cheap elementwise op).
  struct StoredWeight {
    std::string value, scale;
  };
  StoredWeight layer_weight(const std::string& name, const std::vector<std::int64_t>& expect, std::size_t channel_axis) {
    if (storage_ == WeightStorage::Float32) return {weight(name, expect), ""};
    const TensorRecord* r = checked(name, expect);
    const std::string scale_name = name + ".scale";
    if (!used_.insert(name).second) return {name, scale_name};
    std::vector<float> values(r->bytes.size() / sizeof(float));
    std::memcpy(values.data(), r->bytes.data(), values.size() * sizeof(float));  // row-major little-endian
    const std::int64_t channels = r->shape[channel_axis];
    std::size_t inner = 1;  // elements per step of the channel index
    for (std::size_t d = channel_axis + 1; d < r->shape.size(); ++d) inner *= static_cast<std::size_t>(r->shape[d]);
    auto channel_of = [&](std::size_t i) { return (i / inner) % static_cast<std::size_t>(channels); };
    std::vector<float> scales(static_cast<std::size_t>(channels), 0.0f);
    for (std::size_t i = 0; i < values.size(); ++i) scales[channel_of(i)] = std::max(scales[channel_of(i)], std::fabs(values[i]));
    for (float& sc : scales) sc = sc > 0.0f ? sc / 127.0f : 1.0f;
    std::vector<std::int8_t> q(values.size());
    for (std::size_t i = 0; i < values.size(); ++i)
      q[i] = static_cast<std::int8_t>(std::clamp(std::nearbyint(values[i] / scales[channel_of(i)]), -127.0f, 127.0f));
    initializer(name + ".int8", onnx::TensorProto::INT8, r->shape, q.data(), q.size());
    initializer(scale_name, onnx::TensorProto::FLOAT, channel_dims(channels, r->shape.size()), scales.data(),
                scales.size() * sizeof(float));
    onnx::NodeProto* n = g_.add_node();
    n->set_op_type("Cast");
    n->set_name(name + ".cast");
    n->add_input(name + ".int8");
    n->add_output(name);
    integer(*n, "to", onnx::TensorProto::FLOAT);
    return {name, scale_name};
  }

  // The layer's bias "<prefix>.bias" [C]: an input of a float32 layer, added
  // after the scaling of an int8 one, shaped to broadcast over its output.
  std::string layer_bias(const std::string& prefix, std::int64_t channels, const StoredWeight& w, std::size_t rank) {
    return weight(prefix + ".bias", {channels}, w.scale.empty() ? std::vector<std::int64_t>{} : channel_dims(channels, rank));
  }
  // op(x, weight[, bias]) for a float32 layer; op(x, Cast(q)) * scale (+ bias) for an int8 one.
  std::string weighted_layer(const std::string& op, const std::string& x, const StoredWeight& w,
                             const std::string& bias, const std::function<void(onnx::NodeProto&)>& attrs) {
    std::vector<std::string> inputs = {x, w.value};
    if (w.scale.empty() && !bias.empty()) inputs.push_back(bias);
    const std::string y = node(op, inputs, attrs);
    if (w.scale.empty()) return y;
    const std::string scaled = node("Mul", {y, w.scale});
    return bias.empty() ? scaled : node("Add", {scaled, bias});
  }
  // Per-channel values as a layer output of `rank` dims broadcasts them: [1, C, 1, 1] or [C].
  static std::vector<std::int64_t> channel_dims(std::int64_t channels, std::size_t rank) {
    if (rank == 2) return {channels};
    return {1, channels, 1, 1};
  }

  // Shape of a checkpoint tensor (for deriving widths), checking its rank.
  const std::vector<std::int64_t>& shape_of(const std::string& name, std::size_t rank) const {
    const TensorRecord* r = st_.find(name);
    if (!r) fail(path_, "checkpoint of " + arch_ + " lacks tensor '" + name + "'");
    if (r->shape.size() != rank)
      fail(path_, "tensor '" + name + "' has shape " + shape_str(r->shape) + ", " + arch_ + " expects rank " +
                      std::to_string(rank));
    return r->shape;
  }
  // A float32 initializer the graph needs that is not a checkpoint tensor (the
  // flip test's fixed matrices); added once per name.
  std::string constant(const std::string& name, const std::vector<std::int64_t>& dims, const std::vector<float>& values) {
    if (constants_.insert(name).second)
      initializer(name, onnx::TensorProto::FLOAT, dims, values.data(), values.size() * sizeof(float));
    return name;
  }
  // x [..., w] with its last axis reversed: MatMul by the exchange matrix
  // (exact in float: each output is one product by 1 plus zeros). ONNX has no
  // Flip op, and a negative-step Slice is not something OpenCV 4.6 imports.
  std::string mirror_last_axis(const std::string& x, std::int64_t w) {
    std::vector<float> exchange(static_cast<std::size_t>(w * w), 0.0f);
    for (std::int64_t i = 0; i < w; ++i) exchange[static_cast<std::size_t>(i * w + (w - 1 - i))] = 1.0f;
    return node("MatMul", {x, constant("flip_test.exchange" + std::to_string(w), {w, w}, exchange)});
  }

  // Marks a tensor the graph does not need (BatchNorm's num_batches_tracked) as accounted for.
  void ignore(const std::string& name) { used_.insert(name); }

  std::string node(const std::string& op, const std::vector<std::string>& inputs,
                   const std::function<void(onnx::NodeProto&)>& attrs = {}) {
    onnx::NodeProto* n = g_.add_node();
    const std::string out = op + "_" + std::to_string(++counter_);
    n->set_op_type(op);
    n->set_name(out);
    for (const auto& i : inputs) n->add_input(i);
    n->add_output(out);
    if (attrs) attrs(*n);
    return out;
  }

  static void ints(onnx::NodeProto& n, const char* name, const std::vector<std::int64_t>& v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (auto x : v) a->add_ints(x);
  }
  static void integer(onnx::NodeProto& n, const char* name, std::int64_t v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void real(onnx::NodeProto& n, const char* name, float v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(v);
  }

  // Conv from "<prefix>.weight" [out, in, k, k] (+ "<prefix>.bias" when the checkpoint has it).
  // Returns {output, out_channels}.
  std::pair<std::string, std::int64_t> conv(const std::string& x, const std::string& prefix, std::int64_t in,
                                            std::int64_t k, std::int64_t stride, std::int64_t pad,
                                            bool bias, std::int64_t out = -1) {
    const auto& ws = shape_of(prefix + ".weight", 4);
    if (out < 0) out = ws[0];
    const StoredWeight wt = layer_weight(prefix + ".weight", {out, in, k, k}, 0);
    std::string b;
    if (bias) b = layer_bias(prefix, out, wt, 4);
    else if (find(prefix + ".bias")) fail(path_, "tensor '" + prefix + ".bias' is unexpected: " + arch_ + "'s " + prefix + " has no bias");
    const std::string y = weighted_layer("Conv", x, wt, b, [&](onnx::NodeProto& n) {
      ints(n, "kernel_shape", {k, k});
      ints(n, "strides", {stride, stride});
      ints(n, "pads", {pad, pad, pad, pad});
    });
    return {y, out};
  }
  // ConvTranspose from "<prefix>.weight" [in, out, k, k] and "<prefix>.bias".
  std::pair<std::string, std::int64_t> conv_transpose(const std::string& x, const std::string& prefix, std::int64_t in,
                                                      std::int64_t k, std::int64_t stride) {
    const std::int64_t out = shape_of(prefix + ".weight", 4)[1];
    const StoredWeight wt = layer_weight(prefix + ".weight", {in, out, k, k}, 1);  // [in, out, k, k]: out is axis 1
    const std::string y = weighted_layer("ConvTranspose", x, wt, layer_bias(prefix, out, wt, 4), [&](onnx::NodeProto& n) {
      ints(n, "kernel_shape", {k, k});
      ints(n, "strides", {stride, stride});
    });
    return {y, out};
  }
  // Inference-mode BatchNormalization from "<prefix>.{weight,bias,running_mean,running_var}".
  std::string batch_norm(const std::string& x, const std::string& prefix, std::int64_t c) {
    ignore(prefix + ".num_batches_tracked");
    return node("BatchNormalization",
                {x, weight(prefix + ".weight", {c}), weight(prefix + ".bias", {c}), weight(prefix + ".running_mean", {c}),
                 weight(prefix + ".running_var", {c})},
                [](onnx::NodeProto& n) { real(n, "epsilon", kBatchNormEps); });
  }
  std::string relu(const std::string& x) { return node("Relu", {x}); }
  std::string add(const std::string& a, const std::string& b) { return node("Add", {a, b}); }
  std::string concat(const std::vector<std::string>& xs, std::int64_t axis) {
    return node("Concat", xs, [&](onnx::NodeProto& n) { integer(n, "axis", axis); });
  }
  std::string max_pool(const std::string& x, std::int64_t k, std::int64_t stride, std::int64_t pad) {
    return node("MaxPool", {x}, [&](onnx::NodeProto& n) {
      ints(n, "kernel_shape", {k, k});
      ints(n, "strides", {stride, stride});
      ints(n, "pads", {pad, pad, pad, pad});
    });
  }
  std::string global_avg_pool(const std::string& x) { return node("GlobalAveragePool", {x}); }
  std::string flatten(const std::string& x) {
    return node("Flatten", {x}, [](onnx::NodeProto& n) { integer(n, "axis", 1); });
  }
  // y = x W^T + b from "<prefix>.weight" [out, in] and "<prefix>.bias" [out] (torch::nn::Linear).
  std::pair<std::string, std::int64_t> linear(const std::string& x, const std::string& prefix, std::int64_t in,
                                              std::int64_t out = -1) {
    if (out < 0) out = shape_of(prefix + ".weight", 2)[0];
    const StoredWeight wt = layer_weight(prefix + ".weight", {out, in}, 0);
    const std::string y = weighted_layer("Gemm", x, wt, layer_bias(prefix, out, wt, 2),
                                         [](onnx::NodeProto& n) { integer(n, "transB", 1); });
    return {y, out};
  }

  // Renames the last node's output to the graph output `name` and rejects unused checkpoint tensors.
  void finish(const std::string& last, const std::string& name) {
    bool renamed = false;
    for (auto& n : *g_.mutable_node())
      for (auto& o : *n.mutable_output())
        if (o == last) {
          o = name;
          renamed = true;
        }
    if (!renamed) fail(path_, "internal error: no node produces '" + last + "'");
    for (const auto& r : st_.tensors) {
      if (r.name.rfind("adam.", 0) == 0) continue;  // optimizer state
      if (!used_.count(r.name))
        fail(path_, "tensor '" + r.name + "' is not part of " + arch_ + " (a checkpoint of another architecture?)");
    }
  }

 private:
  void initializer(const std::string& name, onnx::TensorProto::DataType type, const std::vector<std::int64_t>& dims,
                   const void* data, std::size_t bytes) {
    onnx::TensorProto* t = g_.add_initializer();
    t->set_name(name);
    t->set_data_type(type);
    for (auto d : dims) t->add_dims(d);
    t->set_raw_data(data, bytes);
  }
  // The checkpoint tensor `name`, checked for presence, dtype F32 and shape (-1 = any).
  const TensorRecord* checked(const std::string& name, const std::vector<std::int64_t>& expect) const {
    const TensorRecord* r = st_.find(name);
    if (!r) fail(path_, "checkpoint of " + arch_ + " lacks tensor '" + name + "'");
    if (r->dtype != DType::F32)
      fail(path_, "tensor '" + name + "' is " + dtype_name(r->dtype) + ", the exporter needs F32");
    bool ok = r->shape.size() == expect.size();
    for (std::size_t i = 0; ok && i < expect.size(); ++i) ok = expect[i] < 0 || expect[i] == r->shape[i];
    if (!ok)
      fail(path_, "tensor '" + name + "' has shape " + shape_str(r->shape) + ", " + arch_ + " expects " +
                      shape_str(expect));
    return r;
  }

  onnx::GraphProto& g_;
  const SafeTensorsFile& st_;
  std::string path_, arch_;
  WeightStorage storage_;
  std::set<std::string> used_, constants_;
  int counter_ = 0;
};

// ---- Families -------------------------------------------------------------------
//
// Each returns the name of its last value; build_onnx_model wires it to the
// graph output. Parameter names are the LibTorch modules' (native/models/models.cpp,
// resnet.cpp, unet.cpp); keep them in step when a network changes.

// ConvRegressor (models.hpp): conv(k, same pad) -> ReLU -> maxpool 2, repeated;
// flatten; fc -> ReLU -> fc2. Widths come from the tensors; the count and kernel from the table.
std::string build_conv_regressor(GraphBuilder& b, const CheckpointSpec& s, const std::string& input, int num_convs,
                                 int kernel) {
  std::string x = input;
  std::int64_t c = s.channels, h = s.input_h, w = s.input_w;
  for (int i = 1; i <= num_convs; ++i) {
    auto y = b.conv(x, "conv" + std::to_string(i), c, kernel, 1, kernel / 2, true);
    x = b.max_pool(b.relu(y.first), 2, 2, 0);
    c = y.second;
    h /= 2;
    w /= 2;
  }
  if (h < 1 || w < 1) fail(b.path(), s.arch + ": input too small for " + std::to_string(num_convs) + " pooling stages");
  if (b.find("conv" + std::to_string(num_convs + 1) + ".weight"))
    fail(b.path(), "tensor 'conv" + std::to_string(num_convs + 1) + ".weight' is not part of " + s.arch + " (" +
                       std::to_string(num_convs) + " conv layers)");
  auto f1 = b.linear(b.flatten(x), "fc", c * h * w);
  auto f2 = b.linear(b.relu(f1.first), "fc2", f1.second, 2 * static_cast<std::int64_t>(s.num_points));
  return f2.first;
}

// ResNetRegressor (resnet.hpp), torchvision names: conv1 7x7/2 -> bn1 -> ReLU ->
// maxpool 3/2 -> layer1..4 of BasicBlocks -> global average pool -> fc -> ReLU -> fc2.
std::string build_resnet(GraphBuilder& b, const CheckpointSpec& s, const std::string& input,
                         const std::vector<int>& blocks) {
  auto c1 = b.conv(input, "conv1", s.channels, 7, 2, 3, false, 64);
  std::string x = b.max_pool(b.relu(b.batch_norm(c1.first, "bn1", 64)), 3, 2, 1);
  std::int64_t in = 64;
  const std::int64_t widths[4] = {64, 128, 256, 512};
  for (int stage = 0; stage < 4; ++stage) {
    for (int blk = 0; blk < blocks[stage]; ++blk) {
      const std::string p = "layer" + std::to_string(stage + 1) + "." + std::to_string(blk);
      const std::int64_t planes = widths[stage], stride = (blk == 0 && stage > 0) ? 2 : 1;
      std::string identity = x;
      const bool down = stride != 1 || in != planes;
      if (down) {
        auto d = b.conv(x, p + ".downsample.0", in, 1, stride, 0, false, planes);
        identity = b.batch_norm(d.first, p + ".downsample.1", planes);
      } else if (b.find(p + ".downsample.0.weight")) {
        fail(b.path(), "tensor '" + p + ".downsample.0.weight' is not part of " + s.arch);
      }
      auto y = b.conv(x, p + ".conv1", in, 3, stride, 1, false, planes);
      std::string out = b.relu(b.batch_norm(y.first, p + ".bn1", planes));
      auto y2 = b.conv(out, p + ".conv2", planes, 3, 1, 1, false, planes);
      out = b.batch_norm(y2.first, p + ".bn2", planes);
      x = b.relu(b.add(out, identity));
      in = planes;
    }
  }
  auto f1 = b.linear(b.flatten(b.global_avg_pool(x)), "fc", 512);
  auto f2 = b.linear(b.relu(f1.first), "fc2", f1.second, 2 * static_cast<std::int64_t>(s.num_points));
  return f2.first;
}

// HeatmapUNet (unet.hpp): DoubleConv = body.0 conv3x3 (no bias), body.1 BN, ReLU,
// body.3 conv3x3, body.4 BN, ReLU. Encoder inc, down1..4 (maxpool first);
// decoder upNt (ConvTranspose 2x2/2) -> concat with the skip -> upN; head 1x1 conv.
std::string build_unet(GraphBuilder& b, const CheckpointSpec& s, const std::string& input) {
  if (s.input_w % 16 != 0 || s.input_h % 16 != 0 || s.input_w < 16 || s.input_h < 16)
    fail(b.path(), s.arch + ": input " + std::to_string(s.input_w) + "x" + std::to_string(s.input_h) +
                       " must have sides that are multiples of 16");
  auto double_conv = [&](const std::string& x, const std::string& p, std::int64_t in) {
    auto c1 = b.conv(x, p + ".body.0", in, 3, 1, 1, false);
    std::string y = b.relu(b.batch_norm(c1.first, p + ".body.1", c1.second));
    auto c2 = b.conv(y, p + ".body.3", c1.second, 3, 1, 1, false, c1.second);
    return std::make_pair(b.relu(b.batch_norm(c2.first, p + ".body.4", c2.second)), c2.second);
  };
  auto x0 = double_conv(input, "inc", s.channels);
  auto x1 = double_conv(b.max_pool(x0.first, 2, 2, 0), "down1", x0.second);
  auto x2 = double_conv(b.max_pool(x1.first, 2, 2, 0), "down2", x1.second);
  auto x3 = double_conv(b.max_pool(x2.first, 2, 2, 0), "down3", x2.second);
  auto x4 = double_conv(b.max_pool(x3.first, 2, 2, 0), "down4", x3.second);
  auto up = [&](const std::pair<std::string, std::int64_t>& y, const std::pair<std::string, std::int64_t>& skip,
                const std::string& p) {
    auto t = b.conv_transpose(y.first, p + "t", y.second, 2, 2);
    return double_conv(b.concat({t.first, skip.first}, 1), p, t.second + skip.second);
  };
  auto y = up(x4, x3, "up1");
  y = up(y, x2, "up2");
  y = up(y, x1, "up3");
  return b.conv(y.first, "head", y.second, 1, 1, 0, true, s.num_points).first;
}

// ---- Flip test ------------------------------------------------------------------
//
// What flip_test_forward (native/eval/evaluate.cpp) computes, as graph nodes: the
// network runs on the input and on its mirror (the same weights, a second set
// of nodes), and the mirrored run's output is mapped back and averaged in.
// Relabelling follows the core's relabel_for_flip: out[perm[i]] = mirrored[i].

// Coordinates [N, 2K]: Concat(out, mirrored) [N, 4K] -> Gemm with a fixed
// [2K, 4K] weight (transB, as torch::nn::Linear and OpenCV's importer want):
// out/2 + (1 - u_mirrored, v_mirrored)/2 at the relabelled index.
std::string average_flipped_coords(GraphBuilder& b, const std::string& out, const std::string& mirrored,
                                   const std::vector<int>& perm) {
  const std::int64_t k = static_cast<std::int64_t>(perm.size()), n = 2 * k;
  std::vector<float> w(static_cast<std::size_t>(2 * n * n), 0.0f), bias(static_cast<std::size_t>(n), 0.0f);
  auto at = [&](std::int64_t to, std::int64_t from) -> float& { return w[static_cast<std::size_t>(to * 2 * n + from)]; };
  for (std::int64_t c = 0; c < n; ++c) at(c, c) = 0.5f;
  for (std::int64_t i = 0; i < k; ++i) {
    const std::int64_t j = perm[static_cast<std::size_t>(i)];
    at(2 * j, n + 2 * i) = -0.5f;  // u -> 1 - u ...
    bias[static_cast<std::size_t>(2 * j)] = 0.5f;  // ... the 1, halved
    at(2 * j + 1, n + 2 * i + 1) = 0.5f;
  }
  return b.node("Gemm",
                {b.concat({out, mirrored}, 1), b.constant("flip_test.average", {n, 2 * n}, w),
                 b.constant("flip_test.offset", {n}, bias)},
                [](onnx::NodeProto& node) { GraphBuilder::integer(node, "transB", 1); });
}

// Heatmap logits [N, K, h, w]: the mirrored run's maps reversed along w, then
// Concat(out, those) [N, 2K, h, w] -> a fixed 1x1 Conv [K, 2K] that averages
// map i with relabelled map perm^-1(i).
std::string average_flipped_heatmaps(GraphBuilder& b, const std::string& out, const std::string& mirrored,
                                     const std::vector<int>& perm, std::int64_t map_w) {
  const std::int64_t k = static_cast<std::int64_t>(perm.size());
  std::vector<float> w(static_cast<std::size_t>(k * 2 * k), 0.0f);
  for (std::int64_t i = 0; i < k; ++i) {
    w[static_cast<std::size_t>(i * 2 * k + i)] = 0.5f;
    w[static_cast<std::size_t>(perm[static_cast<std::size_t>(i)] * 2 * k + k + i)] = 0.5f;
  }
  const std::string both = b.concat({out, b.mirror_last_axis(mirrored, map_w)}, 1);
  return b.node("Conv", {both, b.constant("flip_test.average", {k, 2 * k, 1, 1}, w)}, [](onnx::NodeProto& n) {
    GraphBuilder::ints(n, "kernel_shape", {1, 1});
  });
}

void set_shape(onnx::ValueInfoProto& v, const std::string& name, const std::vector<std::int64_t>& dims) {
  v.set_name(name);
  auto* tt = v.mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  auto* shape = tt->mutable_shape();
  for (auto d : dims) {
    auto* dim = shape->add_dim();
    if (d < 0) dim->set_dim_param("N");
    else dim->set_dim_value(d);
  }
}

std::vector<std::int64_t> shape_of_value(const onnx::ValueInfoProto& v) {
  std::vector<std::int64_t> out;
  if (!v.type().has_tensor_type() || !v.type().tensor_type().has_shape()) return out;
  for (const auto& d : v.type().tensor_type().shape().dim()) out.push_back(d.has_dim_value() ? d.dim_value() : -1);
  return out;
}

}  // namespace

// ---- Public API -------------------------------------------------------------------

const char* weight_storage_name(WeightStorage w) { return w == WeightStorage::Int8 ? "int8" : "float32"; }

WeightStorage parse_weight_storage(const std::string& s) {
  if (s == "float32") return WeightStorage::Float32;
  if (s == "int8") return WeightStorage::Int8;
  throw std::runtime_error("unknown weight storage '" + s + "' (use float32 or int8)");
}

CheckpointSpec checkpoint_spec(const SafeTensorsFile& st, const std::string& path) {
  auto fmt = st.metadata.find("format");
  if (fmt == st.metadata.end() || fmt->second != kCheckpointFormat)
    fail(path, std::string("not a facekeys checkpoint (metadata 'format' is not '") + kCheckpointFormat + "')");
  if (meta_int(st, "version", path) != kCheckpointVersion)
    fail(path, "checkpoint version " + st.metadata.at("version") + ", this exporter reads version " +
                   std::to_string(kCheckpointVersion));
  CheckpointSpec s;
  s.arch = st.meta("arch", path);
  s.schema = st.meta("schema", path);
  s.output = st.meta("output", path);
  s.input_w = meta_int(st, "input_w", path);
  s.input_h = meta_int(st, "input_h", path);
  s.channels = meta_int(st, "channels", path);
  s.num_points = meta_int(st, "num_points", path);
  if (s.input_w < 1 || s.input_h < 1 || s.channels < 1 || s.num_points < 1)
    fail(path, "checkpoint metadata has a zero input size, channel or point count");
  return s;
}

namespace {

// The zoo's entry for a checkpoint's architecture; throws naming the file and the exportable ones.
const Architecture& exportable_architecture(const std::string& arch, const std::string& path) {
  if (const Architecture* a = find_architecture(arch)) return *a;
  std::string known;
  for (const auto& a : architectures()) known += (known.empty() ? "" : ", ") + a.arch;
  fail(path, "cannot export architecture '" + arch + "' (exportable: " + known + ")");
}

}  // namespace

CardFraming checkpoint_framing(const SafeTensorsFile& st, const std::string& path) {
  std::optional<Framing> recorded;
  try {
    recorded = read_framing(st.metadata, path);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(std::string(e.what()) + " (checkpoint metadata)");
  }
  if (recorded) return {*recorded, true};
  return {exportable_architecture(st.meta("arch", path), path).framing, false};
}

std::vector<std::string> exportable_archs() {
  std::vector<std::string> out;
  for (const auto& a : architectures()) out.push_back(a.arch);
  return out;
}

onnx::ModelProto build_onnx_model(const SafeTensorsFile& st, const std::string& path, int opset,
                                  WeightStorage weights, bool flip_test) {
  if (opset < kOnnxMinOpset || opset > kOnnxMaxOpset)
    fail(path, "ONNX opset " + std::to_string(opset) + " is not supported (use " + std::to_string(kOnnxMinOpset) +
                   ".." + std::to_string(kOnnxMaxOpset) + ")");
  const CheckpointSpec s = checkpoint_spec(st, path);
  const Architecture* info = &exportable_architecture(s.arch, path);
  const bool heatmaps = info->output == OutputKind::Heatmaps;
  if (s.output != output_kind_name(info->output))
    fail(path, "checkpoint metadata 'output' is '" + s.output + "' but " + s.arch + " outputs " +
                   output_kind_name(info->output));

  onnx::ModelProto m;
  m.set_ir_version(kOnnxIrVersion);
  m.set_producer_name("facekeys-export");
  m.set_producer_version("0.1.0");
  m.set_domain("io.github.facekeys");
  m.set_model_version(1);
  m.set_doc_string(s.arch + " keypoint model (" + s.schema + "), exported from a facekeys checkpoint");
  auto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(opset);

  onnx::GraphProto& g = *m.mutable_graph();
  g.set_name(s.arch);
  set_shape(*g.add_input(), "input", {-1, s.channels, s.input_h, s.input_w});

  GraphBuilder b(g, st, path, s.arch, weights);
  auto network = [&](const std::string& input) {
    switch (info->family) {
      case NetFamily::ConvRegressor:
        return build_conv_regressor(b, s, input, static_cast<int>(info->widths.size()), info->kernel);
      case NetFamily::ResNet: return build_resnet(b, s, input, info->widths);
      case NetFamily::UNet: break;
    }
    return build_unet(b, s, input);  // its widths come from the weights
  };
  const std::vector<std::int64_t> out_shape =
      heatmaps ? std::vector<std::int64_t>{-1, s.num_points, s.input_h / 2, s.input_w / 2}
               : std::vector<std::int64_t>{-1, 2 * static_cast<std::int64_t>(s.num_points)};
  const std::string out_name = heatmaps ? "heatmaps" : "points";
  std::string last = network("input");
  if (flip_test) {
    const LandmarkSchema& schema = schema_by_name(s.schema);
    if (static_cast<int>(schema.flip_permutation.size()) != s.num_points)
      fail(path, "flip test: schema " + s.schema + " has " + std::to_string(schema.flip_permutation.size()) +
                     " points, the checkpoint " + std::to_string(s.num_points));
    const std::string mirrored = network(b.mirror_last_axis("input", s.input_w));
    last = heatmaps ? average_flipped_heatmaps(b, last, mirrored, schema.flip_permutation, s.input_w / 2)
                    : average_flipped_coords(b, last, mirrored, schema.flip_permutation);
  }
  b.finish(last, out_name);
  set_shape(*g.add_output(), out_name, out_shape);

  auto* prop = m.add_metadata_props();
  prop->set_key("facekeys.arch");
  prop->set_value(s.arch);
  prop = m.add_metadata_props();
  prop->set_key("facekeys.schema");
  prop->set_value(s.schema);
  return m;
}

void check_onnx_model(const onnx::ModelProto& model, const std::string& name) {
  try {
    onnx::checker::check_model(model);
    onnx::ModelProto inferred = model;
    // Strict: node-level inference errors and inferred-vs-declared conflicts throw.
    onnx::shape_inference::InferShapes(inferred, onnx::OpSchemaRegistry::Instance(),
                                       onnx::ShapeInferenceOptions(/*check_type=*/true, /*error_mode=*/1));
    // The declared outputs must be fully determined by inference, with the same static dims.
    const auto& g = inferred.graph();
    for (int i = 0; i < g.output_size(); ++i) {
      const auto declared = shape_of_value(model.graph().output(i));
      const auto got = shape_of_value(g.output(i));
      if (declared.empty())
        fail(name, "ONNX check failed: graph output '" + g.output(i).name() + "' has no shape");
      if (got != declared)
        fail(name, "ONNX check failed: graph output '" + g.output(i).name() + "' is declared " + shape_str(declared) +
                       " but infers as " + shape_str(got));
    }
  } catch (const onnx::checker::ValidationError& e) {
    fail(name, std::string("ONNX check failed: ") + e.what());
  } catch (const onnx::InferenceError& e) {
    fail(name, std::string("ONNX shape inference failed: ") + e.what());
  }
}

onnx::ModelProto read_onnx_model(const std::string& path) {
  const std::vector<std::uint8_t> bytes = read_file_bytes(path);
  onnx::ModelProto m;
  if (bytes.empty() || !m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) || !m.has_graph())
    fail(path, "not an ONNX model (cannot parse a ModelProto with a graph)");
  return m;
}

OnnxIo onnx_io(const onnx::ModelProto& m, const std::string& name) {
  const auto& g = m.graph();
  // Initializers may be listed as inputs in old IR versions; the real input is the one without one.
  std::set<std::string> inits;
  for (const auto& t : g.initializer()) inits.insert(t.name());
  std::vector<const onnx::ValueInfoProto*> inputs;
  for (const auto& v : g.input())
    if (!inits.count(v.name())) inputs.push_back(&v);
  if (inputs.size() != 1 || g.output_size() != 1)
    fail(name, "expected one graph input and one output, found " + std::to_string(inputs.size()) + " and " +
                   std::to_string(g.output_size()));
  OnnxIo io;
  io.input_name = inputs[0]->name();
  io.output_name = g.output(0).name();
  io.input_shape = shape_of_value(*inputs[0]);
  io.output_shape = shape_of_value(g.output(0));
  return io;
}

ModelCard make_model_card(const SafeTensorsFile& st, const std::string& path, const ExportOptions& opt) {
  const CheckpointSpec s = checkpoint_spec(st, path);
  ModelCard c;
  c.arch = s.arch;
  c.name = opt.name.empty() ? s.arch + "-" + s.schema : opt.name;
  c.schema = s.schema;
  c.num_points = s.num_points;
  c.input.width = s.input_w;
  c.input.height = s.input_h;
  c.input.channels = s.channels;
  c.crop.aspect = static_cast<double>(s.input_w) / s.input_h;

  auto meta_or = [&](const std::string& key) -> const std::string* {
    auto it = st.metadata.find(key);
    return it == st.metadata.end() ? nullptr : &it->second;
  };
  auto meta_number = [&](const std::string& key, double fallback) {
    const std::string* v = meta_or(key);
    if (!v) return fallback;
    try {
      std::size_t used = 0;
      const double d = std::stod(*v, &used);
      if (used == v->size()) return d;
    } catch (const std::exception&) {
    }
    fail(path, "checkpoint metadata '" + key + "' is not a number: '" + *v + "'");
  };

  // Framing: what the training pack's images were cut with, as the trainer
  // recorded it; checkpoints from before it did get the zoo's default for the
  // architecture (what the packs of that time were made with by default).
  const CardFraming framing = checkpoint_framing(st, path);
  c.crop.source = framing_source_name(framing.framing.source);
  if (framing.framing.source == Framing::Source::FaceBox) {
    c.crop.margin = opt.crop_margin > 0 ? opt.crop_margin : framing.framing.face.margin;
    c.crop.square = framing.framing.face.square;
    c.crop.center_shift_y = framing.framing.face.center_shift_y;
  } else if (opt.crop_margin > 0) {
    fail(path, "a crop margin override was given, but this model sees the whole image (no face box to grow)");
  }

  if (s.output == "heatmaps") {
    c.output.kind = "heatmaps";
    c.output.layout = "maps-kHW";
    c.output.coordinates = "heatmap cells, centre of cell (j, i) at (x=j, y=i); input x = (x_hm + 0.5) * W / w - 0.5";
    c.output.width = s.input_w / 2;
    c.output.height = s.input_h / 2;
    c.output.decode = "softmax per map, then decode_argmax_refined (heatmap.hpp)";
    c.output.sigma = meta_number("heatmap_sigma", 0.0);
    if (!meta_or("heatmap_sigma") && meta_or("config")) {  // else the training config's "sigma"
      try {
        const Json cfg = Json::parse(*meta_or("config"));
        if (const Json* sg = cfg.find("sigma"); sg && sg->is_number()) c.output.sigma = sg->as_number();
      } catch (const std::exception&) {
      }
    }
  }

  // Training provenance, from the checkpoint metadata the trainer writes.
  Json t = Json::object();
  if (auto v = meta_or("pack_source")) t["data"] = *v;
  if (auto v = meta_or("pack_schema")) t["data_schema"] = *v;
  t["epochs"] = meta_int(st, "epoch", path);
  if (auto v = meta_or("device")) t["device"] = *v;
  if (auto v = meta_or("torch_version")) t["torch_version"] = *v;
  if (meta_or("train_loss")) t["train_loss"] = meta_number("train_loss", 0.0);
  if (meta_or("val_loss")) t["val_loss"] = meta_number("val_loss", 0.0);
  if (auto v = meta_or("config")) {
    try {
      t["config"] = Json::parse(*v, path + " (metadata 'config')");
      // `train --train-on-val`: the card's val loss is then of images the model was trained on.
      const Json* tov = t["config"].find("train_on_val");
      if (tov && tov->type() == Json::Type::Bool && tov->as_bool()) t["splits"] = "train+val (val not held out)";
    } catch (const std::exception&) {
      t["config"] = *v;  // keep it verbatim
    }
  }
  t["checkpoint"] = std::filesystem::path(path).filename().string();
  c.training = t;

  if (!opt.metrics_path.empty()) {
    // The card's metrics are what predict_tests and the docs quote for this model: only an eval of it.
    c.metrics = Json::parse(read_file_text(opt.metrics_path), opt.metrics_path);
    const Json* model = c.metrics.find("model");
    const Json* schema = c.metrics.find("schema");
    if (!c.metrics.is_object() || !c.metrics.contains("split") || !c.metrics.contains("n") || !model ||
        !model->is_string() || !schema || !schema->is_string())
      fail(opt.metrics_path, "not the JSON of `facekeys eval` (it needs split, n, model, schema): write it with "
                             "`facekeys eval CHECKPOINT --pack P > eval.json`");
    if (model->as_string() != s.arch || schema->as_string() != s.schema)
      fail(opt.metrics_path, "metrics of a " + model->as_string() + " (" + schema->as_string() + " points), but " +
                                 path + " is a " + s.arch + " (" + s.schema + " points)");
  }

  c.onnx.file = "model.onnx";
  c.onnx.opset = opt.opset;
  c.onnx.ir_version = kOnnxIrVersion;
  c.onnx.input_name = "input";
  c.onnx.output_name = s.output == "heatmaps" ? "heatmaps" : "points";
  c.onnx.weights = weight_storage_name(opt.weights);
  c.output.flip_test = opt.flip_test == ExportOptions::FlipTest::Pipeline;
  c.onnx.flip_test = opt.flip_test == ExportOptions::FlipTest::Graph;
  validate_model_card(c, path);
  return c;
}

void verify_export(const std::string& dir) {
  const std::string card_path = (std::filesystem::path(dir) / "model.json").string();
  const ModelCard card = read_model_card(card_path);
  const std::string onnx_path = (std::filesystem::path(dir) / card.onnx.file).string();
  const onnx::ModelProto m = read_onnx_model(onnx_path);
  check_onnx_model(m, onnx_path);
  const OnnxIo io = onnx_io(m, onnx_path);
  if (io.input_name != card.onnx.input_name || io.output_name != card.onnx.output_name)
    fail(onnx_path, "graph input/output are '" + io.input_name + "'/'" + io.output_name + "', the model card (" +
                        card_path + ") says '" + card.onnx.input_name + "'/'" + card.onnx.output_name + "'");
  check_card_matches_shapes(card, io.input_shape, io.output_shape, onnx_path);
  int opset = -1;
  for (const auto& o : m.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") opset = static_cast<int>(o.version());
  if (opset != card.onnx.opset)
    fail(onnx_path, "opset " + std::to_string(opset) + " but the model card says " + std::to_string(card.onnx.opset));
  const auto bytes = read_file_bytes(onnx_path);
  if (const std::string why = onnx_bytes_mismatch(card, bytes.data(), bytes.size()); !why.empty())
    fail(onnx_path, why + " (" + card_path + ")");
}

ExportResult export_checkpoint(const std::string& ckpt_path, const std::string& out_dir, const ExportOptions& opt) {
  const SafeTensorsFile st = read_safetensors(ckpt_path);
  // The card first: it validates the metadata and reads --metrics before any output is written.
  ModelCard card = make_model_card(st, ckpt_path, opt);
  const onnx::ModelProto model = build_onnx_model(st, ckpt_path, opt.opset, opt.weights,
                                                     opt.flip_test == ExportOptions::FlipTest::Graph);
  check_onnx_model(model, ckpt_path + " -> ONNX");
  std::string bytes;
  if (!model.SerializeToString(&bytes)) fail(ckpt_path, "cannot serialise the ONNX model (over 2 GB?)");
  card.onnx.sha256 = sha256_hex(bytes.data(), bytes.size());

  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) fail(out_dir, "cannot create directory: " + ec.message());
  ExportResult r;
  r.onnx_path = (std::filesystem::path(out_dir) / "model.onnx").string();
  r.card_path = (std::filesystem::path(out_dir) / "model.json").string();
  write_file_atomic(r.onnx_path, bytes.data(), bytes.size());
  write_model_card(r.card_path, card);
  verify_export(out_dir);
  r.card = card;
  r.crop_recorded = checkpoint_framing(st, ckpt_path).recorded;
  return r;
}

}  // namespace facekeys
