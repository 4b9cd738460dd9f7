// The face tracker (facekeys/face_tracker.hpp): when the detector runs, where
// each face's crop comes from, when a track ends, ids, smoothing. The
// networks' outputs are made here from a known scene: faces whose 68 points
// are known in every frame (the detector answers with boxes around them, the
// keypoint model with Gaussian heatmaps at the points as seen in each crop,
// or flat maps where the scene has no face). The real networks on a real video
// are tests/video's (facekeys track) and tests/web's (the page's camera).
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "support/catch.hpp"

#include "support/test_helpers.hpp"
#include "facekeys/face_detect.hpp"
#include "facekeys/face_tracker.hpp"
#include "facekeys/head_pose.hpp"
#include "facekeys/keypoint_pipeline.hpp"

using namespace facekeys;

namespace {

constexpr int kW = 640, kH = 480;

// 68 points of a face: the generic face's points seen frontally at `scale`
// pixels a millimetre around `centre`, the others spread over its box.
std::vector<Point2f> face_points(Point2f centre, float scale) {
  std::vector<Point2f> pts(68);
  for (int k = 0; k < 68; ++k)  // a ring for the points the generic face leaves out
    pts[k] = Point2f{centre.x + 55.f * scale * std::cos(k * 0.37f), centre.y + 60.f * scale * std::sin(k * 0.37f)};
  for (const GenericPoint& g : generic_face68())
    pts[g.index] = Point2f{centre.x + g.where.x * scale, centre.y + g.where.y * scale};  // y down (head_pose.hpp)
  return pts;
}

float distance(Point2f p, Point2f q) { return std::hypot(p.x - q.x, p.y - q.y); }

struct Scene {
  std::vector<std::vector<Point2f>> faces;  // the faces the detector sees (and the model, in its crops)
  bool model_sees_faces = true;             // false: the keypoint model finds nothing (flat maps)
  bool detector_sees_faces = true;          // false: the detector finds nothing
  // Set: a model stuck on these points (the way a real model can stay where the face was before it
  // jumped) in any crop nearer to them than to the face it sees.
  const std::vector<Point2f>* stuck = nullptr;
  // A model drawn towards its crop's centre (as real ones are, trained on centred faces): the
  // points it sees moved by this share of the crop's offset from the face.
  float pull = 0.f;
};

// Answers the tracker's runs for one frame from the scene. Returns whether the detector ran.
// The crops of its keypoint runs go to `crops` when given.
bool run_frame(FaceTracker& tracker, const Scene& scene, double t, const ModelCard& card,
               std::vector<Box>* crops = nullptr) {
  Photo p;
  p.pixels = ImageU8(kW, kH, 3);
  tracker.begin_frame(std::move(p), t);
  bool detector = false;
  while (const TensorRun* run = tracker.next()) {
    if (run->network == TensorRun::Network::Detector) {
      detector = true;
      const std::size_t n = ultraface_priors().size();
      std::vector<float>& scores = tracker.output(0);
      std::vector<float>& boxes = tracker.output(1);
      scores.assign(2 * n, 0.f);
      boxes.assign(4 * n, 0.f);
      for (std::size_t i = 0; i < n; ++i) scores[2 * i] = 1.f;
      for (std::size_t f = 0; f < scene.faces.size() && scene.detector_sees_faces; ++f) {
        // An UltraFace-like box: the points' box, taller and reaching up to the forehead.
        const Box b = calibrate_box(points_to_training_box("ibug68", scene.faces[f]),
                                    BoxCalibration{0.984f, 1.342f, 0.006f, -0.176f / 1.342f});
        const std::size_t i = 100 + 200 * f;
        scores[2 * i] = 0.02f;
        scores[2 * i + 1] = 0.98f;
        const float c[4] = {(b.x + 0.5f) / kW, (b.y + 0.5f) / kH, (b.x + b.w + 0.5f) / kW, (b.y + b.h + 0.5f) / kH};
        for (int k = 0; k < 4; ++k) boxes[4 * i + k] = c[k];
      }
    } else {
      if (crops) crops->insert(crops->end(), run->crops.begin(), run->crops.end());
      const int hw = card.output.width, hh = card.output.height;
      std::vector<float>& out = tracker.output(0);
      out.assign(run->crops.size() * 68 * hw * hh, 0.f);
      for (std::size_t j = 0; j < run->crops.size(); ++j) {
        if (!scene.model_sees_faces) continue;
        // The scene face nearest this crop, as the model would see it.
        const Box& crop = run->crops[j];
        const std::vector<Point2f>* best = nullptr;
        float best_d = 1e9f;
        for (const auto& f : scene.faces) {
          const Point2f c = points_to_training_box("ibug68", f).center();
          const float d = std::hypot(c.x - crop.center().x, c.y - crop.center().y);
          if (d < best_d) best_d = d, best = &f;
        }
        if (!best || best_d > crop.w / 2) continue;
        const bool stuck = scene.stuck && distance(points_to_training_box("ibug68", *scene.stuck).center(), crop.center()) < best_d;
        std::vector<Point2f> seen = stuck ? *scene.stuck : *best;
        const Point2f face_centre = points_to_training_box("ibug68", seen).center();
        for (Point2f& p : seen)
          p.x += scene.pull * (crop.center().x - face_centre.x), p.y += scene.pull * (crop.center().y - face_centre.y);
        for (int k = 0; k < 68; ++k) {
          // Image pixels -> heatmap cells (u = (x - crop.x) / crop.w; x_hm = u * w - 0.5).
          const float xh = (seen[k].x - crop.x) / crop.w * hw - 0.5f;
          const float yh = (seen[k].y - crop.y) / crop.h * hh - 0.5f;
          float* m = out.data() + (j * 68 + k) * hw * hh;
          for (int y = 0; y < hh; ++y)
            for (int x = 0; x < hw; ++x)
              m[y * hw + x] = -((x - xh) * (x - xh) + (y - yh) * (y - yh)) / (2.f * 2.f * 2.f);
        }
      }
    }
    tracker.give();
  }
  CHECK(tracker.frame_done());
  return detector;
}

std::vector<Point2f> moved(const std::vector<Point2f>& pts, float dx, float dy) {
  std::vector<Point2f> out = pts;
  for (Point2f& p : out) p.x += dx, p.y += dy;
  return out;
}

float mean_distance(const std::vector<Point2f>& a, const std::vector<Point2f>& b) {
  double s = 0;
  for (std::size_t k = 0; k < a.size(); ++k) s += std::hypot(a[k].x - b[k].x, a[k].y - b[k].y);
  return static_cast<float>(s / a.size());
}

}  // namespace

