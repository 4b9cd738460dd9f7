#include "facekeys/model_card.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string_view>

#include "facekeys/file_io.hpp"
#include "facekeys/schema.hpp"
#include "format_util.hpp"

namespace facekeys {
namespace {

[[noreturn]] void fail(const std::string& name, const std::string& what) {
  throw std::runtime_error(name + ": " + what);
}

// Field access with messages naming the card and the JSON path. The result
// refers into obj alone; key and path are views, so that a call with string
// literals makes no temporary std::string for GCC 13+'s -Wdangling-reference
// to suspect the returned reference of pointing into.
const Json& field(const Json& obj, std::string_view key, std::string_view path, const std::string& name) {
  const std::string k(key), p(path);
  if (!obj.is_object()) fail(name, "model card field '" + p + "' is not an object");
  const Json* v = obj.find(k);
  if (!v) fail(name, "model card has no '" + (p.empty() ? k : p + "." + k) + "'");
  return *v;
}

template <class F>
auto typed(const std::string& name, const std::string& path, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& e) {
    fail(name, "model card field '" + path + "': " + e.what());
  }
}

std::string get_string(const Json& obj, const std::string& key, const std::string& path, const std::string& name) {
  const Json& v = field(obj, key, path, name);
  const std::string p = path.empty() ? key : path + "." + key;
  return typed(name, p, [&] { return v.as_string(); });
}
double get_number(const Json& obj, const std::string& key, const std::string& path, const std::string& name) {
  const Json& v = field(obj, key, path, name);
  const std::string p = path.empty() ? key : path + "." + key;
  return typed(name, p, [&] { return v.as_number(); });
}
int get_int(const Json& obj, const std::string& key, const std::string& path, const std::string& name) {
  const Json& v = field(obj, key, path, name);
  const std::string p = path.empty() ? key : path + "." + key;
  const std::int64_t i = typed(name, p, [&] { return v.as_int(); });
  if (i < -2147483647LL || i > 2147483647LL) fail(name, "model card field '" + p + "' is out of range");
  return static_cast<int>(i);
}

}  // namespace

Json model_card_to_json(const ModelCard& c) {
  Json j = Json::object();
  j["format"] = kModelCardFormat;
  j["version"] = kModelCardVersion;
  j["name"] = c.name;
  j["arch"] = c.arch;
  Json lm = Json::object();
  lm["schema"] = c.schema;
  lm["num_points"] = c.num_points;
  j["landmarks"] = lm;

  Json in = Json::object();
  in["width"] = c.input.width;
  in["height"] = c.input.height;
  in["channels"] = c.input.channels;
  in["color"] = c.input.color;
  in["mean"] = c.input.mean;
  in["std"] = c.input.std;
  in["normalisation"] = "(pixel/255 - mean)/std";
  in["layout"] = "NCHW";
  j["input"] = in;

  Json crop = Json::object();
  crop["source"] = c.crop.source;
  if (c.crop.source == "face-box") {
    crop["margin"] = c.crop.margin;
    crop["square"] = c.crop.square;
    crop["center_shift_y"] = c.crop.center_shift_y;
  }
  crop["aspect"] = c.crop.aspect;
  j["crop"] = crop;

  Json out = Json::object();
  out["kind"] = c.output.kind;
  out["layout"] = c.output.layout;
  out["coordinates"] = c.output.coordinates;
  if (c.output.kind == "heatmaps") {
    out["width"] = c.output.width;
    out["height"] = c.output.height;
    out["decode"] = c.output.decode;
    out["sigma"] = c.output.sigma;
  }
  if (c.output.flip_test) out["flip_test"] = true;
  j["output"] = out;

  j["training"] = c.training;
  j["metrics"] = c.metrics;

  Json onnx = Json::object();
  onnx["file"] = c.onnx.file;
  onnx["opset"] = c.onnx.opset;
  onnx["ir_version"] = c.onnx.ir_version;
  onnx["input_name"] = c.onnx.input_name;
  onnx["output_name"] = c.onnx.output_name;
  if (!c.onnx.sha256.empty()) onnx["sha256"] = c.onnx.sha256;
  onnx["weights"] = c.onnx.weights;
  onnx["flip_test"] = c.onnx.flip_test;
  j["onnx"] = onnx;
  return j;
}

