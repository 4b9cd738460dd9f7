// The ONNX exporter without LibTorch: checkpoints are written here with the
// core's safetensors writer (random weights under LibTorch's parameter names),
// exported, and checked with libonnx (checker, shape inference), the model
// card, a plain C++ reference forward pass and (when built with it) OpenCV DNN.
// LibTorch parity for every family is tests/native/test_export_parity.cpp.
#include <onnx/shape_inference/implementation.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "support/test_helpers.hpp"
#include "facekeys/file_io.hpp"
#include "facekeys/model_card.hpp"
#include "facekeys/safetensors.hpp"
#include "onnx_export.hpp"
#include "onnx_import.hpp"

#ifdef FACEKEYS_WITH_OPENCV_DNN
#include <opencv2/dnn.hpp>
#endif

#include "support/catch.hpp"

using namespace facekeys;
namespace fs = std::filesystem;

namespace {

std::string temp_dir(const std::string& name) { return testing::fresh_temp_dir("facekeys_onnx_test_" + name); }

using facekeys::testing::random_tensor;

std::vector<float> floats(const TensorRecord& r) {
  std::vector<float> v(static_cast<std::size_t>(r.numel()));
  std::memcpy(v.data(), r.bytes.data(), r.bytes.size());
  return v;
}

// A SimpleModel checkpoint (nose tip, 1x60x80): conv 1->12->24->32 (3x3), fc 2240->128, fc2 128->2.
SafeTensorsFile simple_model_checkpoint(unsigned seed = 1) {
  std::mt19937 rng(seed);
  SafeTensorsFile st;
  st.metadata = {{"format", "facekeys-checkpoint"}, {"version", "1"},    {"arch", "SimpleModel"},
                 {"schema", "nose_tip"},            {"input_w", "80"},  {"input_h", "60"},
                 {"channels", "1"},                 {"num_points", "1"}, {"output", "coords"},
                 {"epoch", "3"},                    {"device", "cpu"},  {"torch_version", "1.13.1"},
                 {"train_loss", "0.0125"},          {"val_loss", "0.0150"},
                 {"pack_source", "IMM face database, whole 640x480 frames resized to 80x60"},
                 {"config", "{\"model\":\"SimpleModel\",\"epochs\":3}"}};
  const int ch[4] = {1, 12, 24, 32};
  for (int i = 1; i <= 3; ++i) {
    const float s = 1.0f / std::sqrt(9.0f * ch[i - 1]);
    st.tensors.push_back(random_tensor("conv" + std::to_string(i) + ".weight", {ch[i], ch[i - 1], 3, 3}, rng, s));
    st.tensors.push_back(random_tensor("conv" + std::to_string(i) + ".bias", {ch[i]}, rng, s));
  }
  st.tensors.push_back(random_tensor("fc.weight", {128, 32 * 7 * 10}, rng, 1.0f / std::sqrt(2240.0f)));
  st.tensors.push_back(random_tensor("fc.bias", {128}, rng, 0.02f));
  st.tensors.push_back(random_tensor("fc2.weight", {2, 128}, rng, 1.0f / std::sqrt(128.0f)));
  st.tensors.push_back(random_tensor("fc2.bias", {2}, rng, 0.1f));
  st.tensors.push_back(random_tensor("adam.m.fc2.bias", {2}, rng, 1.0f));  // optimizer state: ignored
  return st;
}

std::string write_checkpoint(const SafeTensorsFile& st, const std::string& dir, const std::string& file) {
  const std::string path = (fs::path(dir) / file).string();
  write_safetensors(path, st);
  return path;
}

// Plain C++ forward pass of the ConvRegressor family: the reference for the exported graph.
std::vector<float> reference_forward(const SafeTensorsFile& st, const std::vector<float>& input, int h, int w) {
  std::vector<float> x = input;
  int c = 1;
  for (int i = 1; st.find("conv" + std::to_string(i) + ".weight"); ++i) {
    const auto& wr = *st.find("conv" + std::to_string(i) + ".weight");
    const auto wt = floats(wr), bias = floats(*st.find("conv" + std::to_string(i) + ".bias"));
    const int co = static_cast<int>(wr.shape[0]), k = static_cast<int>(wr.shape[2]), p = k / 2;
    std::vector<float> y(static_cast<std::size_t>(co) * h * w);
    for (int o = 0; o < co; ++o)
      for (int r = 0; r < h; ++r)
        for (int q = 0; q < w; ++q) {
          double s = bias[o];
          for (int ci = 0; ci < c; ++ci)
            for (int dr = 0; dr < k; ++dr)
              for (int dq = 0; dq < k; ++dq) {
                const int rr = r + dr - p, qq = q + dq - p;
                if (rr < 0 || rr >= h || qq < 0 || qq >= w) continue;
                s += double(wt[((o * c + ci) * k + dr) * k + dq]) * x[(ci * h + rr) * w + qq];
              }
          y[(o * h + r) * w + q] = static_cast<float>(std::max(0.0, s));
        }
    const int h2 = h / 2, w2 = w / 2;
    x.assign(static_cast<std::size_t>(co) * h2 * w2, 0.f);
    for (int o = 0; o < co; ++o)
      for (int r = 0; r < h2; ++r)
        for (int q = 0; q < w2; ++q)
          x[(o * h2 + r) * w2 + q] = std::max(std::max(y[(o * h + 2 * r) * w + 2 * q], y[(o * h + 2 * r) * w + 2 * q + 1]),
                                              std::max(y[(o * h + 2 * r + 1) * w + 2 * q], y[(o * h + 2 * r + 1) * w + 2 * q + 1]));
    c = co;
    h = h2;
    w = w2;
  }
  auto linear = [&](const std::string& p, const std::vector<float>& in, bool relu) {
    const auto& wr = *st.find(p + ".weight");
    const auto wt = floats(wr), b = floats(*st.find(p + ".bias"));
    std::vector<float> out(static_cast<std::size_t>(wr.shape[0]));
    for (std::size_t o = 0; o < out.size(); ++o) {
      double s = b[o];
      for (std::size_t i = 0; i < in.size(); ++i) s += double(wt[o * in.size() + i]) * in[i];
      out[o] = static_cast<float>(relu ? std::max(0.0, s) : s);
    }
    return out;
  };
  return linear("fc2", linear("fc", x, true), false);
}

}  // namespace

