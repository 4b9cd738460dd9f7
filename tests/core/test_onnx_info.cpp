// The ONNX outline reader (onnx_info.hpp), the model check both front ends
// run before a runtime sees a file (model_check.hpp) and the page's fold of
// int8 weights (onnx_fold.hpp), on tiny ONNX files made here field by field:
// one good model, then one thing wrong at a time.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "facekeys/model_card.hpp"
#include "facekeys/model_check.hpp"
#include "facekeys/onnx_fold.hpp"
#include "facekeys/onnx_info.hpp"
#include "support/test_helpers.hpp"

#include "support/catch.hpp"

using namespace facekeys;
using Catch::Matchers::ContainsSubstring;

namespace {

// ---- a protobuf writer, just enough for ModelProto --------------------------
using Bytes = std::string;

Bytes varint(std::uint64_t v) {
  Bytes out;
  do {
    std::uint8_t b = v & 0x7f;
    v >>= 7;
    out.push_back(static_cast<char>(v ? b | 0x80 : b));
  } while (v);
  return out;
}
Bytes tag(int field, int wire) { return varint(static_cast<std::uint64_t>(field) << 3 | static_cast<unsigned>(wire)); }
Bytes vint(int field, std::int64_t v) { return tag(field, 0) + varint(static_cast<std::uint64_t>(v)); }
Bytes len(int field, const Bytes& body) { return tag(field, 2) + varint(body.size()) + body; }

// ValueInfoProto of a tensor; a dim < 0 is written as a symbolic dim_param.
Bytes value_info(const std::string& name, int elem_type, const std::vector<std::int64_t>& dims, bool with_shape = true) {
  Bytes shape;
  for (std::int64_t d : dims) shape += len(1, d < 0 ? len(2, "N") : vint(1, d));
  Bytes tensor_type = vint(1, elem_type);
  if (with_shape) tensor_type += len(2, shape);
  return len(1, name) + len(2, len(1, tensor_type));
}

// TensorProto with raw_data of `raw_bytes` bytes (or none when raw_bytes < 0).
Bytes tensor(const std::string& name, int elem_type, const std::vector<std::int64_t>& dims, long raw_bytes) {
  Bytes t;
  for (std::int64_t d : dims) t += vint(1, d);
  t += vint(2, elem_type);
  t += len(8, name);
  if (raw_bytes >= 0) t += len(9, Bytes(static_cast<std::size_t>(raw_bytes), '\1'));
  return t;
}

struct Spec {
  std::int64_t ir_version = 8;
  std::vector<std::pair<std::string, std::int64_t>> opsets = {{"", 17}};
  std::vector<Bytes> inputs = {value_info("input", 1, {-1, 1, 180, 240})};
  std::vector<Bytes> outputs = {value_info("points", 1, {-1, 116})};
  std::vector<Bytes> initializers = {tensor("w", 1, {116, 4}, 116 * 4 * 4)};
  std::vector<Bytes> nodes = {len(4, "Gemm")};  // op_type only: the check does not run the graph
};

Bytes model(const Spec& s) {
  Bytes graph;
  for (const Bytes& n : s.nodes) graph += len(1, n);
  graph += len(2, "g");
  for (const Bytes& t : s.initializers) graph += len(5, t);
  for (const Bytes& i : s.inputs) graph += len(11, i);
  for (const Bytes& o : s.outputs) graph += len(12, o);
  Bytes m = vint(1, s.ir_version) + len(2, "facekeys-test");
  for (const auto& o : s.opsets) m += len(8, len(1, o.first) + vint(2, o.second));
  return m + len(7, graph);
}

const std::uint8_t* u8(const Bytes& b) { return reinterpret_cast<const std::uint8_t*>(b.data()); }

void check(const ModelCard& card, const Bytes& b, const std::string& path = "m/model.onnx") {
  check_keypoint_model_file(card, u8(b), b.size(), path);
}

}  // namespace