ModelCard model_card_from_json(const Json& j, const std::string& name) {
  if (!j.is_object()) fail(name, "not a model card (not a JSON object)");
  const Json* fmt = j.find("format");
  if (!fmt || !fmt->is_string() || fmt->as_string() != kModelCardFormat)
    fail(name, std::string("not a facekeys model card (\"format\" is not \"") + kModelCardFormat + "\")");
  const int version = get_int(j, "version", "", name);
  if (version != kModelCardVersion)
    fail(name, "model card version " + std::to_string(version) + ", this build reads version " +
                   std::to_string(kModelCardVersion));

  ModelCard c;
  c.name = get_string(j, "name", "", name);
  c.arch = get_string(j, "arch", "", name);
  const Json& lm = field(j, "landmarks", "", name);
  c.schema = get_string(lm, "schema", "landmarks", name);
  c.num_points = get_int(lm, "num_points", "landmarks", name);

  const Json& in = field(j, "input", "", name);
  c.input.width = get_int(in, "width", "input", name);
  c.input.height = get_int(in, "height", "input", name);
  c.input.channels = get_int(in, "channels", "input", name);
  c.input.color = get_string(in, "color", "input", name);
  c.input.mean = get_number(in, "mean", "input", name);
  c.input.std = get_number(in, "std", "input", name);

  const Json& crop = field(j, "crop", "", name);
  c.crop.source = get_string(crop, "source", "crop", name);
  if (c.crop.source == "face-box") {
    c.crop.margin = get_number(crop, "margin", "crop", name);
    if (const Json* sq = crop.find("square")) c.crop.square = typed(name, "crop.square", [&] { return sq->as_bool(); });
    if (crop.contains("center_shift_y")) c.crop.center_shift_y = get_number(crop, "center_shift_y", "crop", name);
  }
  c.crop.aspect = get_number(crop, "aspect", "crop", name);

  const Json& out = field(j, "output", "", name);
  c.output.kind = get_string(out, "kind", "output", name);
  c.output.layout = get_string(out, "layout", "output", name);
  if (out.contains("coordinates")) c.output.coordinates = get_string(out, "coordinates", "output", name);
  if (c.output.kind == "heatmaps") {
    c.output.width = get_int(out, "width", "output", name);
    c.output.height = get_int(out, "height", "output", name);
    c.output.decode = get_string(out, "decode", "output", name);
    if (out.contains("sigma")) c.output.sigma = get_number(out, "sigma", "output", name);
  }
  if (const Json* f = out.find("flip_test"))
    c.output.flip_test = typed(name, "output.flip_test", [&] { return f->as_bool(); });

  if (const Json* t = j.find("training")) c.training = *t;
  if (const Json* m = j.find("metrics")) c.metrics = *m;

  const Json& onnx = field(j, "onnx", "", name);
  c.onnx.file = get_string(onnx, "file", "onnx", name);
  c.onnx.opset = get_int(onnx, "opset", "onnx", name);
  if (onnx.contains("ir_version")) c.onnx.ir_version = get_int(onnx, "ir_version", "onnx", name);
  if (onnx.contains("input_name")) c.onnx.input_name = get_string(onnx, "input_name", "onnx", name);
  if (onnx.contains("output_name")) c.onnx.output_name = get_string(onnx, "output_name", "onnx", name);
  if (onnx.contains("sha256")) c.onnx.sha256 = get_string(onnx, "sha256", "onnx", name);
  if (onnx.contains("weights")) c.onnx.weights = get_string(onnx, "weights", "onnx", name);
  if (const Json* f = onnx.find("flip_test")) c.onnx.flip_test = typed(name, "onnx.flip_test", [&] { return f->as_bool(); });

  validate_model_card(c, name);
  return c;
}