TEST_CASE("export --metrics takes only an eval of the same model", "[onnx]") {
  const std::string dir = temp_dir("metrics");
  const std::string ck = write_checkpoint(simple_model_checkpoint(), dir, "best.safetensors");
  ExportOptions opt;
  opt.metrics_path = dir + "/eval.json";
  write_file_atomic(opt.metrics_path, std::string("{\"model\": \"SimpleModel\", \"epochs\": 3}"));  // a config
  CHECK_THROWS_WITH(export_checkpoint(ck, dir + "/out", opt),
                    Catch::Matchers::ContainsSubstring("eval.json: not the JSON of `facekeys eval`"));
  write_file_atomic(opt.metrics_path, std::string("{\"split\": \"val\", \"n\": 48, \"model\": \"Baseline_7x7\", "
                                                  "\"schema\": \"imm58\", \"mse\": 0.0002}"));
  CHECK_THROWS_WITH(export_checkpoint(ck, dir + "/out", opt),
                    Catch::Matchers::ContainsSubstring("metrics of a Baseline_7x7 (imm58 points), but") &&
                        Catch::Matchers::ContainsSubstring("is a SimpleModel (nose_tip points)"));
  CHECK_FALSE(fs::exists(dir + "/out"));  // refused before anything is written
}

TEST_CASE("export writes a checked ONNX graph and a matching model card", "[onnx]") {
  const std::string dir = temp_dir("simple");
  const SafeTensorsFile st = simple_model_checkpoint();
  const std::string ck = write_checkpoint(st, dir, "best.safetensors");
  const std::string metrics = (fs::path(dir) / "eval.json").string();
  write_file_atomic(metrics, std::string("{\"split\": \"val\", \"n\": 48, \"model\": \"SimpleModel\", "
                                         "\"schema\": \"nose_tip\", \"mse\": 0.0031}"));

  ExportOptions opt;
  opt.metrics_path = metrics;
  const ExportResult r = export_checkpoint(ck, dir + "/out", opt);
  REQUIRE(fs::exists(r.onnx_path));
  REQUIRE(fs::exists(r.card_path));
  for (const auto& e : fs::directory_iterator(dir + "/out"))  // atomic writes leave no temporaries
    CHECK(e.path().filename().string().find(".tmp-") == std::string::npos);

  const onnx::ModelProto m = read_onnx_model(r.onnx_path);
  CHECK(m.ir_version() <= 8);
  REQUIRE(m.opset_import_size() == 1);
  CHECK(m.opset_import(0).version() == 17);
  CHECK_NOTHROW(check_onnx_model(m, r.onnx_path));
  for (const auto& t : m.graph().initializer()) {
    CHECK(t.has_raw_data());
    CHECK(t.name().rfind("adam.", 0) != 0);
  }

  // Shape inference fills in every intermediate value; the output stays [N, 2].
  onnx::ModelProto inferred = m;
  onnx::shape_inference::InferShapes(inferred, onnx::OpSchemaRegistry::Instance(), onnx::ShapeInferenceOptions(true, 1));
  CHECK(inferred.graph().value_info_size() >= m.graph().node_size() - 1);
  const OnnxIo io = onnx_io(inferred, r.onnx_path);
  CHECK(io.input_name == "input");
  CHECK(io.output_name == "points");
  CHECK(io.input_shape == std::vector<std::int64_t>{-1, 1, 60, 80});
  CHECK(io.output_shape == std::vector<std::int64_t>{-1, 2});
  CHECK(inferred.graph().output(0).type().tensor_type().shape().dim(0).dim_param() == "N");

  const ModelCard card = read_model_card(r.card_path);
  CHECK(card.arch == "SimpleModel");
  CHECK(card.name == "SimpleModel-nose_tip");
  CHECK(card.schema == "nose_tip");
  CHECK(card.num_points == 1);
  CHECK(card.input.width == 80);
  CHECK(card.input.height == 60);
  CHECK(card.input.mean == 0.5);
  CHECK(card.input.std == 0.5);
  CHECK(card.crop.source == "whole-image");
  CHECK(card.crop.aspect == Approx(80.0 / 60.0));
  CHECK(card.output.kind == "coords");
  CHECK(card.training.at("epochs").as_int() == 3);
  CHECK(card.training.at("device").as_string() == "cpu");
  CHECK(card.training.at("torch_version").as_string() == "1.13.1");
  CHECK(card.training.at("val_loss").as_number() == Approx(0.015));
  CHECK(card.training.at("config").at("model").as_string() == "SimpleModel");
  CHECK(card.training.at("data").as_string().find("IMM") != std::string::npos);
  CHECK(card.metrics.at("mse").as_number() == Approx(0.0031));
  CHECK(card.onnx.opset == 17);
  const auto bytes = read_file_bytes(r.onnx_path);
  CHECK(card.onnx.sha256 == sha256_hex(bytes.data(), bytes.size()));
  CHECK_NOTHROW(check_card_matches_shapes(card, io.input_shape, io.output_shape, r.onnx_path));
  CHECK_NOTHROW(verify_export(dir + "/out"));
}