TEST_CASE("read_onnx_info: the outline of a tiny model", "[onnx_info]") {
  Spec s;
  s.inputs.push_back(value_info("w", 1, {116, 4}));  // an initializer listed as an input (IR < 4 style)
  const Bytes b = model(s);
  const OnnxInfo info = read_onnx_info(u8(b), b.size(), "m.onnx");
  CHECK(info.has_graph);
  CHECK(info.ir_version == 8);
  REQUIRE(info.opsets.size() == 1);
  CHECK(info.opsets[0].domain.empty());
  CHECK(info.opsets[0].version == 17);
  REQUIRE(info.inputs.size() == 2);
  CHECK(info.inputs[0].name == "input");
  CHECK(info.inputs[0].elem_type == kOnnxFloat);
  CHECK(info.inputs[0].dims == std::vector<std::int64_t>{-1, 1, 180, 240});
  REQUIRE(info.outputs.size() == 1);
  CHECK(info.outputs[0].dims == std::vector<std::int64_t>{-1, 116});
  CHECK(info.initializer_names == std::vector<std::string>{"w"});
  CHECK(info.node_count == 1);
  CHECK(info.tensor_count == 1);
  CHECK(info.declared_bytes == 116 * 4 * 4);
  CHECK(info.inconsistent_tensor.empty());
  CHECK(info.external_count == 0);
  CHECK_NOTHROW(check(testing::imm_card(), b));  // "w" is fed by its initializer
}

TEST_CASE("read_onnx_info: typed data, packed and not, Constant tensors and sparse weights count", "[onnx_info]") {
  Spec s;
  // float_data packed: 3 floats for dims [3]; int64_data unpacked: 2 values for dims [2].
  const Bytes floats = vint(1, 3) + vint(2, 1) + len(8, "f") + len(4, Bytes(12, '\0'));
  const Bytes int64s = vint(1, 2) + vint(2, 7) + len(8, "i") + vint(7, 5) + vint(7, 300);
  s.initializers = {floats, int64s};
  // A Constant node holding a [10, 10] float tensor in its attribute "value".
  s.nodes.push_back(len(4, "Constant") + len(5, len(1, "value") + len(5, tensor("c", 1, {10, 10}, 400))));
  const Bytes b = model(s);
  const OnnxInfo info = read_onnx_info(u8(b), b.size(), "m.onnx");
  CHECK(info.tensor_count == 3);
  CHECK(info.declared_bytes == 12 + 16 + 400);
  CHECK(info.inconsistent_tensor.empty());
  CHECK(info.node_count == 2);
}

TEST_CASE("read_onnx_info: bytes that are not a well-formed protobuf are refused by name", "[onnx_info]") {
  const Bytes good = model(Spec{});
  CHECK_THROWS_WITH(read_onnx_info(u8(good), 0, "e.onnx"), ContainsSubstring("e.onnx") && ContainsSubstring("empty"));
  // Every truncation of the file either parses (a prefix that ends between
  // fields) or is refused with the file's name; none reads past the end.
  for (std::size_t n = 1; n < good.size(); ++n) {
    const Bytes cut = good.substr(0, n);
    try {
      (void)read_onnx_info(u8(cut), cut.size(), "cut.onnx");
    } catch (const std::runtime_error& e) {
      CHECK_THAT(e.what(), ContainsSubstring("cut.onnx: corrupt or not an ONNX file"));
    }
  }
  // A length field claiming more than there is.
  const Bytes liar = tag(7, 2) + varint(1ull << 40) + "xx";
  CHECK_THROWS_WITH(read_onnx_info(u8(liar), liar.size(), "l.onnx"), ContainsSubstring("claims 1099511627776 bytes"));
  const Bytes group = tag(7, 3);
  CHECK_THROWS_WITH(read_onnx_info(u8(group), group.size(), "g.onnx"), ContainsSubstring("groups"));
  const Bytes long_varint = vint(1, 1).substr(0, 1) + Bytes(11, '\xff');
  CHECK_THROWS_WITH(read_onnx_info(u8(long_varint), long_varint.size(), "v.onnx"), ContainsSubstring("v.onnx"));
  // Subgraphs nested without end (an If inside an If inside ...).
  Bytes g = "";
  for (int i = 0; i < 40; ++i) g = len(1, len(5, len(6, g)));
  const Bytes deep = vint(1, 8) + len(7, g);
  CHECK_THROWS_WITH(read_onnx_info(u8(deep), deep.size(), "d.onnx"), ContainsSubstring("nested deeper"));
  // Not ONNX at all: a JPEG's first bytes are field 31, wire type 0... and then nonsense.
  const Bytes jpeg = "\xff\xd8\xff\xe0\x00\x10JFIF";
  CHECK_THROWS_WITH(check(testing::imm_card(), jpeg, "photo.onnx"), ContainsSubstring("photo.onnx"));
}

