// The parsers and the schema tables against the real datasets in
// FACEKEYS_DATA_DIR (imm_face_db/, 300w/; see their PROVENANCE.md). These are
// the checks that tie the conventions to the data: every file parses, the
// three 300-W representations (.pts, dlib XML, box CSV) agree, and the flip
// permutations really map left onto right on real faces.
#include "support/catch.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "facekeys/asf.hpp"
#include "facekeys/box_csv.hpp"
#include "facekeys/dlib_xml.hpp"
#include "facekeys/error.hpp"
#include "facekeys/pts.hpp"
#include "facekeys/schema.hpp"

using namespace facekeys;
namespace fs = std::filesystem;

namespace {

const std::string kData = FACEKEYS_DATA_DIR;
const std::string kImm = kData + "/imm_face_db";
const std::string k300w = kData + "/300w";

std::vector<std::string> list_files(const std::string& dir, const std::string& ext) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ext) out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

// "lfpw/testset/image_0001.png" -> "<300w>/lfpw/testset/image_0001.pts"
std::string pts_path_for(const std::string& image_file) {
  return k300w + "/" + fs::path(image_file).replace_extension(".pts").generic_string();
}

struct ImmShape {
  std::string file;
  AsfShape shape;
};

const std::vector<ImmShape>& imm_shapes() {
  static const std::vector<ImmShape> shapes = [] {
    std::vector<ImmShape> out;
    for (const auto& f : list_files(kImm, ".asf")) out.push_back({f, read_asf(f)});
    return out;
  }();
  return shapes;
}

// One LFPW image as the XML describes it, with its .pts points.
struct LfpwImage {
  std::string file;  // as in the XML / CSV, relative to 300w/
  int width = 0, height = 0;
  DlibBox box;
  std::vector<Point2f> pts;  // from the .pts file, 0-based pixels
};

const std::vector<LfpwImage>& lfpw_images() {
  static const std::vector<LfpwImage> images = [] {
    std::vector<LfpwImage> out;
    for (const char* xml : {"labels_lfpw_testset.xml", "labels_lfpw_trainset.xml"}) {
      const std::string path = k300w + "/" + xml;
      for (const DlibImage& img : read_dlib_xml(path, 68).images) {
        LfpwImage li;
        li.file = img.file;
        li.width = img.width.value_or(0);
        li.height = img.height.value_or(0);
        if (img.boxes.size() == 1) li.box = img.boxes[0];
        li.pts = read_pts(pts_path_for(img.file), 68);
        out.push_back(std::move(li));
      }
    }
    return out;
  }();
  return images;
}

Point2f centre(const std::vector<Point2f>& pts, const std::vector<int>& indices) {
  double x = 0, y = 0;
  for (int i : indices) x += pts[i].x, y += pts[i].y;
  return {static_cast<float>(x / indices.size()), static_cast<float>(y / indices.size())};
}

double dist(Point2f a, Point2f b) { return std::hypot(double(a.x) - b.x, double(a.y) - b.y); }

// Mirror x about the image (x' = mirror_total - x: 1 - x_rel for IMM, W - 1 - x
// for pixels), then relabel with the schema's permutation.
std::vector<Point2f> flip_shape(const std::vector<Point2f>& pts, const LandmarkSchema& s, float mirror_total) {
  std::vector<Point2f> mirrored;
  for (const auto& p : pts) mirrored.push_back({mirror_total - p.x, p.y});
  return relabel_for_flip(mirrored, s);
}