TEST_CASE("tracker: the detector runs on the first frame and every N frames; crops follow the points", "[tracker]") {
  const ModelCard card = testing::ibug_card("heatmaps");
  TrackOptions options;
  options.detect_every = 4;
  options.smoothing = false;
  FaceTracker tracker(&card, options);
  const std::vector<Point2f> face = face_points({200.f, 220.f}, 1.2f);
  std::vector<bool> detected;
  for (int i = 0; i < 10; ++i) {
    const std::vector<Point2f> now = moved(face, 6.f * i, 2.f * i);  // a steady pan
    detected.push_back(run_frame(tracker, Scene{{now}}, i / 30.0, card));
    REQUIRE(tracker.faces().size() == 1u);
    const TrackedFace& f = tracker.faces()[0];
    CHECK(f.id == 1);
    CHECK(f.frames == i + 1);
    CHECK(f.confidence > 0.9f);
    // The points are where the scene has them, to the heatmap decode's precision
    // (the crop came from the last frame's points: the face has moved 6 px since).
    CHECK(mean_distance(f.raw_points, now) < 0.5f);
    CHECK(mean_distance(f.face.points, f.raw_points) == 0.f);  // smoothing off
  }
  CHECK(detected == std::vector<bool>{true, false, false, false, true, false, false, false, true, false});
  Json j = tracker.frame_json();
  CHECK(j["frame"].as_number() == 9);
  const Json& f0 = j.at("faces").as_array().at(0);
  CHECK(f0.at("id").as_number() == 1);
  CHECK(f0.at("points").size() == 68u);
  CHECK(f0.contains("pose"));
  CHECK(f0.at("confidence").as_number() > 0.9);
}