TEST_CASE("the exported graph computes what the network computes", "[onnx]") {
  const std::string dir = temp_dir("reference");
  const SafeTensorsFile st = simple_model_checkpoint(5);
  const ExportResult r = export_checkpoint(write_checkpoint(st, dir, "m.safetensors"), dir + "/out");
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> input(2 * 60 * 80);
  for (auto& v : input) v = u(rng);
  const auto ref0 = reference_forward(st, std::vector<float>(input.begin(), input.begin() + 4800), 60, 80);
  const auto ref1 = reference_forward(st, std::vector<float>(input.begin() + 4800, input.end()), 60, 80);
  REQUIRE(ref0.size() == 2);
#ifdef FACEKEYS_WITH_OPENCV_DNN
  cv::dnn::Net net = cv::dnn::readNetFromONNX(r.onnx_path);
  const int dims[4] = {2, 1, 60, 80};
  cv::Mat blob(4, dims, CV_32F, input.data());
  net.setInput(blob, "input");
  cv::Mat out = net.forward();
  REQUIRE(out.total() == 4);
  const float* o = out.ptr<float>();
  CHECK(std::abs(o[0] - ref0[0]) <= 1e-4f);
  CHECK(std::abs(o[1] - ref0[1]) <= 1e-4f);
  CHECK(std::abs(o[2] - ref1[0]) <= 1e-4f);
  CHECK(std::abs(o[3] - ref1[1]) <= 1e-4f);
#else
  WARN("built without OpenCV DNN: only the reference forward pass ran");
#endif
}