// The flip table checked on real shapes.
//  1. Flipping twice gives the original points back.
//  2. Per image: the person's right eye is on the image left of the left eye,
//     in the original and in the flipped-and-relabelled shape alike (with the
//     identity table instead, the mirrored right eye would land image-right).
//  3. Within-group order: mirror each point about the shape's own centroid
//     (removing the face's offset in the image) and, over all images, the
//     median-nearest point of the target group must be flip_permutation[i].
//     This catches a wrongly ordered eye/lip/jaw pairing that 1 and 2 miss.
void check_flip_on_real_shapes(const LandmarkSchema& s, const std::vector<std::vector<Point2f>>& shapes,
                               const std::vector<float>& mirror_totals) {
  const int n = s.num_points;
  const auto& re = s.group("right_eye")->indices;
  const auto& le = s.group("left_eye")->indices;
  int not_identity = 0, wrong_side_original = 0, wrong_side_flipped = 0;
  for (std::size_t k = 0; k < shapes.size(); ++k) {
    const auto& P = shapes[k];
    const auto F = flip_shape(P, s, mirror_totals[k]);
    const auto FF = flip_shape(F, s, mirror_totals[k]);
    for (int i = 0; i < n; ++i)
      if (std::fabs(FF[i].x - P[i].x) > 1e-3f * std::max(1.0f, mirror_totals[k]) || FF[i].y != P[i].y)
        ++not_identity;
    if (!(centre(P, re).x < centre(P, le).x)) ++wrong_side_original;
    if (!(centre(F, re).x < centre(F, le).x)) ++wrong_side_flipped;
  }
  CHECK(not_identity == 0);
  CHECK(wrong_side_original == 0);
  CHECK(wrong_side_flipped == 0);

  std::vector<int> group_of(n);
  for (std::size_t g = 0; g < s.groups.size(); ++g)
    for (int i : s.groups[g].indices) group_of[i] = static_cast<int>(g);
  for (int i = 0; i < n; ++i) {
    const auto& target_group = s.groups[group_of[s.flip_permutation[i]]].indices;
    std::map<int, std::vector<double>> d;  // candidate j -> distance per image / IOD
    for (const auto& P : shapes) {
      double cx = 0;
      for (const auto& p : P) cx += p.x;
      cx /= n;
      const Point2f m{static_cast<float>(2 * cx - P[i].x), P[i].y};
      const double iod = dist(P[s.left_eye_outer], P[s.right_eye_outer]);
      for (int j : target_group) d[j].push_back(dist(m, P[j]) / iod);
    }
    int best = -1;
    double best_median = 1e300;
    for (auto& kv : d) {
      auto& v = kv.second;
      std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
      if (v[v.size() / 2] < best_median) best_median = v[v.size() / 2], best = kv.first;
    }
    INFO(s.name << ": mirrored point " << i << " is nearest (median " << best_median << " IOD) to " << best
                << ", the table says " << s.flip_permutation[i]);
    CHECK(best == s.flip_permutation[i]);
  }
}

}  // namespace

TEST_CASE("IMM: all 240 .asf files parse to 58 points in [0,1]", "[data][imm]") {
  const auto& shapes = imm_shapes();
  REQUIRE(shapes.size() == 240);
  int out_of_range = 0, wrong_host = 0;
  for (const auto& s : shapes) {
    REQUIRE(s.shape.points.size() == 58);
    for (const auto& p : s.shape.points)
      if (!(p.x >= 0 && p.x <= 1 && p.y >= 0 && p.y <= 1)) ++out_of_range;
    if (s.shape.host_image != fs::path(s.file).filename().replace_extension(".jpg").string()) ++wrong_host;
  }
  CHECK(out_of_range == 0);
  CHECK(wrong_host == 0);
  // 41 files (e.g. 14-5f.asf) carry three extra user fields per point line.
  CHECK(read_asf(kImm + "/14-5f.asf").points.size() == 58);
  // The example in PROVENANCE.md: 01-1m.asf point 52 = (0.49070060, 0.63137436) -> pixel (314, 303).
  const AsfShape a = read_asf(kImm + "/01-1m.asf");
  CHECK(a.points[52].x == Approx(0.49070060));
  CHECK(a.points[52].y == Approx(0.63137436));
  const auto px = asf_to_pixels(a, 640, 480);
  CHECK(std::lround(px[52].x) == 314);
  CHECK(std::lround(px[52].y) == 303);
}

TEST_CASE("LFPW: all 224 test and 805 train .pts files parse to 68 points", "[data][pts]") {
  const auto test = list_files(k300w + "/lfpw/testset", ".pts");
  const auto train = list_files(k300w + "/lfpw/trainset", ".pts");
  CHECK(test.size() == 224);
  CHECK(train.size() == 805);
  std::size_t parsed = 0;
  for (const auto* list : {&test, &train})
    for (const auto& f : *list) {
      INFO(f);
      REQUIRE(read_pts(f, 68).size() == 68);
      ++parsed;
    }
  CHECK(parsed == 1029);
}

TEST_CASE("LFPW: the trailing-space quirk files parse to value - 1", "[data][pts]") {
  for (const char* name : {"image_0492", "image_0622", "image_0651"}) {
    const std::string path = k300w + "/lfpw/trainset/" + name + ".pts";
    INFO(path);
    std::ifstream in(path, std::ios::binary);
    std::stringstream raw;
    raw << in.rdbuf();
    const std::string text = raw.str();
    REQUIRE(text.find(" \n") != std::string::npos);  // the quirk is really there
    const auto pts = parse_pts(text, path, 68);
    REQUIRE(pts.size() == 68);
    // Independent whitespace-split read of the 68 value pairs.
    std::istringstream body(text.substr(text.find('{') + 1));
    for (int i = 0; i < 68; ++i) {
      double x = 0, y = 0;
      REQUIRE(static_cast<bool>(body >> x >> y));
      CHECK(pts[i].x == Approx(x - 1).margin(1e-4));
      CHECK(pts[i].y == Approx(y - 1).margin(1e-4));
    }
  }
}

