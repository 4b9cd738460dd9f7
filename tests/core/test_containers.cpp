// JSON, safetensors and pack files: the containers every other file format rides on.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "facekeys/file_io.hpp"
#include "facekeys/json.hpp"
#include "facekeys/pack.hpp"
#include "facekeys/safetensors.hpp"

#include "support/catch.hpp"

using namespace facekeys;

namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("facekeys_test_" + name)).string();
}

Pack small_pack() {
  Pack p;
  p.schema = "imm58";
  p.source = "synthetic";
  p.width = 4;
  p.height = 3;
  p.channels = 1;
  p.num_points = 2;
  std::uint8_t img[12];
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 12; ++j) img[j] = static_cast<std::uint8_t>(i * 12 + j);
    p.add("img" + std::to_string(i) + ".jpg", img, {0.1f * i, 0.2f, 0.3f, 0.4f + 0.1f * i}, i + 1,
          i < 2 ? Split::Train : Split::Val, {1, 0, 0.5 * i, 0, 1, 0}, 640, 480);
  }
  return p;
}

}  // namespace

TEST_CASE("JSON parses, dumps and round-trips", "[json]") {
  Json j = Json::parse(R"({"a": 1, "b": [true, null, "x\n\u00e9"], "c": {"d": -2.5e-3}})");
  CHECK(j.at("a").as_int() == 1);
  CHECK(j.at("b").as_array()[0].as_bool());
  CHECK(j.at("b").as_array()[1].is_null());
  CHECK(j.at("b").as_array()[2].as_string() == "x\n\xC3\xA9");
  CHECK(j.at("c").at("d").as_number() == Approx(-2.5e-3));
  Json again = Json::parse(j.dump());
  CHECK(again.dump() == j.dump());
  CHECK(Json::parse(j.dump(2)).dump() == j.dump());
  // Insertion order is kept, so written files are stable.
  Json o = Json::object();
  o["z"] = 1;
  o["a"] = 2;
  CHECK(o.dump() == R"({"z":1,"a":2})");
}

TEST_CASE("JSON objects: a repeated key replaces the value in place; many keys parse in linear time", "[json]") {
  const Json j = Json::parse(R"({"a": 1, "b": 2, "a": 3})");
  CHECK(j.dump() == R"({"a":3,"b":2})");
  // 200,000 keys, as a crafted safetensors header may hold: a search per key
  // (2*10^10 comparisons) would take minutes here.
  std::string big = "{";
  for (int i = 0; i < 200000; ++i) big += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":" + std::to_string(i);
  big += "}";
  const Json many = Json::parse(big);
  REQUIRE(many.size() == 200000u);
  CHECK(many.as_object().back().first == "k199999");
}

TEST_CASE("JSON rejects malformed text with an offset", "[json]") {
  for (const char* bad : {"", "{", "[1,]", "{\"a\" 1}", "tru", "\"abc", "1 2", "{\"a\":1}}", "[1e999]", "nan"}) {
    INFO(bad);
    CHECK_THROWS_WITH(Json::parse(bad, "card.json"), Catch::Matchers::ContainsSubstring("card.json: JSON offset"));
  }
  std::string deep(100, '[');
  CHECK_THROWS_WITH(Json::parse(deep), Catch::Matchers::ContainsSubstring("deeper than 64"));
  CHECK_THROWS_WITH(Json::parse("1.5").as_int(), Catch::Matchers::ContainsSubstring("integer"));
  CHECK_THROWS_WITH(Json::parse("{}").at("x"), Catch::Matchers::ContainsSubstring("missing key 'x'"));
}

