// Model cards (model.json beside model.onnx): round trip, validation, shape checks, SHA-256.
#include <filesystem>
#include <string>

#include "support/test_helpers.hpp"
#include "facekeys/file_io.hpp"
#include "facekeys/json.hpp"
#include "facekeys/model_card.hpp"

#include "support/catch.hpp"

using namespace facekeys;

namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("facekeys_test_" + name)).string();
}

ModelCard imm_card() {
  ModelCard c = testing::imm_card("baseline7-imm");
  c.training["epochs"] = 25;
  c.training["device"] = "cuda:0";
  c.onnx.opset = 17;
  c.onnx.ir_version = 8;
  c.onnx.sha256 = std::string(64, 'a');
  return c;
}

// Writes JSON text to a temporary card and reads it back.
ModelCard read_text(const std::string& text, const std::string& file) {
  const std::string path = temp_path(file);
  write_file_atomic(path, text);
  return read_model_card(path);
}

}  // namespace

TEST_CASE("model card round trip through a file", "[model_card]") {
  ModelCard c = imm_card();
  c.metrics = Json::object();
  c.metrics["nme"] = 0.0421;
  const std::string path = temp_path("card_roundtrip.json");
  write_model_card(path, c);
  const ModelCard r = read_model_card(path);
  CHECK(r.name == c.name);
  CHECK(r.arch == "Baseline_7x7");
  CHECK(r.schema == "imm58");
  CHECK(r.num_points == 58);
  CHECK(r.input.width == 240);
  CHECK(r.input.height == 180);
  CHECK(r.input.channels == 1);
  CHECK(r.input.color == "gray-bt601");
  CHECK(r.input.mean == 0.5);
  CHECK(r.input.std == 0.5);
  CHECK(r.crop.source == "whole-image");
  CHECK(r.crop.aspect == Approx(4.0 / 3.0));
  CHECK(r.output.kind == "coords");
  CHECK(r.output.layout == "interleaved-xy");
  CHECK(r.training.at("epochs").as_int() == 25);
  CHECK(r.metrics.at("nme").as_number() == Approx(0.0421));
  CHECK(r.onnx.opset == 17);
  CHECK(r.onnx.ir_version == 8);
  CHECK(r.onnx.input_name == "input");
  CHECK(r.onnx.output_name == "points");
  CHECK(r.onnx.sha256 == c.onnx.sha256);
  CHECK(r.onnx.weights == "float32");
  CHECK_FALSE(r.onnx.flip_test);
  // Writing what was read gives the same bytes (stable key order).
  CHECK(model_card_to_json(r).dump(2) == model_card_to_json(c).dump(2));

  const Json j = Json::parse(read_file_text(path));
  CHECK(j.at("format").as_string() == "facekeys-model-card");
  CHECK(j.at("version").as_int() == 1);
}

TEST_CASE("face-box and heatmap cards keep their extra fields", "[model_card]") {
  ModelCard c = imm_card();
  c.arch = "ResNet18";
  c.schema = "ibug68";
  c.num_points = 68;
  c.input.width = c.input.height = 224;
  c.crop.source = "face-box";
  c.crop.margin = 1.3;
  c.crop.square = true;
  c.crop.center_shift_y = 0.05;
  c.crop.aspect = 1.0;
  c.output.kind = "heatmaps";
  c.output.width = c.output.height = 56;
  c.output.decode = "argmax-refined";
  c.output.sigma = 1.5;
  const ModelCard r = model_card_from_json(model_card_to_json(c), "card");
  CHECK(r.crop.source == "face-box");
  CHECK(r.crop.margin == Approx(1.3));
  CHECK(r.crop.square);
  CHECK(r.crop.center_shift_y == Approx(0.05));
  CHECK(r.output.kind == "heatmaps");
  CHECK(r.output.width == 56);
  CHECK(r.output.decode == "argmax-refined");
  CHECK(r.output.sigma == Approx(1.5));
  CHECK(card_output_shape(r) == std::vector<std::int64_t>{-1, 68, 56, 56});
}