TEST_CASE("tracker: a face the model no longer sees ends its track; the detector finds it again as a new one",
          "[tracker]") {
  const ModelCard card = testing::ibug_card("heatmaps");
  TrackOptions options;
  options.detect_every = 30;
  FaceTracker tracker(&card, options);
  const std::vector<Point2f> face = face_points({320.f, 240.f}, 1.5f);
  run_frame(tracker, Scene{{face}}, 0.0, card);
  REQUIRE(tracker.faces().size() == 1u);
  // The model's maps go flat (its crop holds no face): confidence about 2 pi sigma^2 / (64 * 64).
  CHECK_FALSE(run_frame(tracker, Scene{{face}, false}, 0.1, card));
  CHECK(tracker.faces().empty());
  // No track left: the next frame runs the detector, and the face gets a new id.
  CHECK(run_frame(tracker, Scene{{face}}, 0.2, card));
  REQUIRE(tracker.faces().size() == 1u);
  CHECK(tracker.faces()[0].id == 2);
}

TEST_CASE("tracker: a face that leaves the frame ends its track", "[tracker]") {
  const ModelCard card = testing::ibug_card("heatmaps");
  FaceTracker tracker(&card);
  std::vector<Point2f> face = face_points({320.f, 240.f}, 1.5f);
  run_frame(tracker, Scene{{face}}, 0.0, card);
  REQUIRE(tracker.faces().size() == 1u);
  int frames = 0;
  double t = 0;
  while (!tracker.faces().empty() && frames < 40) {
    face = moved(face, 25.f, 0.f);  // off to the right
    run_frame(tracker, Scene{{face}}, t += 1 / 30.0, card);
    ++frames;
  }
  CHECK(tracker.faces().empty());
  // Lost once less than half its box was inside (the face's box is ~150 px wide: the centre near x = 640).
  CHECK(points_to_training_box("ibug68", face).center().x > 600.f);
}

TEST_CASE("tracker: ids stay with their faces; a new face gets a new id at the next detection", "[tracker]") {
  const ModelCard card = testing::ibug_card("heatmaps");
  TrackOptions options;
  options.detect_every = 3;
  FaceTracker tracker(&card, options);
  const std::vector<Point2f> a = face_points({150.f, 240.f}, 1.f), b = face_points({480.f, 230.f}, 1.f);
  run_frame(tracker, Scene{{a}}, 0.0, card);
  REQUIRE(tracker.faces().size() == 1u);
  run_frame(tracker, Scene{{a, b}}, 0.1, card);  // b appears between detections: not yet seen
  CHECK(tracker.faces().size() == 1u);
  run_frame(tracker, Scene{{a, b}}, 0.2, card);
  CHECK(run_frame(tracker, Scene{{moved(a, 3.f, 0.f), b}}, 0.3, card));  // frame 3: the detector
  REQUIRE(tracker.faces().size() == 2u);
  CHECK(tracker.faces()[0].id == 1);
  CHECK(tracker.faces()[1].id == 2);
  CHECK(tracker.faces()[0].raw_points[30].x == Approx(a[30].x + 3.f).margin(0.5));
  CHECK(tracker.faces()[1].raw_points[30].x == Approx(b[30].x).margin(0.5));
  // A frame from before the last (the video started again) ends every track.
  run_frame(tracker, Scene{{a, b}}, 0.0, card);
  REQUIRE(tracker.faces().size() == 2u);
  CHECK(tracker.faces()[0].id == 3);
}

TEST_CASE("tracker: a track stuck off its face is re-anchored by the next detection, keeping its id", "[tracker]") {
  const ModelCard card = testing::ibug_card("heatmaps");
  TrackOptions options;
  options.detect_every = 5;
  const std::vector<Point2f> a = face_points({300.f, 240.f}, 1.5f);
  const std::vector<Point2f> jumped = moved(a, 80.f, 0.f);  // a cut: the face 80 px on, within the old crop
  for (const bool reanchor : {true, false}) {
    options.reanchor_iou = reanchor ? TrackOptions{}.reanchor_iou : 0.f;
    FaceTracker tracker(&card, options);
    Scene after{{jumped}};
    after.stuck = &a;
    run_frame(tracker, Scene{{a}}, 0.0, card);
    for (int i = 1; i < 5; ++i) {  // stuck: the points stay where the face was
      run_frame(tracker, after, i / 10.0, card);
      REQUIRE(tracker.faces().size() == 1u);
      CHECK(tracker.faces()[0].raw_points[30].x == Approx(a[30].x).margin(1.0));
    }
    const float iou = box_iou(points_to_training_box("ibug68", a), points_to_training_box("ibug68", jumped));
    INFO("IoU of the stuck track's box and the face's: " << iou);
    CHECK(iou > options.match_iou);  // the detection still joins the track,
    CHECK(iou < TrackOptions{}.reanchor_iou);  // but overlaps it less than a good track does
    CHECK(run_frame(tracker, after, 0.5, card));  // frame 5: the detector
    REQUIRE(tracker.faces().size() == 1u);
    const TrackedFace& f = tracker.faces()[0];
    CHECK(f.id == 1);
    if (reanchor) {
      CHECK(f.raw_points[30].x == Approx(jumped[30].x).margin(1.0));  // the crop came from the detection
      CHECK(mean_distance(f.face.points, f.raw_points) == 0.f);      // smoothing starts afresh: no lag
    } else {
      CHECK(f.raw_points[30].x == Approx(a[30].x).margin(1.0));  // still stuck: the crop came from its points
    }
  }
}