TEST_CASE("check_keypoint_model_file refuses each kind of bad model, naming the file and the problem",
          "[onnx_info][model_check]") {
  const ModelCard card = testing::imm_card();
  CHECK_NOTHROW(check(card, model(Spec{})));
  auto refused = [&](const Spec& s, const std::string& what) {
    CHECK_THROWS_WITH(check(card, model(s)), ContainsSubstring("m/model.onnx: ") && ContainsSubstring(what));
  };
  Spec s;

  SECTION("another file than the card's (SHA-256)") {
    ModelCard c = card;
    c.onnx.sha256 = sha256_hex("x", 1);
    CHECK_THROWS_WITH(check(c, model(Spec{})), ContainsSubstring("m/model.onnx: does not match its model card"));
  }
  SECTION("input and output names") {
    s.inputs = {value_info("image", 1, {-1, 1, 180, 240})};
    refused(s, "has no input 'input'");
    s = Spec{};
    s.outputs = {value_info("landmarks", 1, {-1, 116})};
    refused(s, "has no output 'points'");
    s = Spec{};
    s.inputs.push_back(value_info("mask", 1, {-1, 1, 180, 240}));
    refused(s, "needs 2 inputs");
    s = Spec{};
    s.outputs.push_back(value_info("extra", 1, {-1, 4}));
    refused(s, "has 2 outputs");
  }
  SECTION("input rank and shape") {
    s.inputs = {value_info("input", 1, {-1, 180, 240})};
    refused(s, "input 'input' has rank 3 [?, 180, 240], but its card (t-imm) promises rank 4 [N, 1, 180, 240]");
    s.inputs = {value_info("input", 1, {-1, 1, 240, 180})};
    refused(s, "(height (dimension 2) 240 instead of 180)");
    s.inputs = {value_info("input", 1, {-1, 3, 180, 240})};
    refused(s, "channels (dimension 1) 3 instead of 1");
    s.inputs = {value_info("input", 1, {-1, 1, 180, 240}, false)};
    refused(s, "states no shape");
    s.inputs = {value_info("input", 10, {-1, 1, 180, 240})};
    refused(s, "input 'input' is float16, not float");
  }
  SECTION("dynamic height and width are refused, a dynamic or fixed batch is not") {
    s.inputs = {value_info("input", 1, {-1, 1, -1, -1})};
    refused(s, "has a dynamic height (dimension 2) [?, 1, ?, ?]; its card (t-imm) fixes it at 180: only the batch "
               "dimension may be dynamic");
    s.inputs = {value_info("input", 1, {1, 1, 180, 240})};
    s.outputs = {value_info("points", 1, {1, 116})};
    CHECK_NOTHROW(check(card, model(s)));
  }
  SECTION("output shape") {
    s.outputs = {value_info("points", 1, {-1, 136})};
    refused(s, "output 'points' is [?, 136] but its card (t-imm) promises [N, 116]");
    s.outputs = {value_info("points", 1, {-1, -1})};
    refused(s, "dynamic coordinates (dimension 1)");
  }
  SECTION("operator sets and IR versions the runtimes lack") {
    s.opsets = {{"", 18}};
    refused(s, "ONNX opset 18 is not supported: OpenCV DNN 4.6 (facekeys predict) and the page run opsets 7 to 17");
    s.opsets = {{"", 6}};
    refused(s, "ONNX opset 6 is not supported");
    s.opsets = {{"", 17}, {"com.microsoft", 1}};
    refused(s, "uses operator set 'com.microsoft'");
    s.opsets = {};
    refused(s, "declares no ONNX operator set");
    s = Spec{};
    s.ir_version = 11;
    refused(s, "ONNX IR version 11 is not supported");
    s.ir_version = 0;
    refused(s, "ONNX IR version 0");
  }
  SECTION("weights that declare gigabytes, or more than the file holds") {
    s.initializers = {tensor("huge", 1, {1 << 20, 1 << 10}, -1)};  // 4 GiB declared, no data
    refused(s, "its weights declare 4294967296 bytes (4096 MiB) but the file holds only");
    s.initializers = {tensor("overflow", 1, {1ll << 40, 1ll << 40}, -1)};
    refused(s, "more than 2^64 bytes");
    // Declared and stored alike, and over the limit: a file of 300 MiB is refused before it is read.
    const Bytes b = model(Spec{});
    CHECK_THROWS_WITH(check_keypoint_model_file(card, u8(b), kMaxKeypointModelBytes + 1, "big.onnx"),
                      ContainsSubstring("big.onnx: the file is 268435457 bytes") && ContainsSubstring("over the limit"));
    // A Constant node declaring 1 GiB.
    s = Spec{};
    s.nodes.push_back(len(4, "Constant") + len(5, len(1, "value") + len(5, tensor("c", 1, {1 << 28}, -1))));
    refused(s, "its weights declare 1073743680 bytes (1024 MiB)");  // with the 1856 of 'w'
  }
  SECTION("weights whose data does not fit their dims") {
    s.initializers = {tensor("w", 1, {4}, 100)};
    refused(s, "damaged weights: tensor 'w' declares 16 bytes (float) but holds 100");
    s.initializers = {tensor("w", 1, {-3, 4}, 0)};
    refused(s, "tensor 'w' has a negative dimension");
    s.initializers = {tensor("w", 1, {2}, -1) + vint(5, 1)};  // 1 typed value where 2 are declared
    refused(s, "declares 2 elements (float) but holds 1 values");
  }
  SECTION("weights in another file") {
    s.initializers = {vint(1, 4) + vint(2, 1) + len(8, "w") + len(13, len(1, "location") + len(2, "w.bin")) +
                      vint(14, 1)};
    refused(s, "1 weight tensor(s) keep their data in another file ('w'...)");
  }
  SECTION("a heatmap card: [N, K, h, w] output") {
    ModelCard h = card;
    h.output.kind = "heatmaps";
    h.output.layout = "maps-kHW";
    h.output.width = 60;
    h.output.height = 45;
    h.output.sigma = 2;
    s.outputs = {value_info("points", 1, {-1, 58, 45, 60})};
    CHECK_NOTHROW(check(h, model(s)));
    s.outputs = {value_info("points", 1, {-1, 58, 45, -1})};
    CHECK_THROWS_WITH(check(h, model(s)), ContainsSubstring("dynamic width (dimension 3)"));
  }
}