TEST_CASE("bad model cards are rejected naming the file and field", "[model_card]") {
  const Json good = model_card_to_json(imm_card());
  auto with = [&](const std::string& key, Json v) {
    Json j = good;
    j[key] = std::move(v);
    return j.dump();
  };

  CHECK_THROWS_WITH(read_text(with("format", "facekeys-checkpoint"), "card_fmt.json"),
                    Catch::Matchers::ContainsSubstring("card_fmt.json") && Catch::Matchers::ContainsSubstring("not a facekeys model card"));
  CHECK_THROWS_WITH(read_text(with("version", 2), "card_ver.json"),
                    Catch::Matchers::ContainsSubstring("card_ver.json") && Catch::Matchers::ContainsSubstring("version 2"));
  CHECK_THROWS_WITH(read_text("{\"format\": \"facekeys-model-card\"", "card_trunc.json"),
                    Catch::Matchers::ContainsSubstring("card_trunc.json"));
  CHECK_THROWS_WITH(read_text("[1, 2]", "card_array.json"), Catch::Matchers::ContainsSubstring("card_array.json"));
  CHECK_THROWS_WITH(read_model_card(temp_path("no_such_card.json")), Catch::Matchers::ContainsSubstring("no_such_card.json"));

  Json lm = Json::object();
  lm["schema"] = "imm58";
  lm["num_points"] = 68;
  CHECK_THROWS_WITH(read_text(with("landmarks", lm), "card_np.json"),
                    Catch::Matchers::ContainsSubstring("card_np.json") && Catch::Matchers::ContainsSubstring("num_points is 68"));
  lm["schema"] = "cats12";
  CHECK_THROWS_WITH(read_text(with("landmarks", lm), "card_schema.json"), Catch::Matchers::ContainsSubstring("cats12"));

  Json in = good.at("input");
  in["channels"] = 3;
  CHECK_THROWS_WITH(read_text(with("input", in), "card_ch.json"), Catch::Matchers::ContainsSubstring("input.channels is 3"));
  in = good.at("input");
  in["std"] = 0.0;
  CHECK_THROWS_WITH(read_text(with("input", in), "card_std.json"), Catch::Matchers::ContainsSubstring("std"));
  in["std"] = -1.0;  // would flip the input's sign: refused here, not at the first photo
  CHECK_THROWS_WITH(read_text(with("input", in), "card_negstd.json"),
                    Catch::Matchers::ContainsSubstring("card_negstd.json") && Catch::Matchers::ContainsSubstring("std > 0"));
  in = good.at("input");
  in["width"] = 100000;  // sizes derived from it must fit in 32 bits on wasm32
  CHECK_THROWS_WITH(read_text(with("input", in), "card_huge.json"),
                    Catch::Matchers::ContainsSubstring("card_huge.json") && Catch::Matchers::ContainsSubstring("100000x180 is not within 1..4096"));
  in = good.at("input");
  in["width"] = "240";
  CHECK_THROWS_WITH(read_text(with("input", in), "card_w.json"), Catch::Matchers::ContainsSubstring("input.width"));

  Json out = good.at("output");
  out["kind"] = "boxes";
  CHECK_THROWS_WITH(read_text(with("output", out), "card_kind.json"), Catch::Matchers::ContainsSubstring("boxes"));

  Json crop = good.at("crop");
  crop["source"] = "face-box";  // then a margin is required
  CHECK_THROWS_WITH(read_text(with("crop", crop), "card_crop.json"), Catch::Matchers::ContainsSubstring("crop.margin"));

  // Values that parse but no real model has: refused, naming the field.
  crop = good.at("crop");
  crop["source"] = "face-box";
  crop["margin"] = 1.3;
  crop["center_shift_y"] = 100000.0;
  CHECK_THROWS_WITH(read_text(with("crop", crop), "card_shift.json"),
                    Catch::Matchers::ContainsSubstring("card_shift.json") && Catch::Matchers::ContainsSubstring("crop.center_shift_y"));
  crop["center_shift_y"] = 0.1;
  crop["aspect"] = 1e308;
  CHECK_THROWS_WITH(read_text(with("crop", crop), "card_aspect.json"), Catch::Matchers::ContainsSubstring("crop.aspect"));
  crop["aspect"] = 1.0;
  crop["margin"] = 1e6;
  CHECK_THROWS_WITH(read_text(with("crop", crop), "card_margin.json"), Catch::Matchers::ContainsSubstring("crop.margin"));
  in = good.at("input");
  in["mean"] = 1e300;
  CHECK_THROWS_WITH(read_text(with("input", in), "card_mean.json"), Catch::Matchers::ContainsSubstring("input.mean"));

  Json onnx = good.at("onnx");
  onnx["opset"] = 100000;
  CHECK_THROWS_WITH(read_text(with("onnx", onnx), "card_opset.json"), Catch::Matchers::ContainsSubstring("onnx.opset"));
  onnx = good.at("onnx");
  onnx["weights"] = "int8";
  CHECK(model_card_from_json(Json::parse(with("onnx", onnx)), "card_int8.json").onnx.weights == "int8");
  onnx["weights"] = "int4";
  CHECK_THROWS_WITH(read_text(with("onnx", onnx), "card_int4.json"), Catch::Matchers::ContainsSubstring("onnx.weights is 'int4'"));
  onnx["weights"] = "int8";
  onnx["flip_test"] = true;
  CHECK(model_card_from_json(Json::parse(with("onnx", onnx)), "card_flip.json").onnx.flip_test);
  onnx["flip_test"] = "yes";
  CHECK_THROWS_WITH(read_text(with("onnx", onnx), "card_flip_str.json"), Catch::Matchers::ContainsSubstring("onnx.flip_test"));
  Json old_onnx = Json::object();  // cards written before the field existed
  for (const auto& kv : good.at("onnx").as_object())
    if (kv.first != "flip_test") old_onnx[kv.first] = kv.second;
  REQUIRE_FALSE(old_onnx.contains("flip_test"));
  CHECK_FALSE(model_card_from_json(Json::parse(with("onnx", old_onnx)), "card_old.json").onnx.flip_test);
  // The pipeline's flip test (output.flip_test): written only when asked for, never with the graph's.
  Json output = good.at("output");
  REQUIRE_FALSE(output.contains("flip_test"));
  output["flip_test"] = true;
  const ModelCard flip = model_card_from_json(Json::parse(with("output", output)), "card_flip_core.json");
  CHECK(flip.output.flip_test);
  CHECK(model_card_to_json(flip).at("output").at("flip_test").as_bool());
  output["flip_test"] = 1;
  CHECK_THROWS_WITH(read_text(with("output", output), "card_flip_core_num.json"),
                    Catch::Matchers::ContainsSubstring("output.flip_test"));
  output["flip_test"] = true;
  ModelCard both = flip;
  both.onnx.flip_test = true;
  CHECK_THROWS_WITH(validate_model_card(both, "card_flip_both.json"),
                    Catch::Matchers::ContainsSubstring("flip test twice"));

  Json j = good;
  Json::Object fields;
  for (const auto& kv : j.as_object())
    if (kv.first != "onnx") fields.push_back(kv);
  Json no_onnx = Json::object();
  for (auto& kv : fields) no_onnx[kv.first] = kv.second;
  CHECK_THROWS_WITH(read_text(no_onnx.dump(), "card_noonnx.json"), Catch::Matchers::ContainsSubstring("no 'onnx'"));
}