void validate_model_card(const ModelCard& c, const std::string& name) {
  if (c.arch.empty()) fail(name, "model card has an empty 'arch'");
  const LandmarkSchema* schema = nullptr;
  try {
    schema = &schema_by_name(c.schema);
  } catch (const std::exception& e) {
    fail(name, std::string("model card landmarks.schema: ") + e.what());
  }
  if (c.num_points != schema->num_points)
    fail(name, "model card landmarks.num_points is " + std::to_string(c.num_points) + " but schema '" + c.schema +
                   "' has " + std::to_string(schema->num_points) + " points");
  // Bounded so that sizes derived from them (points x map cells, input pixels) fit in 32 bits on wasm32.
  constexpr int kMaxSide = 4096;
  if (c.input.width <= 0 || c.input.height <= 0 || c.input.width > kMaxSide || c.input.height > kMaxSide)
    fail(name, "model card input size " + std::to_string(c.input.width) + "x" + std::to_string(c.input.height) +
                   " is not within 1.." + std::to_string(kMaxSide));
  if (c.input.channels != 1)
    fail(name, "model card input.channels is " + std::to_string(c.input.channels) + " (only 1, gray, is supported)");
  if (c.input.color != "gray-bt601") fail(name, "model card input.color '" + c.input.color + "' is not 'gray-bt601'");
  // Ranges that a real model can have, so that a damaged card is refused
  // rather than followed to points millions of pixels away.
  if (!(c.input.mean >= -1.0 && c.input.mean <= 2.0) || !(c.input.std > 0.0 && c.input.std <= 10.0))
    fail(name, "model card input.mean/std must be finite with std > 0 (mean within [-1, 2], std at most 10)");
  if (c.crop.source != "whole-image" && c.crop.source != "face-box")
    fail(name, "model card crop.source '" + c.crop.source + "' is not 'whole-image' or 'face-box'");
  if (c.crop.source == "face-box" && !(c.crop.margin > 0 && c.crop.margin <= 10))
    fail(name, "model card crop.margin must be within (0, 10] (the crop side over the face box side)");
  if (!(c.crop.center_shift_y >= -1 && c.crop.center_shift_y <= 1))
    fail(name, "model card crop.center_shift_y must be within [-1, 1] (a fraction of the face box height)");
  if (!(c.crop.aspect >= 0.1 && c.crop.aspect <= 10)) fail(name, "model card crop.aspect must be within [0.1, 10]");
  if (c.output.kind == "coords") {
    if (c.output.layout != "interleaved-xy")
      fail(name, "model card output.layout '" + c.output.layout + "' is not 'interleaved-xy'");
  } else if (c.output.kind == "heatmaps") {
    if (!(c.output.sigma >= 0 && c.output.sigma <= 100))  // 0: not given
      fail(name, "model card output.sigma must be within (0, 100] heatmap cells");
    if (c.output.width <= 0 || c.output.height <= 0 || c.output.width > kMaxSide || c.output.height > kMaxSide)
      fail(name, "model card heatmap output size " + std::to_string(c.output.width) + "x" +
                     std::to_string(c.output.height) + " is not within 1.." + std::to_string(kMaxSide));
  } else {
    fail(name, "model card output.kind '" + c.output.kind + "' is not 'coords' or 'heatmaps'");
  }
  if (c.output.flip_test && c.onnx.flip_test)
    fail(name, "model card asks for the flip test twice: in the pipeline (output.flip_test) and in the graph "
               "(onnx.flip_test)");
  if (c.onnx.file.empty()) fail(name, "model card onnx.file is empty");
  if (c.onnx.opset < 7 || c.onnx.opset > 30) fail(name, "model card onnx.opset must be within 7..30");
  if (c.onnx.weights != "float32" && c.onnx.weights != "int8")
    fail(name, "model card onnx.weights is '" + c.onnx.weights + "' (expected float32 or int8)");
}

ModelCard read_model_card(const std::string& path) {
  const Json j = Json::parse(read_file_text(path), path);
  return model_card_from_json(j, path);
}

void write_model_card(const std::string& path, const ModelCard& card) {
  validate_model_card(card, path);
  write_file_atomic(path, model_card_to_json(card).dump(2) + "\n");
}

std::vector<std::int64_t> card_input_shape(const ModelCard& c) {
  return {-1, c.input.channels, c.input.height, c.input.width};
}

std::vector<std::int64_t> card_output_shape(const ModelCard& c) {
  if (c.output.kind == "heatmaps") return {-1, c.num_points, c.output.height, c.output.width};
  return {-1, 2 * static_cast<std::int64_t>(c.num_points)};
}