TEST_CASE("tracker: after a gap in the frames the detector runs, tracks start again from it or end", "[tracker]") {
  // A host that stalled for a second (or a camera paused and resumed): the face moved meanwhile,
  // and the model, given a crop nearer where it was, stays there (Scene::stuck).
  const ModelCard card = testing::ibug_card("heatmaps");
  const std::vector<Point2f> a = face_points({300.f, 240.f}, 1.5f);
  const std::vector<Point2f> later = moved(a, 70.f, 10.f);
  CHECK(box_iou(points_to_training_box("ibug68", a), points_to_training_box("ibug68", later)) >
        TrackOptions{}.match_iou);
  for (const bool rule : {true, false}) {
    TrackOptions options;
    if (!rule) options.max_gap_s = std::numeric_limits<double>::infinity();
    FaceTracker tracker(&card, options);
    for (int i = 0; i < 3; ++i) run_frame(tracker, Scene{{a}}, i / 30.0, card);
    Scene after{{later}};
    after.stuck = &a;
    const double t = 2 / 30.0 + 1.0;
    CHECK(run_frame(tracker, after, t, card) == rule);  // detect_every is 10: only the gap runs the detector
    REQUIRE(tracker.faces().size() == 1u);
    const TrackedFace& f = tracker.faces()[0];
    CHECK(f.id == 1);
    const Point2f nose = f.raw_points[30];
    CHECK(nose.x == Approx((rule ? later : a)[30].x).margin(1.0));
    if (rule) CHECK(mean_distance(f.face.points, f.raw_points) == 0.f);  // smoothing starts afresh

    // A face the detector does not find after a gap: its track ends, where between frames it goes on.
    FaceTracker other(&card, options);
    for (int i = 0; i < 3; ++i) run_frame(other, Scene{{a}}, i / 30.0, card);
    Scene unseen{{a}};
    unseen.detector_sees_faces = false;
    run_frame(other, unseen, 3 / 30.0, card);
    CHECK(other.faces().size() == 1u);
    run_frame(other, unseen, 3 / 30.0 + 1.0, card);
    CHECK(other.faces().size() == (rule ? 0u : 1u));
  }
}

TEST_CASE("tracker: the One Euro filter steadies a still face's points, and starts afresh with a track", "[tracker]") {
  const ModelCard card = testing::ibug_card("heatmaps");
  FaceTracker tracker(&card);  // smoothing on by default
  const std::vector<Point2f> face = face_points({320.f, 240.f}, 1.5f);
  std::mt19937 rng(3);
  std::normal_distribution<float> noise(0.f, 0.8f);
  double raw_motion = 0, smooth_motion = 0;
  std::vector<Point2f> last_raw, last_smooth;
  for (int i = 0; i < 60; ++i) {
    std::vector<Point2f> jittered = face;
    for (Point2f& p : jittered) p.x += noise(rng), p.y += noise(rng);
    run_frame(tracker, Scene{{jittered}}, i / 30.0, card);
    REQUIRE(tracker.faces().size() == 1u);
    const TrackedFace& f = tracker.faces()[0];
    if (i == 0) CHECK(mean_distance(f.face.points, f.raw_points) == 0.f);  // a new track: the filter's first value is its input
    if (i >= 10) {
      raw_motion += mean_distance(f.raw_points, last_raw);
      smooth_motion += mean_distance(f.face.points, last_smooth);
    }
    last_raw = f.raw_points;
    last_smooth = f.face.points;
  }
  CHECK(smooth_motion * 4 < raw_motion);
  // Off: the points are the model's.
  TrackOptions off = tracker.options();
  off.smoothing = false;
  tracker.set_options(off);
  run_frame(tracker, Scene{{face}}, 2.5, card);
  CHECK(mean_distance(tracker.faces()[0].face.points, tracker.faces()[0].raw_points) == 0.f);
}