TEST_CASE("safetensors round-trips bit-exactly and validates", "[safetensors]") {
  SafeTensorsFile st;
  st.metadata["arch"] = "Baseline";
  TensorRecord t;
  t.name = "w";
  t.dtype = DType::F32;
  t.shape = {2, 3};
  const float values[6] = {1.5f, -0.0f, 3.25f, 1e-30f, -7.0f, 0.1f};
  t.bytes.assign(reinterpret_cast<const std::uint8_t*>(values), reinterpret_cast<const std::uint8_t*>(values) + 24);
  st.tensors.push_back(t);
  TensorRecord u;
  u.name = "ids";
  u.dtype = DType::U8;
  u.shape = {3};
  u.bytes = {1, 2, 3};
  st.tensors.push_back(u);

  auto bytes = encode_safetensors(st);
  // Data starts 8-byte aligned.
  std::uint64_t header_len = 0;
  for (int i = 0; i < 8; ++i) header_len |= std::uint64_t(bytes[i]) << (8 * i);
  CHECK((8 + header_len) % 8 == 0);

  SafeTensorsFile back = decode_safetensors(bytes, "x.safetensors");
  REQUIRE(back.tensors.size() == 2);
  CHECK(back.metadata.at("arch") == "Baseline");
  CHECK(back.get("w", "x").shape == std::vector<std::int64_t>{2, 3});
  CHECK(back.get("w", "x").bytes == t.bytes);
  CHECK(back.get("ids", "x").bytes == u.bytes);

  SECTION("truncated file") {
    bytes.resize(bytes.size() - 4);
    CHECK_THROWS_WITH(decode_safetensors(bytes, "x.safetensors"), Catch::Matchers::ContainsSubstring("x.safetensors") && Catch::Matchers::ContainsSubstring("outside"));
  }
  SECTION("too short for a header") {
    CHECK_THROWS_WITH(decode_safetensors({1, 2, 3}, "tiny.safetensors"), Catch::Matchers::ContainsSubstring("tiny.safetensors"));
  }
  SECTION("absurd header length") {
    bytes[7] = 0x7f;
    CHECK_THROWS_WITH(decode_safetensors(bytes, "h.safetensors"), Catch::Matchers::ContainsSubstring("header length"));
  }
  SECTION("garbage header") {
    for (std::size_t i = 8; i < 20; ++i) bytes[i] = '#';
    CHECK_THROWS_WITH(decode_safetensors(bytes, "g.safetensors"), Catch::Matchers::ContainsSubstring("g.safetensors"));
  }
  SECTION("a shape whose element count wraps 64 bits") {
    // 2^24 x 2^40 bytes wraps to 0 = the tensor's 0 bytes: refused, not read as empty.
    const std::string header = R"({"w":{"dtype":"U8","shape":[16777216,1099511627776],"data_offsets":[0,0]}})";
    std::vector<std::uint8_t> wrap(8 + header.size() + (std::size_t{1} << 24), 0);
    for (int i = 0; i < 8; ++i) wrap[i] = static_cast<std::uint8_t>(header.size() >> (8 * i));
    std::copy(header.begin(), header.end(), wrap.begin() + 8);
    CHECK_THROWS_WITH(decode_safetensors(wrap, "wrap.safetensors"),
                      Catch::Matchers::ContainsSubstring("wrap.safetensors") && Catch::Matchers::ContainsSubstring("larger than the file"));
  }
  SECTION("a missing tensor names the file") {
    CHECK_THROWS_WITH(back.get("nope", "m.safetensors"), Catch::Matchers::ContainsSubstring("m.safetensors") && Catch::Matchers::ContainsSubstring("nope"));
  }
}

TEST_CASE("pack write -> read round trip", "[pack]") {
  const Pack p = small_pack();
  const std::string path = temp_path("roundtrip.pack");
  write_pack(path, p);
  CHECK_FALSE(std::filesystem::exists(path + ".tmp-0"));
  const Pack q = read_pack(path);
  CHECK(q.schema == p.schema);
  CHECK(q.source == p.source);
  CHECK(q.width == 4);
  CHECK(q.height == 3);
  CHECK(q.num_points == 2);
  CHECK(q.names == p.names);
  CHECK(q.pixels == p.pixels);
  CHECK(q.points == p.points);
  CHECK(q.person == p.person);
  CHECK(q.split == p.split);
  CHECK(q.image_to_pack == p.image_to_pack);
  CHECK(q.original_size == p.original_size);
  CHECK(q.count(Split::Train) == 2);
  CHECK(q.count(Split::Val) == 1);
  std::remove(path.c_str());
}

TEST_CASE("packs of another format or version are rejected by name", "[pack]") {
  const std::string path = temp_path("other.pack");
  SafeTensorsFile st;
  st.metadata["format"] = "something-else";
  write_safetensors(path, st);
  CHECK_THROWS_WITH(read_pack(path), Catch::Matchers::ContainsSubstring(path) && Catch::Matchers::ContainsSubstring("not a facekeys pack"));

  Pack p = small_pack();
  write_pack(path, p);
  SafeTensorsFile raw = read_safetensors(path);
  raw.metadata["version"] = "99";
  write_safetensors(path, raw);
  CHECK_THROWS_WITH(read_pack(path), Catch::Matchers::ContainsSubstring("version 99") && Catch::Matchers::ContainsSubstring(path));
  // Random bytes are not read as a pack either, and the message says how to get one.
  write_file_atomic(path, std::string("\x93\x11 not a safetensors header at all"));
  CHECK_THROWS_WITH(read_pack(path), Catch::Matchers::ContainsSubstring(path) && Catch::Matchers::ContainsSubstring("re-create it with `facekeys pack`"));
  std::remove(path.c_str());
  CHECK_THROWS_WITH(read_pack(path), Catch::Matchers::ContainsSubstring(path));
}

