// Landmark schema tables: consistency of every index table, the flip
// permutation's algebra, and the documented anchor points (docs/CONVENTIONS.md).
// The data test (tests/data/test_real_data.cpp) checks the flip tables
// against real annotations.
#include "support/catch.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>

#include "facekeys/schema.hpp"

using namespace facekeys;

namespace {

void check_schema_consistent(const LandmarkSchema& s) {
  INFO("schema " << s.name);
  const int n = s.num_points;
  REQUIRE(n > 0);
  REQUIRE(static_cast<int>(s.point_names.size()) == n);
  REQUIRE(static_cast<int>(s.flip_permutation.size()) == n);

  // Unique, non-empty names.
  std::set<std::string> names(s.point_names.begin(), s.point_names.end());
  CHECK(static_cast<int>(names.size()) == n);
  CHECK(names.count("") == 0);

  // The permutation is a permutation and an involution (flip twice = identity).
  std::vector<int> sorted = s.flip_permutation;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < n; ++i) CHECK(sorted[i] == i);
  for (int i = 0; i < n; ++i) {
    INFO("point " << i);
    CHECK(s.flip_permutation[s.flip_permutation[i]] == i);
  }

  // Groups partition the points, and a flip maps each group onto one group
  // (left_* onto right_*, the rest onto themselves).
  std::vector<int> group_of(n, -1);
  for (std::size_t g = 0; g < s.groups.size(); ++g)
    for (int i : s.groups[g].indices) {
      REQUIRE(i >= 0);
      REQUIRE(i < n);
      CHECK(group_of[i] == -1);  // no point in two groups
      group_of[i] = static_cast<int>(g);
    }
  for (int i = 0; i < n; ++i) CHECK(group_of[i] >= 0);
  auto mirror_name = [](std::string name) {
    if (name.rfind("left_", 0) == 0) return "right_" + name.substr(5);
    if (name.rfind("right_", 0) == 0) return "left_" + name.substr(6);
    return name;
  };
  for (int i = 0; i < n; ++i) {
    INFO("point " << i << " -> " << s.flip_permutation[i]);
    CHECK(s.groups[group_of[s.flip_permutation[i]]].name == mirror_name(s.groups[group_of[i]].name));
  }
  // Anatomical names (those not of the generic "<group>_<k>" form) swap left
  // and right under the flip: left_eye_outer <-> right_eye_outer,
  // mouth_left_corner <-> mouth_right_corner, nose_tip <-> itself.
  auto swap_sides = [](const std::string& name) {
    std::string out = name;
    const std::size_t l = name.find("left"), r = name.find("right");
    if (l != std::string::npos) out.replace(l, 4, "right");
    else if (r != std::string::npos) out.replace(r, 5, "left");
    return out;
  };
  for (int i = 0; i < n; ++i) {
    const std::string& a = s.point_names[i];
    if (!a.empty() && a.back() >= '0' && a.back() <= '9') continue;
    INFO(a << " -> " << s.point_names[s.flip_permutation[i]]);
    CHECK(s.point_names[s.flip_permutation[i]] == swap_sides(a));
  }

  for (const auto& pl : s.polylines) {
    CHECK(pl.indices.size() >= 2);
    for (int i : pl.indices) {
      CHECK(i >= 0);
      CHECK(i < n);
    }
  }

  REQUIRE(s.nose_tip >= 0);
  REQUIRE(s.nose_tip < n);
  CHECK(s.flip_permutation[s.nose_tip] == s.nose_tip);
  if (s.left_eye_outer >= 0 || s.right_eye_outer >= 0) {
    REQUIRE(s.left_eye_outer < n);
    REQUIRE(s.right_eye_outer < n);
    CHECK(s.flip_permutation[s.left_eye_outer] == s.right_eye_outer);
    const auto* le = s.group("left_eye");
    const auto* re = s.group("right_eye");
    REQUIRE(le);
    REQUIRE(re);
    CHECK(std::count(le->indices.begin(), le->indices.end(), s.left_eye_outer) == 1);
    CHECK(std::count(re->indices.begin(), re->indices.end(), s.right_eye_outer) == 1);
  }
}

}  // namespace

TEST_CASE("schemas are internally consistent", "[schema]") {
  check_schema_consistent(imm58());
  check_schema_consistent(ibug68());
  check_schema_consistent(nose_tip_only());
}