TEST_CASE("int8 weight storage: a quarter of the bytes, same graph interface, close outputs", "[onnx]") {
  const std::string dir = temp_dir("weights");
  const SafeTensorsFile st = simple_model_checkpoint(7);
  const std::string ck = write_checkpoint(st, dir, "m.safetensors");
  ExportOptions opt8;
  opt8.weights = parse_weight_storage("int8");
  const ExportResult r32 = export_checkpoint(ck, dir + "/float32");
  const ExportResult r8 = export_checkpoint(ck, dir + "/int8", opt8);
  CHECK(read_model_card(r32.card_path).onnx.weights == "float32");
  CHECK(read_model_card(r8.card_path).onnx.weights == "int8");
  verify_export(dir + "/int8");
  // 290k weights in conv/fc, a few hundred biases and scales.
  CHECK(fs::file_size(r8.onnx_path) < fs::file_size(r32.onnx_path) * 0.27);

  // Only conv / linear weights are int8; biases stay float32.
  const onnx::ModelProto m8 = read_onnx_model(r8.onnx_path);
  std::map<std::string, int> types;
  for (const auto& t : m8.graph().initializer()) types[t.name()] = t.data_type();
  CHECK(types["conv1.weight.int8"] == onnx::TensorProto::INT8);
  CHECK(types["conv1.weight.scale"] == onnx::TensorProto::FLOAT);
  CHECK(types["fc.weight.int8"] == onnx::TensorProto::INT8);
  CHECK(types["fc.bias"] == onnx::TensorProto::FLOAT);
  CHECK(types.count("fc.weight") == 0);

  CHECK(parse_weight_storage("float32") == WeightStorage::Float32);
  CHECK_THROWS_WITH(parse_weight_storage("int4"), Catch::Matchers::ContainsSubstring("'int4'"));

#ifdef FACEKEYS_WITH_OPENCV_DNN
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> input(60 * 80);
  for (auto& v : input) v = u(rng);
  const auto ref = reference_forward(st, input, 60, 80);
  cv::dnn::Net net = cv::dnn::readNetFromONNX(r8.onnx_path);
  const int dims[4] = {1, 1, 60, 80};
  net.setInput(cv::Mat(4, dims, CV_32F, input.data()), "input");
  cv::Mat out = net.forward();
  REQUIRE(out.total() == 2);
  // About 7 significant bits per weight; these outputs are O(0.1..1). Exactness
  // against the rounding rule is the LibTorch parity test's job ("[parity]").
  INFO("int8: " << out.ptr<float>()[0] << ", " << out.ptr<float>()[1] << " vs float32 " << ref[0] << ", " << ref[1]);
  CHECK(std::abs(out.ptr<float>()[0] - ref[0]) <= 2e-2f);
  CHECK(std::abs(out.ptr<float>()[1] - ref[1]) <= 2e-2f);
  CHECK((out.ptr<float>()[0] != ref[0] || out.ptr<float>()[1] != ref[1]));  // really rounded
#endif
}