TEST_CASE("pack rejects inconsistent samples", "[pack]") {
  Pack p = small_pack();
  std::uint8_t img[12] = {};
  CHECK_THROWS_WITH(p.add("bad.jpg", img, {0.1f, 0.2f}, 1, Split::Train, {1, 0, 0, 0, 1, 0}, 4, 3),
                    Catch::Matchers::ContainsSubstring("bad.jpg") && Catch::Matchers::ContainsSubstring("1 points"));
  CHECK_THROWS_WITH(p.add("nan.jpg", img, {NAN, 0.2f, 0.1f, 0.1f}, 1, Split::Train, {1, 0, 0, 0, 1, 0}, 4, 3),
                    Catch::Matchers::ContainsSubstring("nan.jpg"));
  CHECK_THROWS_WITH(p.add("far.jpg", img, {1e38f, 0.2f, 0.1f, 0.1f}, 1, Split::Train, {1, 0, 0, 0, 1, 0}, 4, 3),
                    Catch::Matchers::ContainsSubstring("far.jpg") && Catch::Matchers::ContainsSubstring("keypoint 0 x") &&
                        Catch::Matchers::ContainsSubstring("far outside the image"));
  p.pixels.pop_back();
  CHECK_THROWS_WITH(p.validate("p.pack"), Catch::Matchers::ContainsSubstring("p.pack") && Catch::Matchers::ContainsSubstring("pixel"));
}

TEST_CASE("a pack whose keypoints parse but make no sense is refused, naming the image", "[pack]") {
  // Finite but absurd points (a damaged file): refused when read, not trained on.
  const std::string path = temp_path("absurd.pack");
  write_pack(path, small_pack());
  SafeTensorsFile st = read_safetensors(path);
  for (auto& t : st.tensors)
    if (t.name == "points") {
      const float far = 1e38f;
      std::memcpy(t.bytes.data() + 3 * sizeof(float), &far, sizeof far);  // sample 0, point 1, y
    }
  write_safetensors(path, st);
  const Pack ok = small_pack();
  CHECK_THROWS_WITH(read_pack(path), Catch::Matchers::ContainsSubstring(path) &&
                                         Catch::Matchers::ContainsSubstring("image '" + ok.names[0] + "' keypoint 1 y") &&
                                         Catch::Matchers::ContainsSubstring("damaged"));
  std::remove(path.c_str());
}

TEST_CASE("file extensions are compared lower-cased", "[file_io]") {
  CHECK(extension_lower("photos/IMG_01.JPG") == ".jpg");
  CHECK(extension_lower("boxes.Csv") == ".csv");
  CHECK(extension_lower("runs.d/noext") == "");
  CHECK(extension_lower("archive.tar.XZ") == ".xz");
}

TEST_CASE("atomic writes leave no temporary file and report bad paths", "[file_io]") {
  const std::string path = temp_path("atomic.txt");
  write_file_atomic(path, std::string("hello"));
  CHECK(read_file_text(path) == "hello");
  write_file_atomic(path, std::string("bye"));
  CHECK(read_file_text(path) == "bye");
  std::remove(path.c_str());
  CHECK_THROWS_WITH(write_file_atomic("/nonexistent-dir/x.txt", std::string("x")),
                    Catch::Matchers::StartsWith("/nonexistent-dir/x.txt: cannot open for writing (No such file or directory)"));
  CHECK_THROWS_WITH(read_file_bytes("/nonexistent-dir/y.bin"), Catch::Matchers::ContainsSubstring("/nonexistent-dir/y.bin"));
  // A folder where the file should go: said as such, and no temporary file left beside it.
  const std::string folder = temp_path("atomic-folder");
  std::filesystem::create_directories(folder);
  CHECK_THROWS_WITH(write_file_atomic(folder, std::string("x")),
                    Catch::Matchers::StartsWith(folder + ": a folder has this name"));
  for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(folder).parent_path()))
    CHECK(e.path().filename().string().find("atomic-folder.tmp") == std::string::npos);
  std::filesystem::remove_all(folder);
}