TEST_CASE("tracker: without a model it tracks the detector's boxes", "[tracker]") {
  const ModelCard card = testing::ibug_card("heatmaps");
  FaceTracker tracker(nullptr);
  const std::vector<Point2f> face = face_points({320.f, 240.f}, 1.5f);
  CHECK(run_frame(tracker, Scene{{face}}, 0.0, card));
  CHECK(run_frame(tracker, Scene{{moved(face, 4.f, 0.f)}}, 0.1, card));
  REQUIRE(tracker.faces().size() == 1u);
  CHECK(tracker.faces()[0].id == 1);
  CHECK(tracker.faces()[0].face.points.empty());
  run_frame(tracker, Scene{{}}, 0.2, card);
  CHECK(tracker.faces().empty());
}

TEST_CASE("tracker: options are checked", "[tracker]") {
  TrackOptions o;
  o.detect_every = 0;
  CHECK_THROWS_AS(FaceTracker(nullptr, o), std::invalid_argument);
  o = TrackOptions{};
  o.one_euro.min_cutoff = 0;
  CHECK_THROWS_AS(FaceTracker(nullptr, o), std::invalid_argument);
  o = TrackOptions{};
  o.min_confidence = 2.f;
  CHECK_THROWS_AS(FaceTracker(nullptr, o), std::invalid_argument);
  o = TrackOptions{};
  o.reanchor_iou = -0.1f;
  CHECK_THROWS_AS(FaceTracker(nullptr, o), std::invalid_argument);
  o = TrackOptions{};
  o.max_gap_s = 0;
  CHECK_THROWS_AS(FaceTracker(nullptr, o), std::invalid_argument);
  o = TrackOptions{};
  o.crop_one_euro.d_cutoff = 0;
  CHECK_THROWS_AS(FaceTracker(nullptr, o), std::invalid_argument);
}

TEST_CASE("keypoint confidence: heatmap peaks against the training target; a 68-point shape against the 3D face",
          "[tracker]") {
  const ModelCard heat = testing::ibug_card("heatmaps");
  const std::size_t cells = 64 * 64;
  std::vector<float> flat(68 * cells, 1.f / cells);
  CHECK(keypoint_confidence(heat, flat, {}) == Approx(2 * 3.14159265 * 4 / cells).epsilon(1e-3));
  std::vector<float> target(68 * cells);  // the training target: a normalised Gaussian of sigma 2 per map
  for (std::size_t k = 0; k < 68; ++k) {
    const float cx = 10.f + (k % 40), cy = 12.f + (k % 37);
    double sum = 0;
    for (std::size_t i = 0; i < cells; ++i) {
      const float x = static_cast<float>(i % 64) - cx, y = static_cast<float>(i / 64) - cy;
      sum += target[k * cells + i] = std::exp(-(x * x + y * y) / 8.f);
    }
    for (std::size_t i = 0; i < cells; ++i) target[k * cells + i] /= static_cast<float>(sum);
  }
  CHECK(keypoint_confidence(heat, target, {}) > 0.95f);

  const ModelCard coords = testing::ibug_card("coords");
  // The generic face under a pose, in the crop's normalised frame.
  std::vector<Point2f> pts = face_points({64.f, 64.f}, 0.6f);
  const PinholeCamera cam = default_camera(128, 128);
  const auto R = rotation_from_angles(20, -10, 5);
  for (const GenericPoint& g : generic_face68()) pts[g.index] = project_point(g.where, R, {0, 0, 400}, cam);
  std::vector<float> uv;
  for (const Point2f& p : pts) uv.insert(uv.end(), {(p.x + 0.5f) / 128.f, (p.y + 0.5f) / 128.f});
  CHECK(keypoint_confidence(coords, {}, uv) > 0.95f);
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> any(0.2f, 0.8f);
  for (float& v : uv) v = any(rng);  // no face's shape
  CHECK(keypoint_confidence(coords, {}, uv) < 0.25f);
}