TEST_CASE("weights read back from an export: exact for float32, within half an int8 step", "[onnx]") {
  const std::string dir = temp_dir("weights_of");
  const SafeTensorsFile st = simple_model_checkpoint(5);
  const std::string ck = write_checkpoint(st, dir, "m.safetensors");
  ExportOptions opt8;
  opt8.weights = WeightStorage::Int8;
  opt8.flip_test = ExportOptions::FlipTest::Graph;  // its extra constants are not weights
  export_checkpoint(ck, dir + "/float32");
  export_checkpoint(ck, dir + "/int8", opt8);

  write_export_weights(dir + "/float32", dir + "/w32.safetensors");
  const SafeTensorsFile w32 = read_safetensors(dir + "/w32.safetensors");
  CHECK(w32.metadata.at("arch") == "SimpleModel");
  const SafeTensorsFile w8 = onnx_weights(read_onnx_model(dir + "/int8/model.onnx"), "int8/model.onnx");
  REQUIRE(w32.tensors.size() == st.tensors.size() - 1);  // all but the optimizer state
  REQUIRE(w8.tensors.size() == st.tensors.size() - 1);
  for (const auto& want : st.tensors) {
    INFO(want.name);
    if (want.name.rfind("adam.", 0) == 0) continue;
    const TensorRecord* a = w32.find(want.name);
    const TensorRecord* b = w8.find(want.name);
    REQUIRE(a);
    REQUIRE(b);
    CHECK(a->shape == want.shape);
    CHECK(b->shape == want.shape);  // int8 layers' biases were stored [1, C, 1, 1]
    CHECK(a->bytes == want.bytes);
    const std::vector<float> w = floats(want), q = floats(*b);
    float peak = 0.0f, worst = 0.0f;
    for (std::size_t i = 0; i < w.size(); ++i) {
      peak = std::max(peak, std::abs(w[i]));
      worst = std::max(worst, std::abs(w[i] - q[i]));
    }
    CHECK(worst <= peak / 127.0f * 0.5f * 1.0001f);  // per channel the step is at most the tensor's peak / 127
  }

  // Not the exporter's graph: named file and initializer.
  onnx::ModelProto m = read_onnx_model(dir + "/int8/model.onnx");
  for (auto& t : *m.mutable_graph()->mutable_initializer())
    if (t.name() == "conv2.weight.scale") t.set_name("conv2.weight.scales");
  CHECK_THROWS_WITH(onnx_weights(m, "odd.onnx"), Catch::Matchers::ContainsSubstring("odd.onnx") && Catch::Matchers::ContainsSubstring("conv2.weight.scale"));
  onnx::ModelProto cut = read_onnx_model(dir + "/float32/model.onnx");
  for (auto& t : *cut.mutable_graph()->mutable_initializer())
    if (t.name() == "fc.weight") t.mutable_raw_data()->resize(t.raw_data().size() / 2);
  CHECK_THROWS_WITH(onnx_weights(cut, "cut.onnx"), Catch::Matchers::ContainsSubstring("cut.onnx") && Catch::Matchers::ContainsSubstring("'fc.weight'"));
  for (auto& t : *cut.mutable_graph()->mutable_initializer())
    if (t.name() == "fc.weight") t.set_dims(0, -128);
  CHECK_THROWS_WITH(onnx_weights(cut, "cut.onnx"), Catch::Matchers::ContainsSubstring("'fc.weight'"));
  fs::create_directories(dir + "/empty");
  CHECK_THROWS_WITH(write_export_weights(dir + "/empty", dir + "/never.safetensors"), Catch::Matchers::ContainsSubstring("model.json"));
  CHECK_FALSE(fs::exists(dir + "/never.safetensors"));
}