TEST_CASE("LFPW: the dlib XML files agree with the .pts files", "[data][dlib]") {
  const auto test_xml = read_dlib_xml(k300w + "/labels_lfpw_testset.xml", 68);
  const auto train_xml = read_dlib_xml(k300w + "/labels_lfpw_trainset.xml", 68);
  CHECK(test_xml.images.size() == list_files(k300w + "/lfpw/testset", ".pts").size());
  CHECK(train_xml.images.size() == list_files(k300w + "/lfpw/trainset", ".pts").size());
  CHECK(test_xml.images.size() == 224);
  CHECK(train_xml.images.size() == 805);

  const auto& images = lfpw_images();
  REQUIRE(images.size() == 1029);
  int far_parts = 0, outside_image = 0;
  double worst = 0;
  for (const auto& img : images) {
    INFO(img.file);
    REQUIRE(img.width > 0);
    REQUIRE(img.height > 0);
    REQUIRE(img.box.parts.size() == 68);
    const auto parts = dense_points(img.box, 68, img.file);
    for (int i = 0; i < 68; ++i) {
      // The XML stores round(pts - 1); the parser already subtracted the 1.
      const double e = std::max(std::fabs(parts[i].x - img.pts[i].x), std::fabs(parts[i].y - img.pts[i].y));
      worst = std::max(worst, e);
      if (e > 0.5 + 1e-3) ++far_parts;
      const auto& p = img.pts[i];
      if (p.x < -1e-3f || p.y < -1e-3f || p.x > img.width - 1 + 1e-3f || p.y > img.height - 1 + 1e-3f)
        ++outside_image;
    }
  }
  INFO("largest |dlib part - (pts - 1)| = " << worst);
  CHECK(far_parts == 0);
  CHECK(outside_image == 0);
}

TEST_CASE("LFPW: boxes_lfpw.csv has 1029 rows consistent with the XML and .pts", "[data][csv]") {
  const BoxCsv csv = read_box_csv(k300w + "/boxes_lfpw.csv");
  REQUIRE(csv.size() == 1029);
  const auto& images = lfpw_images();
  int with_dlib = 0;
  for (const auto& img : images) {
    INFO(img.file);
    REQUIRE(csv.find(img.file) != nullptr);
    CHECK(csv.value(img.file, "width") == static_cast<float>(img.width));
    CHECK(csv.value(img.file, "height") == static_cast<float>(img.height));
    // lm_* is the tight box around the 0-based points, written with 3 decimals.
    const auto lm = csv.box(img.file, "lm");
    REQUIRE(lm.has_value());
    float x1 = 1e9f, y1 = 1e9f, x2 = -1e9f, y2 = -1e9f;
    for (const auto& p : img.pts) {
      x1 = std::min(x1, p.x), y1 = std::min(y1, p.y);
      x2 = std::max(x2, p.x), y2 = std::max(y2, p.y);
    }
    CHECK(lm->x1 == Approx(x1).margin(2e-3));
    CHECK(lm->y1 == Approx(y1).margin(2e-3));
    CHECK(lm->x2 == Approx(x2).margin(2e-3));
    CHECK(lm->y2 == Approx(y2).margin(2e-3));
    // The XML box is the DAN box rounded: left = round(x1), width = round(x2 - x1).
    const auto dan = csv.box(img.file, "dan");
    REQUIRE(dan.has_value());
    CHECK(std::fabs(img.box.left - dan->x1) <= 0.5 + 1e-3);
    CHECK(std::fabs(img.box.top - dan->y1) <= 0.5 + 1e-3);
    CHECK(std::fabs(img.box.width - (dan->x2 - dan->x1)) <= 0.5 + 1e-3);
    CHECK(std::fabs(img.box.height - (dan->y2 - dan->y1)) <= 0.5 + 1e-3);
    if (csv.box(img.file, "dlib")) ++with_dlib;
  }
  CHECK(with_dlib == 36);  // dlib boxes exist for 36 test images only
}

TEST_CASE("flip permutation on real IMM annotations", "[data][flip][imm]") {
  std::vector<std::vector<Point2f>> shapes;
  for (const auto& s : imm_shapes()) shapes.push_back(s.shape.points);
  REQUIRE(shapes.size() == 240);
  // Relative coordinates: the mirror is 1 - x_rel.
  check_flip_on_real_shapes(imm58(), shapes, std::vector<float>(shapes.size(), 1.0f));
}

TEST_CASE("flip permutation on real iBUG 68 annotations (LFPW)", "[data][flip][pts]") {
  std::vector<std::vector<Point2f>> shapes;
  std::vector<float> totals;
  for (const auto& img : lfpw_images()) {
    shapes.push_back(img.pts);
    totals.push_back(static_cast<float>(img.width - 1));  // pixel mirror x' = W - 1 - x
  }
  REQUIRE(shapes.size() == 1029);
  check_flip_on_real_shapes(ibug68(), shapes, totals);
}