TEST_CASE("points_to_training_box: the points' bounding box, calibrated for 68 points", "[tracker]") {
  std::vector<Point2f> pts = {{10.f, 20.f}, {110.f, 220.f}, {NAN, 5.f}};
  const Box b = points_to_training_box("imm58", pts);
  CHECK(b.x == 10.f);
  CHECK(b.w == 100.f);
  CHECK(b.h == 200.f);
  const Box c = points_to_training_box("ibug68", pts);
  CHECK(c.w == Approx(100.f * kPointsToDanBox.scale_w));
  CHECK(c.center().y == Approx(120.f + kPointsToDanBox.shift_y * c.h));
  CHECK(points_to_training_box("ibug68", {{1.f, 1.f}}).w == 0.f);
}

TEST_CASE("tracker: between slow frames the crop moves on with the face", "[tracker]") {
  // 5 frames a second and 40 px a frame: without the box's velocity the crop would
  // trail the face by 40 px (a quarter of its box) every frame.
  const ModelCard card = testing::ibug_card("heatmaps");
  TrackOptions options;
  options.detect_every = 100;
  options.smoothing = false;
  options.refine_iou = 0.f;  // the prediction alone
  FaceTracker tracker(&card, options);
  const std::vector<Point2f> face = face_points({150.f, 240.f}, 1.2f);
  for (int i = 0; i < 8; ++i) {
    const std::vector<Point2f> now = moved(face, 40.f * i, 0.f);
    std::vector<Box> crops;
    run_frame(tracker, Scene{{now}}, i * 0.2, card, &crops);
    REQUIRE(tracker.faces().size() == 1u);
    REQUIRE(crops.size() == 1u);
    // Frame 0 is the detector's; frame 1's crop comes from frame 0's points and
    // trails; from frame 2 on (two boxes from points: a velocity) the crop is
    // centred on where the face is now.
    const float off = crops[0].center().x - points_to_training_box("ibug68", now).center().x;
    if (i == 1) CHECK(off == Approx(-40.f).margin(2.f));
    if (i >= 2) CHECK(std::abs(off) < 2.f);
  }
  // A still face's crop stays put: shifts under 1 % of its box are not extrapolated.
  std::vector<Box> a, b;
  const std::vector<Point2f> still = moved(face, 280.f, 0.f);
  run_frame(tracker, Scene{{moved(still, 0.6f, 0.f)}}, 1.6, card);
  run_frame(tracker, Scene{{still}}, 1.8, card, &a);
  run_frame(tracker, Scene{{still}}, 2.0, card, &b);
  CHECK(b[0].center().x == Approx(points_to_training_box("ibug68", still).center().x).margin(0.3));
}

TEST_CASE("tracker: steady crops: a jittering face's crop barely moves, a panning face's keeps up", "[tracker]") {
  const ModelCard card = testing::ibug_card("heatmaps");
  TrackOptions options;
  options.detect_every = 1000;
  options.smoothing = false;
  options.refine_iou = 0.f;
  for (const bool steady : {true, false}) {
    options.steady_crops = steady;
    FaceTracker tracker(&card, options);
    const std::vector<Point2f> face = face_points({320.f, 240.f}, 1.2f);
    std::vector<Box> crops;
    int frame = 0;
    for (; frame < 20; ++frame)  // the points jitter by a pixel, frame to frame, at 30 fps
      run_frame(tracker, Scene{{moved(face, frame % 2 ? 0.5f : -0.5f, 0.f)}}, frame / 30.0, card, &crops);
    REQUIRE(crops.size() == 20u);
    double step = 0;
    for (int i = 5; i < 20; ++i) step += std::abs(crops[i].center().x - crops[i - 1].center().x) / 15.0;
    if (steady) CHECK(step < 0.2);
    if (!steady) CHECK(step > 0.9);
    // Then a pan at 180 px/s: within a few frames the crop is on the face again.
    crops.clear();
    std::vector<Point2f> now;
    for (int i = 1; i <= 10; ++i, ++frame) {
      now = moved(face, 6.f * i, 0.f);
      run_frame(tracker, Scene{{now}}, frame / 30.0, card, &crops);
    }
    REQUIRE(tracker.faces().size() == 1u);
    CHECK(std::abs(crops.back().center().x - points_to_training_box("ibug68", now).center().x) < 2.f);
  }
}