TEST_CASE("export names the checkpoint and the problem on bad input", "[onnx]") {
  const std::string dir = temp_dir("errors");
  auto export_of = [&](const SafeTensorsFile& st, const std::string& file) {
    return export_checkpoint(write_checkpoint(st, dir, file), dir + "/out_" + file);
  };

  SafeTensorsFile st = simple_model_checkpoint();
  st.metadata["arch"] = "ResNet99";
  CHECK_THROWS_WITH(export_of(st, "unknown_arch.safetensors"),
                    Catch::Matchers::ContainsSubstring("unknown_arch.safetensors") && Catch::Matchers::ContainsSubstring("cannot export architecture 'ResNet99'") &&
                        Catch::Matchers::ContainsSubstring("Baseline_7x7"));
  CHECK_FALSE(fs::exists(dir + "/out_unknown_arch.safetensors"));  // nothing written

  st = simple_model_checkpoint();
  st.tensors.erase(st.tensors.begin() + 3);  // conv2.bias
  CHECK_THROWS_WITH(export_of(st, "missing.safetensors"),
                    Catch::Matchers::ContainsSubstring("missing.safetensors") && Catch::Matchers::ContainsSubstring("lacks tensor 'conv2.bias'"));

  st = simple_model_checkpoint();
  for (auto& t : st.tensors)
    if (t.name == "fc.weight") {
      t.shape = {128, 2000};
      t.bytes.resize(128 * 2000 * 4);
    }
  CHECK_THROWS_WITH(export_of(st, "misshaped.safetensors"),
                    Catch::Matchers::ContainsSubstring("misshaped.safetensors") && Catch::Matchers::ContainsSubstring("'fc.weight' has shape [128, 2000]") &&
                        Catch::Matchers::ContainsSubstring("[128, 2240]"));

  st = simple_model_checkpoint();
  st.metadata["input_w"] = "96";  // the conv stack then needs fc.weight [128, 32*7*12]
  CHECK_THROWS_WITH(export_of(st, "wrong_input.safetensors"), Catch::Matchers::ContainsSubstring("'fc.weight'"));

  st = simple_model_checkpoint();
  std::mt19937 rng(3);
  st.tensors.push_back(random_tensor("conv4.weight", {64, 32, 3, 3}, rng, 0.1f));
  CHECK_THROWS_WITH(export_of(st, "extra.safetensors"), Catch::Matchers::ContainsSubstring("'conv4.weight' is not part of SimpleModel"));

  st = simple_model_checkpoint();
  st.metadata["format"] = "facekeys-pack";
  CHECK_THROWS_WITH(export_of(st, "pack.safetensors"),
                    Catch::Matchers::ContainsSubstring("pack.safetensors") && Catch::Matchers::ContainsSubstring("not a facekeys checkpoint"));

  st = simple_model_checkpoint();
  st.metadata.erase("num_points");
  CHECK_THROWS_WITH(export_of(st, "nometa.safetensors"), Catch::Matchers::ContainsSubstring("num_points"));

  const std::string garbage = (fs::path(dir) / "garbage.safetensors").string();
  write_file_atomic(garbage, std::string("this is not a checkpoint"));
  CHECK_THROWS_WITH(export_checkpoint(garbage, dir + "/out_garbage"), Catch::Matchers::ContainsSubstring("garbage.safetensors"));

  ExportOptions opt;
  opt.opset = 18;
  CHECK_THROWS_WITH(export_checkpoint(write_checkpoint(simple_model_checkpoint(), dir, "ok.safetensors"), dir + "/o", opt),
                    Catch::Matchers::ContainsSubstring("opset 18"));
}