TEST_CASE("imm58 anchors and flip table", "[schema]") {
  const auto& s = imm58();
  CHECK(s.name == "imm58");
  CHECK(s.num_points == 58);
  CHECK(s.nose_tip == 52);
  CHECK(s.left_eye_outer == 13);
  CHECK(s.right_eye_outer == 21);
  CHECK(s.point_names[52] == "nose_tip");
  const auto& p = s.flip_permutation;
  for (int i = 0; i <= 12; ++i) CHECK(p[i] == 12 - i);
  for (int k = 0; k < 8; ++k) CHECK(p[13 + k] == 21 + k);
  for (int k = 0; k < 5; ++k) CHECK(p[29 + k] == 34 + k);
  CHECK(p[39] == 43);
  CHECK(p[40] == 42);
  CHECK(p[41] == 41);
  CHECK(p[44] == 46);
  CHECK(p[45] == 45);
  for (int k = 0; k <= 5; ++k) CHECK(p[47 + k] == 57 - k);
  REQUIRE(s.group("jaw"));
  CHECK(s.group("jaw")->indices.size() == 13);
  CHECK(s.group("nose")->indices.size() == 11);
  CHECK(s.polylines.size() == 7);
}

TEST_CASE("ibug68 anchors and flip table", "[schema]") {
  const auto& s = ibug68();
  CHECK(s.name == "ibug68");
  CHECK(s.num_points == 68);
  CHECK(s.nose_tip == 30);
  CHECK(s.right_eye_outer == 36);
  CHECK(s.left_eye_outer == 45);
  const auto& p = s.flip_permutation;
  for (int i = 0; i <= 16; ++i) CHECK(p[i] == 16 - i);
  for (int k = 0; k < 5; ++k) CHECK(p[17 + k] == 26 - k);
  for (int i = 27; i <= 30; ++i) CHECK(p[i] == i);
  CHECK(p[31] == 35);
  CHECK(p[32] == 34);
  CHECK(p[33] == 33);
  const int eye_pairs[][2] = {{36, 45}, {37, 44}, {38, 43}, {39, 42}, {40, 47}, {41, 46}};
  for (const auto& e : eye_pairs) CHECK(p[e[0]] == e[1]);
  const int lip_pairs[][2] = {{48, 54}, {49, 53}, {50, 52}, {51, 51}, {55, 59}, {56, 58}, {57, 57},
                              {60, 64}, {61, 63}, {62, 62}, {65, 67}, {66, 66}};
  for (const auto& e : lip_pairs) CHECK(p[e[0]] == e[1]);
  CHECK(s.group("mouth")->indices.size() == 20);
  CHECK(s.polylines.size() == 9);
}

TEST_CASE("nose_tip_only and schema_by_name", "[schema]") {
  const auto& s = nose_tip_only();
  CHECK(s.num_points == 1);
  CHECK(s.nose_tip == 0);
  CHECK(s.left_eye_outer == -1);
  CHECK(s.right_eye_outer == -1);
  CHECK(&schema_by_name("imm58") == &imm58());
  CHECK(&schema_by_name("ibug68") == &ibug68());
  CHECK(&schema_by_name("nose_tip") == &nose_tip_only());
  for (const auto& name : schema_names()) CHECK(schema_by_name(name).name == name);
  CHECK_THROWS_AS(schema_by_name("ibug_68"), std::invalid_argument);
  CHECK_THROWS_WITH(schema_by_name("dlib5"), Catch::Matchers::ContainsSubstring("unknown landmark schema 'dlib5'"));
}

TEST_CASE("relabel_for_flip moves point i to flip_permutation[i]", "[schema]") {
  const auto& s = ibug68();
  std::vector<Point2f> pts(68);
  for (int i = 0; i < 68; ++i) pts[i] = {static_cast<float>(i), static_cast<float>(2 * i)};
  const auto once = relabel_for_flip(pts, s);
  CHECK(once[45].x == 36.0f);  // the old right-eye outer corner is now the left one
  CHECK(once[30].x == 30.0f);
  const auto twice = relabel_for_flip(once, s);
  for (int i = 0; i < 68; ++i) CHECK(twice[i].x == pts[i].x);
  CHECK_THROWS_AS(relabel_for_flip(std::vector<Point2f>(58), s), std::invalid_argument);
}

TEST_CASE("which pack points a model predicts", "[schema]") {
  CHECK(pack_points_for_model(ibug68(), "ibug68").size() == 68u);
  CHECK(pack_points_for_model(imm58(), "imm58").back() == 57);
  CHECK(pack_points_for_model(imm58(), "nose_tip") == std::vector<int>{imm58().nose_tip});
  CHECK(pack_points_for_model(ibug68(), "nose_tip") == std::vector<int>{30});
  CHECK(pack_points_for_model(imm58(), "ibug68").empty());
  CHECK(pack_points_for_model(nose_tip_only(), "imm58").empty());
  CHECK(pack_points_for_model(nose_tip_only(), "nose_tip") == std::vector<int>{0});
}