TEST_CASE("pose axes: the person's left, up and out of the face on a frontal face", "[tracker]") {
  const ModelCard card = testing::ibug_card("heatmaps");
  FaceTracker tracker(&card);
  run_frame(tracker, Scene{{face_points({320.f, 240.f}, 1.5f)}}, 0.0, card);
  OverlayStyle style;
  style.pose_axes = true;
  const Overlay o = tracker.overlay(style);
  int found = 0;
  for (const OverlayItem& item : o.items) {
    if (item.kind != OverlayItem::Kind::Polyline || item.points.size() != 2) continue;
    const Point2f d{item.points[1].x - item.points[0].x, item.points[1].y - item.points[0].y};
    if (item.color.r == style.axis_x.r && item.color.g == style.axis_x.g) {
      CHECK(d.x > 50.f);
      ++found;
    }
    if (item.color.r == style.axis_y.r && item.color.g == style.axis_y.g) {
      CHECK(d.y < -50.f);
      ++found;
    }
  }
  CHECK(found == 2);
}

TEST_CASE("tracker: a crop whose face came out off it runs again from the points, in the same frame", "[tracker]") {
  // A face that jumps 60 px between two frames (a jerk, frames dropped), seen by a model drawn
  // half way towards its crop's centre: the first crop's points are 30 px short, the second's 15.
  const ModelCard card = testing::ibug_card("heatmaps");
  const std::vector<Point2f> a = face_points({250.f, 240.f}, 1.5f);
  const std::vector<Point2f> jumped = moved(a, 60.f, 0.f);
  for (const bool refine : {true, false}) {
    TrackOptions options;
    options.smoothing = false;
    if (!refine) options.refine_iou = 0.f;
    FaceTracker tracker(&card, options);
    Scene scene{{a}};
    scene.pull = 0.5f;
    std::vector<Box> crops;
    run_frame(tracker, scene, 0.0, card);
    run_frame(tracker, scene, 1 / 30.0, card, &crops);
    CHECK(crops.size() == 1u);  // a face where its crop is: one run
    scene.faces = {jumped};
    crops.clear();
    run_frame(tracker, scene, 2 / 30.0, card, &crops);
    REQUIRE(tracker.faces().size() == 1u);
    const float off = tracker.faces()[0].raw_points[30].x - jumped[30].x;
    INFO("refine " << refine << ": nose " << off << " px off, " << crops.size() << " crops");
    CHECK(crops.size() == (refine ? 2u : 1u));
    CHECK(off == Approx(refine ? -15.f : -30.f).margin(1.0));
  }
  TrackOptions bad;
  bad.refine_iou = 1.5f;
  CHECK_THROWS_AS(FaceTracker(&card, bad), std::invalid_argument);
}

TEST_CASE("tracker: two tracks that come out on one face are one: the newer ends", "[tracker]") {
  // A face that jumps on a detector frame far enough that its track's box overlaps the detection
  // by less than match_iou (a new track starts there), yet near enough that the track's crop, run
  // again from its points, finds the same face: both tracks' points land on it.
  const ModelCard card = testing::ibug_card("heatmaps");
  const std::vector<Point2f> a = face_points({220.f, 240.f}, 1.2f);
  const std::vector<Point2f> jumped = moved(a, 85.f, 0.f);
  for (const bool merge : {true, false}) {
    TrackOptions options;
    options.smoothing = false;
    options.detect_every = 1;
    if (!merge) options.duplicate_iou = 1.f;
    FaceTracker tracker(&card, options);
    Scene scene{{a}};
    run_frame(tracker, scene, 0.0, card);
    REQUIRE(tracker.faces().size() == 1u);
    const Box before = tracker.faces()[0].face.box;
    scene.faces = {jumped};
    std::vector<Box> crops;
    REQUIRE(run_frame(tracker, scene, 1 / 30.0, card, &crops));
    CHECK(crops.size() == 3u);  // the track's crop, the new track's, the track's again from its points
    const Box now = points_to_training_box("ibug68", jumped);
    INFO("merge " << merge << ": the track's box overlaps the face's new box by " << box_iou(before, now));
    CHECK(box_iou(before, now) <= options.match_iou);  // so the detection started a track of its own
    if (merge) {
      REQUIRE(tracker.faces().size() == 1u);
      CHECK(tracker.faces()[0].id == 1);  // the older id stays
      CHECK(mean_distance(tracker.faces()[0].raw_points, jumped) < 1.f);
    } else {
      REQUIRE(tracker.faces().size() == 2u);  // without the rule: two ids on one face
      CHECK(box_iou(tracker.faces()[0].face.box, tracker.faces()[1].face.box) > 0.9f);
    }
  }
  TrackOptions bad;
  bad.duplicate_iou = -0.5f;
  CHECK_THROWS_AS(FaceTracker(&card, bad), std::invalid_argument);
}