TEST_CASE("corrupt or mismatched exports are rejected by verify_export", "[onnx]") {
  const std::string dir = temp_dir("corrupt");
  const std::string ck = write_checkpoint(simple_model_checkpoint(), dir, "m.safetensors");
  const std::string out = dir + "/out";
  export_checkpoint(ck, out);
  const std::string onnx_path = out + "/model.onnx", card_path = out + "/model.json";
  const auto good_onnx = read_file_bytes(onnx_path);
  const std::string good_card = read_file_text(card_path);

  SECTION("garbage bytes") {
    write_file_atomic(onnx_path, std::string("\x08\x07garbage that is not protobuf \xff\xff\xff", 36));
    CHECK_THROWS_WITH(verify_export(out), Catch::Matchers::ContainsSubstring("model.onnx"));
  }
  SECTION("truncated file") {
    write_file_atomic(onnx_path, good_onnx.data(), good_onnx.size() / 2);
    CHECK_THROWS_WITH(verify_export(out), Catch::Matchers::ContainsSubstring("model.onnx"));
  }
  SECTION("a graph that fails the checker") {
    onnx::ModelProto m = read_onnx_model(onnx_path);
    m.mutable_graph()->mutable_initializer()->RemoveLast();  // fc2.bias: a node input nobody produces
    CHECK_THROWS_WITH(check_onnx_model(m, "broken.onnx"), Catch::Matchers::ContainsSubstring("broken.onnx") && Catch::Matchers::ContainsSubstring("ONNX"));
  }
  SECTION("a declared output shape that inference contradicts") {
    onnx::ModelProto m = read_onnx_model(onnx_path);
    m.mutable_graph()->mutable_output(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(1)->set_dim_value(4);
    CHECK_THROWS_WITH(check_onnx_model(m, "shape.onnx"), Catch::Matchers::ContainsSubstring("shape.onnx"));
  }
  SECTION("a card promising another input size") {
    Json j = Json::parse(good_card);
    j["input"]["width"] = 96;
    write_file_atomic(card_path, j.dump(2));
    CHECK_THROWS_WITH(verify_export(out), Catch::Matchers::ContainsSubstring("model.onnx") && Catch::Matchers::ContainsSubstring("input shape [N, 1, 60, 80]"));
  }
  SECTION("a card of another format") {
    Json j = Json::parse(good_card);
    j["format"] = "something-else";
    write_file_atomic(card_path, j.dump(2));
    CHECK_THROWS_WITH(verify_export(out), Catch::Matchers::ContainsSubstring("model.json") && Catch::Matchers::ContainsSubstring("not a facekeys model card"));
  }
  SECTION("an ONNX file replaced after export") {
    const std::string other_dir = dir + "/other";
    export_checkpoint(write_checkpoint(simple_model_checkpoint(9), dir, "other.safetensors"), other_dir);
    fs::copy_file(other_dir + "/model.onnx", onnx_path, fs::copy_options::overwrite_existing);
    CHECK_THROWS_WITH(verify_export(out), Catch::Matchers::ContainsSubstring("SHA-256"));
  }
}

TEST_CASE("face-box crop policy for 300-W checkpoints", "[onnx]") {
  SafeTensorsFile st = simple_model_checkpoint();  // make_model_card reads metadata only
  st.metadata["arch"] = "ResNet18";  // no crop_* metadata: the zoo's default for the architecture
  st.metadata["schema"] = "ibug68";
  st.metadata["num_points"] = "68";
  ExportOptions opt;
  ModelCard c = make_model_card(st, "x.safetensors", opt);
  CHECK(c.crop.source == "face-box");
  CHECK(c.crop.margin == Approx(1.3));
  CHECK(c.crop.square);
  CHECK_FALSE(checkpoint_framing(st, "x.safetensors").recorded);
  opt.crop_margin = 1.5;
  st.metadata["crop_source"] = "face-box";
  st.metadata["crop_center_shift_y"] = "0.1";
  c = make_model_card(st, "x.safetensors", opt);
  CHECK(c.crop.margin == Approx(1.5));
  CHECK(c.crop.center_shift_y == Approx(0.1));
  CHECK(checkpoint_framing(st, "x.safetensors").recorded);
}

TEST_CASE("the card's crop is the one the checkpoint records, not a guess from the schema", "[onnx]") {
  SafeTensorsFile st = simple_model_checkpoint();
  // What `facekeys train` copies from a `pack ibug --margin 1.5` pack.
  st.metadata["crop_source"] = "face-box";
  st.metadata["crop_margin"] = "1.5";
  st.metadata["crop_square"] = "false";
  ModelCard c = make_model_card(st, "x.safetensors", {});
  CHECK(c.crop.source == "face-box");
  CHECK(c.crop.margin == Approx(1.5));
  CHECK_FALSE(c.crop.square);
  // An IMM-style pack (whole images) under a 300-W schema: still the whole image.
  SafeTensorsFile whole = simple_model_checkpoint();
  whole.metadata["schema"] = "ibug68";
  whole.metadata["num_points"] = "68";
  whole.metadata["crop_source"] = "whole-image";
  CHECK(make_model_card(whole, "w.safetensors", {}).crop.source == "whole-image");
  // A margin override has no face box to grow on a whole-image model.
  ExportOptions opt;
  opt.crop_margin = 1.5;
  CHECK_THROWS_WITH(make_model_card(whole, "w.safetensors", opt),
                    Catch::Matchers::ContainsSubstring("w.safetensors") &&
                        Catch::Matchers::ContainsSubstring("sees the whole image"));
  // A damaged value is refused by key.
  st.metadata["crop_margin"] = "-2";
  CHECK_THROWS_WITH(make_model_card(st, "x.safetensors", {}),
                    Catch::Matchers::ContainsSubstring("x.safetensors") &&
                        Catch::Matchers::ContainsSubstring("'crop_margin' = '-2'"));
  st.metadata["crop_margin"] = "1.5";
  st.metadata["crop_source"] = "face";
  CHECK_THROWS_WITH(make_model_card(st, "x.safetensors", {}), Catch::Matchers::ContainsSubstring("'crop_source'"));
}

TEST_CASE("heatmap model cards record the map size and the training sigma", "[onnx]") {
  SafeTensorsFile st = simple_model_checkpoint();  // make_model_card reads metadata only
  st.metadata["arch"] = "HeatmapUNet";
  st.metadata["schema"] = "ibug68";
  st.metadata["num_points"] = "68";
  st.metadata["input_w"] = st.metadata["input_h"] = "128";
  st.metadata["output"] = "heatmaps";
  st.metadata["config"] = "{\"model\":\"HeatmapUNet\",\"sigma\":1.5}";
  ModelCard c = make_model_card(st, "u.safetensors", {});
  CHECK(c.output.kind == "heatmaps");
  CHECK(c.output.width == 64);
  CHECK(c.output.height == 64);
  CHECK(c.output.sigma == Approx(1.5));
  CHECK(c.onnx.output_name == "heatmaps");
  CHECK(card_output_shape(c) == std::vector<std::int64_t>{-1, 68, 64, 64});
  st.metadata["heatmap_sigma"] = "2";
  CHECK(make_model_card(st, "u.safetensors", {}).output.sigma == Approx(2.0));
  // The tensors are SimpleModel's: the graph builder refuses them.
  CHECK_THROWS_WITH(build_onnx_model(st, "u.safetensors"),
                    Catch::Matchers::ContainsSubstring("u.safetensors") && Catch::Matchers::ContainsSubstring("lacks tensor 'inc.body.0.weight'"));
}

TEST_CASE("a card says when the val split was trained on", "[onnx]") {
  SafeTensorsFile st = simple_model_checkpoint();
  CHECK_FALSE(make_model_card(st, "m.safetensors", {}).training.contains("splits"));
  st.metadata["config"] = "{\"model\":\"SimpleModel\",\"train_on_val\":false}";
  CHECK_FALSE(make_model_card(st, "m.safetensors", {}).training.contains("splits"));
  st.metadata["config"] = "{\"model\":\"SimpleModel\",\"train_on_val\":true}";
  CHECK(make_model_card(st, "m.safetensors", {}).training.at("splits").as_string() == "train+val (val not held out)");
}

#ifdef FACEKEYS_EXPORT_EXE
TEST_CASE("facekeys-export command line", "[onnx][cli]") {
  const std::string dir = temp_dir("cli");
  const std::string ck = write_checkpoint(simple_model_checkpoint(), dir, "m.safetensors");
  const std::string exe = FACEKEYS_EXPORT_EXE;
  CHECK(std::system(("\"" + exe + "\" \"" + ck + "\" -o \"" + dir + "/out\" --name nose > /dev/null").c_str()) == 0);
  CHECK(read_model_card(dir + "/out/model.json").name == "nose");
  CHECK(std::system(("\"" + exe + "\" --verify \"" + dir + "/out\" > /dev/null").c_str()) == 0);
  CHECK(std::system(("\"" + exe + "\" \"" + ck + "\" -o \"" + dir + "/out8\" --weights int8 > /dev/null").c_str()) == 0);
  CHECK(read_model_card(dir + "/out8/model.json").onnx.weights == "int8");
  CHECK(std::system(("\"" + exe + "\" \"" + ck + "\" -o \"" + dir + "/outx\" --weights int4 2> /dev/null").c_str()) != 0);
  CHECK_FALSE(fs::exists(dir + "/outx"));
  SafeTensorsFile bad = simple_model_checkpoint();
  bad.metadata["arch"] = "Mystery";
  const std::string bad_ck = write_checkpoint(bad, dir, "bad.safetensors");
  const std::string log = dir + "/err.txt";
  CHECK(std::system(("\"" + exe + "\" \"" + bad_ck + "\" -o \"" + dir + "/bad\" 2> \"" + log + "\"").c_str()) != 0);
  const std::string err = read_file_text(log);
  CHECK_THAT(err, Catch::Matchers::ContainsSubstring("bad.safetensors") && Catch::Matchers::ContainsSubstring("'Mystery'"));

  CHECK(std::system(("\"" + exe + "\" --weights-of \"" + dir + "/out8\" -o \"" + dir + "/w.safetensors\" > /dev/null").c_str()) ==
        0);
  const SafeTensorsFile weights = read_safetensors(dir + "/w.safetensors");
  CHECK(weights.find("fc2.weight") != nullptr);
  // the input size travels with the weights, so that `train --init` keeps it
  CHECK(weights.metadata.at("input_w") == std::to_string(read_model_card(dir + "/out8/model.json").input.width));
  CHECK(std::system(("\"" + exe + "\" --weights-of \"" + dir + "/out8\" 2> /dev/null").c_str()) != 0);  // needs -o
}
#endif