TEST_CASE("check_face_detector_file: UltraFace's interface or a clear refusal", "[onnx_info][model_check]") {
  Spec s;
  s.ir_version = 4;
  s.opsets = {{"", 9}};
  s.inputs = {value_info("input", 1, {1, 3, 240, 320})};
  s.outputs = {value_info("scores", 1, {1, 4420, 2}), value_info("boxes", 1, {1, 4420, 4})};
  const Bytes good = model(s);
  CHECK_NOTHROW(check_face_detector_file(u8(good), good.size(), "d.onnx"));
  s.inputs = {value_info("input", 1, {1, 3, 480, 640})};
  CHECK_THROWS_WITH(check_face_detector_file(u8(model(s)), model(s).size(), "d.onnx"),
                    ContainsSubstring("d.onnx: input 'input' is [1, 3, 480, 640]") &&
                        ContainsSubstring("height (dimension 2) 480 instead of 240"));
  s.inputs = {value_info("input", 1, {1, 3, 240, 320})};
  s.outputs = {value_info("scores", 1, {1, 4420, 2}), value_info("boxes", 1, {1, 4000, 4})};
  CHECK_THROWS_WITH(check_face_detector_file(u8(model(s)), model(s).size(), "d.onnx"),
                    ContainsSubstring("disagree on the number of priors"));
  s.outputs = {value_info("out0", 1, {1, 4420, 2})};
  CHECK_THROWS_WITH(check_face_detector_file(u8(model(s)), model(s).size(), "d.onnx"),
                    ContainsSubstring("has no outputs 'scores' and 'boxes'") && ContainsSubstring("'out0'"));
}

