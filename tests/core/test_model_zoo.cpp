// The model zoo (model_zoo.hpp) and the framing that travels pack -> checkpoint -> card.
#include <cstdio>
#include <filesystem>
#include <set>
#include <string>

#include "facekeys/model_zoo.hpp"
#include "facekeys/pack.hpp"
#include "facekeys/safetensors.hpp"
#include "facekeys/schema.hpp"

#include "support/catch.hpp"

using namespace facekeys;

TEST_CASE("every zoo entry is consistent with its schema, output and framing", "[zoo]") {
  std::set<std::string> names;
  for (const Architecture& a : architectures()) {
    INFO(a.arch);
    CHECK(names.insert(a.arch).second);
    CHECK(find_architecture(a.arch) == &a);
    CHECK(schema_by_name(a.schema).num_points == a.num_points);
    CHECK(a.input_w > 0);
    CHECK(a.input_h > 0);
    CHECK(a.channels == 1);
    CHECK_FALSE(a.widths.empty());
    // Heatmaps come from the U-Net, coordinates from the regressors.
    CHECK((a.output == OutputKind::Heatmaps) == (a.family == NetFamily::UNet));
    // The 300-W models see face crops; the IMM ones the whole studio portrait.
    CHECK((a.framing.source == Framing::Source::FaceBox) == (a.schema == "ibug68"));
    if (a.framing.source == Framing::Source::FaceBox) {
      CHECK(a.framing.face.margin == Approx(1.3));
      CHECK(a.framing.face.square);
    }
  }
  CHECK(architecture("Baseline_7x7").kernel == 7);
  CHECK(architecture("ResNet34").widths == std::vector<int>{3, 4, 6, 3});
  CHECK(architecture("HeatmapUNetSmall").widths == std::vector<int>{16});
  CHECK(architecture("HeatmapUNetTiny").widths == std::vector<int>{12});
  CHECK(find_architecture("ResNet99") == nullptr);
  CHECK_THROWS_WITH(architecture("ResNet99"), Catch::Matchers::ContainsSubstring("unknown model 'ResNet99'") &&
                                                  Catch::Matchers::ContainsSubstring("Baseline_7x7"));
}

TEST_CASE("output kinds and crop sources by name", "[zoo]") {
  CHECK(output_kind_from_name(output_kind_name(OutputKind::Coords)) == OutputKind::Coords);
  CHECK(output_kind_from_name(output_kind_name(OutputKind::Heatmaps)) == OutputKind::Heatmaps);
  CHECK_THROWS_WITH(output_kind_from_name("points"), Catch::Matchers::ContainsSubstring("'points'"));
  CHECK(std::string(framing_source_name(Framing::Source::FaceBox)) == "face-box");
  CHECK(framing_source_from_name("whole-image") == Framing::Source::WholeImage);
  CHECK_THROWS(framing_source_from_name("face"));
}

TEST_CASE("framing metadata: round trip, absent, and damaged values named by key", "[zoo]") {
  std::map<std::string, std::string> meta;
  CHECK_FALSE(read_framing(meta, "old.pack").has_value());  // files from before framing was recorded

  Framing f;
  f.source = Framing::Source::FaceBox;
  f.face = CropPolicy{1.5f, false, 0.1f};
  write_framing(f, meta);
  CHECK(meta.at("crop_margin") == "1.5");
  const auto back = read_framing(meta, "x.pack");
  REQUIRE(back.has_value());
  CHECK(back->source == Framing::Source::FaceBox);
  CHECK(back->face.margin == 1.5f);
  CHECK_FALSE(back->face.square);
  CHECK(back->face.center_shift_y == 0.1f);

  std::map<std::string, std::string> whole;
  write_framing(Framing{}, whole);
  CHECK(whole.size() == 1);
  CHECK(read_framing(whole, "x.pack")->source == Framing::Source::WholeImage);

  meta["crop_margin"] = "0";
  CHECK_THROWS_WITH(read_framing(meta, "x.pack"),
                    Catch::Matchers::ContainsSubstring("x.pack") && Catch::Matchers::ContainsSubstring("'crop_margin' = '0'"));
  meta["crop_margin"] = "1.5x";
  CHECK_THROWS_WITH(read_framing(meta, "x.pack"), Catch::Matchers::ContainsSubstring("'crop_margin' = '1.5x'"));
  meta["crop_margin"] = "1.5";
  meta["crop_square"] = "yes";
  CHECK_THROWS_WITH(read_framing(meta, "x.pack"), Catch::Matchers::ContainsSubstring("'crop_square' = 'yes'"));
}

TEST_CASE("a pack keeps the framing its images were cut with; old packs have none", "[zoo][pack]") {
  Pack p;
  p.schema = "ibug68";
  p.source = "test";
  p.width = p.height = 2;
  p.num_points = 68;
  const std::uint8_t pixels[4] = {1, 2, 3, 4};
  p.add("a.png", pixels, std::vector<float>(136, 0.5f), -1, Split::Train, {1, 0, 0, 0, 1, 0}, 10, 10);
  const std::string path = (std::filesystem::temp_directory_path() / "facekeys_test_framing.pack").string();

  write_pack(path, p);
  CHECK_FALSE(read_pack(path).framing.has_value());

  p.framing = Framing{Framing::Source::FaceBox, CropPolicy{1.5f, true, 0.f}};
  write_pack(path, p);
  const Pack q = read_pack(path);
  REQUIRE(q.framing.has_value());
  CHECK(q.framing->source == Framing::Source::FaceBox);
  CHECK(q.framing->face.margin == 1.5f);
  CHECK(read_safetensors(path).metadata.at("crop_margin") == "1.5");
  std::remove(path.c_str());
}