void check_card_matches_shapes(const ModelCard& card, const std::vector<std::int64_t>& model_input,
                               const std::vector<std::int64_t>& model_output, const std::string& model_name) {
  auto check = [&](const char* what, const std::vector<std::int64_t>& want, const std::vector<std::int64_t>& got) {
    bool ok = want.size() == got.size();
    for (std::size_t i = 0; ok && i < want.size(); ++i) {
      if (want[i] < 0) continue;           // the card allows any batch
      if (got[i] != want[i]) ok = false;   // a dynamic dimension elsewhere is not what the card promises
    }
    if (!ok)
      fail(model_name, std::string(what) + " shape " + format_detail::shape_text(got) + " does not match the model card's " +
                           format_detail::shape_text(want) + " (arch " + card.arch + ")");
  };
  check("input", card_input_shape(card), model_input);
  check("output", card_output_shape(card), model_output);
}

// ---- SHA-256 (FIPS 180-4) ---------------------------------------------------

std::string sha256_hex(const void* data, std::size_t size) {
  static const std::uint32_t k[64] = {
      0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
      0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
      0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
      0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
      0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
      0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
      0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
      0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
  std::uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  auto rotr = [](std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); };
  auto block = [&](const std::uint8_t* p) {
    std::uint32_t w[64];
    for (int i = 0; i < 16; ++i)
      w[i] = (std::uint32_t(p[4 * i]) << 24) | (std::uint32_t(p[4 * i + 1]) << 16) |
             (std::uint32_t(p[4 * i + 2]) << 8) | std::uint32_t(p[4 * i + 3]);
    for (int i = 16; i < 64; ++i) {
      const std::uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      const std::uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; ++i) {
      const std::uint32_t s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
      const std::uint32_t ch = (e & f) ^ (~e & g);
      const std::uint32_t t1 = hh + s1 + ch + k[i] + w[i];
      const std::uint32_t s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
      const std::uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
      const std::uint32_t t2 = s0 + maj;
      hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
  };
  const auto* bytes = static_cast<const std::uint8_t*>(data);
  std::size_t full = size / 64;
  for (std::size_t i = 0; i < full; ++i) block(bytes + 64 * i);
  std::uint8_t tail[128] = {};
  const std::size_t rest = size - full * 64;
  for (std::size_t i = 0; i < rest; ++i) tail[i] = bytes[full * 64 + i];
  tail[rest] = 0x80;
  const std::size_t tail_len = rest + 9 <= 64 ? 64 : 128;
  const std::uint64_t bits = static_cast<std::uint64_t>(size) * 8;
  for (int i = 0; i < 8; ++i) tail[tail_len - 1 - i] = static_cast<std::uint8_t>(bits >> (8 * i));
  block(tail);
  if (tail_len == 128) block(tail + 64);
  std::string hex;
  char buf[9];
  for (std::uint32_t v : h) {
    std::snprintf(buf, sizeof buf, "%08x", v);
    hex += buf;
  }
  return hex;
}

std::string onnx_bytes_mismatch(const ModelCard& card, const void* data, std::size_t size) {
  if (card.onnx.sha256.empty()) return "";
  const std::string sha = sha256_hex(data, size);
  if (sha == card.onnx.sha256) return "";
  return "does not match its model card (SHA-256 " + sha.substr(0, 12) + "..., the card records " +
         card.onnx.sha256.substr(0, 12) + "...): " + card.onnx.file +
         " and model.json must come from the same `facekeys export`";
}

std::string default_file_name(const std::string& default_file_text) {
  const std::string line = default_file_text.substr(0, default_file_text.find_first_of("\r\n"));
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\v' || c == '\f'; };
  std::size_t a = 0, b = line.size();
  while (a < b && space(line[a])) ++a;
  while (b > a && space(line[b - 1])) --b;
  return line.substr(a, b - a);
}

std::string default_model_name(const std::string& default_file_text, const std::vector<std::string>& names) {
  const std::string named = default_file_name(default_file_text);
  if (!named.empty() && std::find(names.begin(), names.end(), named) != names.end()) return named;
  if (names.empty()) return "";
  return *std::min_element(names.begin(), names.end());
}

}  // namespace facekeys
