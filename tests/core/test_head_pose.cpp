// Head pose (facekeys/head_pose.hpp) and eye/mouth openness (facekeys/face_openness.hpp).
// The solver is checked against cv::solvePnP in tests/opencv.
#include <cmath>
#include <random>
#include <vector>

#include "support/catch.hpp"

#include "facekeys/face_openness.hpp"
#include "facekeys/head_pose.hpp"
#include "facekeys/model_card.hpp"
#include "facekeys/predict_result.hpp"

using namespace facekeys;

namespace {

// The generic face's points at a pose, in a 1280x720 image; the other points NaN.
std::vector<Point2f> projected(double yaw, double pitch, double roll, double distance = 600) {
  const PinholeCamera cam = default_camera(1280, 720);
  const auto r = rotation_from_angles(yaw, pitch, roll);
  std::vector<Point2f> pts(68, Point2f{NAN, NAN});
  for (const GenericPoint& g : generic_face68()) pts[g.index] = project_point(g.where, r, {30, -20, distance}, cam);
  return pts;
}

}  // namespace

TEST_CASE("head pose: angles <-> rotation, and the sign conventions on the image", "[head_pose]") {
  double y = 0, p = 0, r = 0;
  angles_from_rotation(rotation_from_angles(25, -10, 5), y, p, r);
  CHECK(y == Approx(25).margin(1e-9));
  CHECK(p == Approx(-10).margin(1e-9));
  CHECK(r == Approx(5).margin(1e-9));
  // yaw > 0: the nose tip moves to the image's right of the eyes' middle.
  std::vector<Point2f> a = projected(30, 0, 0);
  CHECK(a[30].x > 0.5f * (a[36].x + a[45].x) + 10);
  // pitch > 0 (chin forward, face up): the nose tip rises towards the eyes.
  const std::vector<Point2f> up = projected(0, 20, 0), level = projected(0, 0, 0);
  CHECK((up[30].y - up[36].y) < (level[30].y - level[36].y) - 5);
  // roll > 0: clockwise in the image: the person's left eye (image right) goes down.
  const std::vector<Point2f> cw = projected(0, 0, 15);
  CHECK(cw[45].y > cw[36].y + 10);
}

TEST_CASE("head pose: the solver recovers poses of the generic face to 0.1 degree", "[head_pose]") {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> yaw(-60, 60), pitch(-30, 30), roll(-30, 30), dist(300, 2000);
  for (int i = 0; i < 200; ++i) {
    const double y = yaw(rng), p = pitch(rng), r = roll(rng);
    HeadPose pose;
    REQUIRE(head_pose(projected(y, p, r, dist(rng)), default_camera(1280, 720), pose));
    CHECK(pose.yaw == Approx(y).margin(0.1));
    CHECK(pose.pitch == Approx(p).margin(0.1));
    CHECK(pose.roll == Approx(r).margin(0.1));
    CHECK(pose.rms_px < 0.01);
  }
  // Too few points, or not 68.
  std::vector<Point2f> few(68, Point2f{NAN, NAN});
  few[30] = Point2f{1, 1};
  HeadPose pose;
  CHECK_FALSE(head_pose(few, default_camera(100, 100), pose));
  CHECK_FALSE(head_pose(std::vector<Point2f>(58), default_camera(100, 100), pose));
}

TEST_CASE("face openness: eye aspect ratio and mouth, the person's left and right", "[face_openness]") {
  std::vector<Point2f> p(68, Point2f{0, 0});
  // right eye 36-41: width 30, heights 9 and 12 -> (9 + 12) / 60 = 0.35
  p[36] = {0, 0}, p[39] = {30, 0}, p[37] = {10, -4}, p[41] = {10, 5}, p[38] = {20, -6}, p[40] = {20, 6};
  // left eye 42-47: closed (heights 1) -> 2 / 60
  p[42] = {60, 0}, p[45] = {90, 0}, p[43] = {70, 0}, p[47] = {70, 1}, p[44] = {80, 0}, p[46] = {80, 1};
  // inner lips 60-67: width 40, heights 10, 20, 10 -> 40 / 120
  p[60] = {30, 50}, p[64] = {70, 50}, p[61] = {40, 45}, p[67] = {40, 55}, p[62] = {50, 40}, p[66] = {50, 60},
  p[63] = {60, 45}, p[65] = {60, 55};
  FaceOpenness o;
  REQUIRE(face_openness(p, o));
  CHECK(o.right_eye == Approx(0.35));
  CHECK(o.left_eye == Approx(2.0 / 60));
  CHECK(o.mouth == Approx(1.0 / 3));
  p[61] = {NAN, NAN};
  CHECK_FALSE(face_openness(p, o));
}

TEST_CASE("predict result: 68-point faces carry pose, eyes and mouth; others do not", "[predict_result]") {
  ModelCard card;
  card.name = "m";
  card.schema = "ibug68";
  card.num_points = 68;
  std::vector<Point2f> pts = projected(20, 5, -3);
  for (int k = 0; k < 68; ++k)  // every point decoded: the others near the face
    if (!std::isfinite(pts[k].x)) pts[k] = Point2f{640.f + k, 360.f + (k % 9)};
  PredictedFace f{Box{500, 200, 300, 300}, 0.9f, false, pts};
  Json j = predict_result_json("x.jpg", 1280, 720, {f}, &card);
  const Json& face = j.at("faces").as_array().at(0);
  REQUIRE(face.contains("pose"));
  CHECK(face.at("pose").at("yaw").as_number() == Approx(20).margin(0.2));
  CHECK(face.at("pose").at("pitch").as_number() == Approx(5).margin(0.2));
  CHECK(face.contains("eyes"));
  CHECK(face.contains("mouth"));
  card.schema = "imm58";
  card.num_points = 58;
  PredictedFace g{Box{500, 200, 300, 300}, 0.9f, false, std::vector<Point2f>(58, Point2f{600, 300})};
  Json k = predict_result_json("x.jpg", 1280, 720, {g}, &card);
  CHECK_FALSE(k.at("faces").as_array().at(0).contains("pose"));
  CHECK_FALSE(k.at("faces").as_array().at(0).contains("eyes"));
}