// ---- fold_int8_weight_casts --------------------------------------------------

namespace {

// A TensorProto with these raw_data bytes.
Bytes raw_tensor(const std::string& name, int elem_type, const std::vector<std::int64_t>& dims, const Bytes& raw) {
  Bytes t;
  for (std::int64_t d : dims) t += vint(1, d);
  return t + vint(2, elem_type) + len(8, name) + len(9, raw);
}
// NodeProto; `to` >= 0 adds Cast's attribute.
Bytes node(const std::string& op, const std::vector<std::string>& in, const std::vector<std::string>& out, int to = -1,
           const Bytes& extra = "") {
  Bytes n;
  for (const auto& i : in) n += len(1, i);
  for (const auto& o : out) n += len(2, o);
  n += len(4, op);
  if (to >= 0) n += len(5, len(1, "to") + vint(3, to) + vint(20, 2));
  return n + extra;
}
// The int8 weight of the tests: 2 x 3 values, and the float32 bytes they widen to.
const Bytes kInt8 = {'\x81', '\xff', '\0', '\5', '\x7f', '\3'};  // -127 -1 0 5 127 3
Bytes widened() {
  Bytes f;
  for (float v : {-127.0f, -1.0f, 0.0f, 5.0f, 127.0f, 3.0f}) {
    std::uint32_t bits;
    std::memcpy(&bits, &v, 4);
    for (int k = 0; k < 4; ++k) f.push_back(static_cast<char>(bits >> (8 * k)));
  }
  return f;
}
// x -> Gemm(x, Cast(w.int8)) * scale: the shape `facekeys export --weights int8` writes.
Spec int8_spec() {
  Spec s;
  s.inputs = {value_info("x", 1, {-1, 3})};
  s.outputs = {value_info("y", 1, {-1, 2})};
  s.initializers = {raw_tensor("w.int8", kOnnxInt8, {2, 3}, kInt8), tensor("w.scale", 1, {2}, 8)};
  s.nodes = {node("Cast", {"w.int8"}, {"w"}, kOnnxFloat), node("Gemm", {"x", "w"}, {"g"}),
             node("Mul", {"g", "w.scale"}, {"y"})};
  return s;
}
Bytes fold(const Bytes& b) {
  const std::vector<std::uint8_t> out = fold_int8_weight_casts(u8(b), b.size(), "m.onnx");
  return Bytes(out.begin(), out.end());
}
bool has(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}
// Folded, with the int8 weight kept beside its float copy.
bool folded_beside_int8(const Spec& s) {
  const Bytes after = fold(model(s));
  const OnnxInfo a = read_onnx_info(u8(after), after.size(), "folded");
  return has(a.initializer_names, "w") && has(a.initializer_names, "w.int8");
}

}  // namespace