TEST_CASE("card shapes are checked against a model's declared shapes", "[model_card]") {
  const ModelCard c = imm_card();
  CHECK(card_input_shape(c) == std::vector<std::int64_t>{-1, 1, 180, 240});
  CHECK(card_output_shape(c) == std::vector<std::int64_t>{-1, 116});
  CHECK_NOTHROW(check_card_matches_shapes(c, {-1, 1, 180, 240}, {-1, 116}, "m.onnx"));
  CHECK_NOTHROW(check_card_matches_shapes(c, {1, 1, 180, 240}, {1, 116}, "m.onnx"));  // a fixed batch is fine
  CHECK_THROWS_WITH(check_card_matches_shapes(c, {-1, 1, 240, 180}, {-1, 116}, "m.onnx"),
                    Catch::Matchers::ContainsSubstring("m.onnx") && Catch::Matchers::ContainsSubstring("input shape [N, 1, 240, 180]"));
  CHECK_THROWS_WITH(check_card_matches_shapes(c, {-1, 1, 180, 240}, {-1, 136}, "m.onnx"),
                    Catch::Matchers::ContainsSubstring("output shape [N, 136]") && Catch::Matchers::ContainsSubstring("[N, 116]"));
  CHECK_THROWS_WITH(check_card_matches_shapes(c, {-1, 1, -1, -1}, {-1, 116}, "m.onnx"), Catch::Matchers::ContainsSubstring("input"));
}

TEST_CASE("sha256 matches the FIPS 180-4 test vectors", "[model_card]") {
  CHECK(sha256_hex("", 0) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc", 3) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";  // 56 bytes: padding spills
  CHECK(sha256_hex(two_blocks.data(), two_blocks.size()) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  const std::string million(1000000, 'a');
  CHECK(sha256_hex(million.data(), million.size()) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("onnx_bytes_mismatch: the card's SHA-256 decides", "[model_card]") {
  ModelCard c = imm_card();
  c.onnx.sha256 = sha256_hex("abc", 3);
  CHECK(onnx_bytes_mismatch(c, "abc", 3).empty());
  const std::string why = onnx_bytes_mismatch(c, "abd", 3);
  CHECK_THAT(why, Catch::Matchers::ContainsSubstring("does not match its model card") && Catch::Matchers::ContainsSubstring(c.onnx.sha256.substr(0, 12)) &&
                      Catch::Matchers::ContainsSubstring(sha256_hex("abd", 3).substr(0, 12)) && Catch::Matchers::ContainsSubstring("model.onnx"));
  c.onnx.sha256.clear();  // cards written before export fills it in: nothing to compare
  CHECK(onnx_bytes_mismatch(c, "abd", 3).empty());
}

TEST_CASE("default_model_name: the DEFAULT file names it, else the first folder in name order", "[model_card]") {
  const std::vector<std::string> names = {"imm58-baseline-int8", "ibug68-unet", "ibug68-resnet18"};
  CHECK(default_model_name("ibug68-unet\n", names) == "ibug68-unet");
  CHECK(default_model_name("  ibug68-unet \r\nignored second line\n", names) == "ibug68-unet");
  CHECK(default_model_name("imm58-baseline-int8", names) == "imm58-baseline-int8");
  // no file, an empty file, a folder that is not there: the first name in byte order
  CHECK(default_model_name("", names) == "ibug68-resnet18");
  CHECK(default_model_name("\n", names) == "ibug68-resnet18");
  CHECK(default_model_name("ibug68-gone\n", names) == "ibug68-resnet18");
  CHECK(default_model_name("ibug68-unet", {}).empty());
  CHECK(default_file_name("\t ibug68-unet  \nx") == "ibug68-unet");
}