TEST_CASE("fold_int8_weight_casts: a Cast of an int8 weight becomes the float weight it computes", "[onnx_fold]") {
  const Bytes before = model(int8_spec());
  const Bytes after = fold(before);
  REQUIRE(!after.empty());
  const OnnxInfo a = read_onnx_info(u8(after), after.size(), "folded");
  const OnnxInfo b = read_onnx_info(u8(before), before.size(), "m.onnx");
  CHECK(a.node_count == b.node_count - 1);  // the Cast
  CHECK(has(a.initializer_names, "w"));
  CHECK(!has(a.initializer_names, "w.int8"));  // nothing reads it any more
  CHECK(has(a.initializer_names, "w.scale"));
  CHECK(a.inconsistent_tensor.empty());
  CHECK(a.ir_version == b.ir_version);
  CHECK(a.opsets.size() == 1);
  CHECK(a.inputs.size() == 1);
  CHECK(a.outputs.size() == 1);
  // The widened values, as little-endian float32 raw_data.
  CHECK(after.find(widened()) != Bytes::npos);
  // Everything before the graph is the file's own bytes.
  const std::size_t graph_at = before.find(tag(7, 2));
  CHECK(after.compare(0, graph_at, before, 0, graph_at) == 0);
  // Folded once: nothing left to fold.
  CHECK(fold(after).empty());
}

TEST_CASE("fold_int8_weight_casts: what it leaves alone", "[onnx_fold]") {
  SECTION("no Cast, or a Cast to another type, or of a float or computed value: nothing to fold") {
    Spec s = int8_spec();
    s.nodes[0] = node("Cast", {"w.int8"}, {"w"}, kOnnxInt32);
    CHECK(fold(model(s)).empty());
    s.nodes[0] = node("Cast", {"x"}, {"w"}, kOnnxFloat);
    CHECK(fold(model(s)).empty());
    s.initializers[0] = tensor("w.int8", 1, {2, 3}, 24);
    s.nodes[0] = node("Cast", {"w.int8"}, {"w"}, kOnnxFloat);
    CHECK(fold(model(s)).empty());
    CHECK(fold(model(Spec{})).empty());
  }
  SECTION("an int8 weight whose bytes do not match its dims is not touched") {
    Spec s = int8_spec();
    s.initializers[0] = raw_tensor("w.int8", kOnnxInt8, {2, 4}, kInt8);
    CHECK(fold(model(s)).empty());
  }
  SECTION("an int8 weight something else reads stays beside its float copy") {
    Spec s = int8_spec();
    s.nodes.push_back(node("Identity", {"w.int8"}, {"w8"}));
    CHECK(folded_beside_int8(s));
  }
  SECTION("a graph with subgraphs keeps its int8 weights (a body may read any outer name)") {
    Spec s = int8_spec();
    s.nodes.push_back(
        node("If", {"c"}, {"z"}, -1, len(5, len(1, "then_branch") + len(6, len(2, "body")) + vint(20, 5))));
    CHECK(folded_beside_int8(s));
  }
  SECTION("a Cast whose output an initializer already names is not folded") {
    Spec s = int8_spec();
    s.initializers.push_back(tensor("w", 1, {2, 3}, 24));
    CHECK(fold(model(s)).empty());
  }
}

TEST_CASE("fold_int8_weight_casts: bytes that are not a well-formed model are refused by name", "[onnx_fold]") {
  const Bytes good = model(int8_spec());
  const Bytes cut = good.substr(0, good.size() - 5);
  CHECK_THROWS_WITH(fold_int8_weight_casts(u8(cut), cut.size(), "m.onnx"),
                    ContainsSubstring("m.onnx: corrupt or not an ONNX file"));
  CHECK(fold_int8_weight_casts(nullptr, 0, "empty.onnx").empty());
}
