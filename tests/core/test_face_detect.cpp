// UltraFace pre/post-processing in the shared core (facekeys/face_detect.hpp).
#include <cmath>
#include <cstdint>
#include <vector>

#include "support/catch.hpp"

#include "facekeys/face_detect.hpp"

using namespace facekeys;

TEST_CASE("face_detect: 4420 priors in the model's order", "[face_detect]") {
  const auto priors = ultraface_priors();
  REQUIRE(priors.size() == 4420u);  // 40*30*3 + 20*15*2 + 10*8*2 + 5*4*3
  // First map (stride 8, 40x30), first cell, sizes 10, 16, 24.
  CHECK(priors[0].cx == Approx(0.5f / 40));
  CHECK(priors[0].cy == Approx(0.5f / 30));
  CHECK(priors[0].w == Approx(10.f / 320));
  CHECK(priors[0].h == Approx(10.f / 240));
  CHECK(priors[2].w == Approx(24.f / 320));
  // Second cell of the first row: x advances first.
  CHECK(priors[3].cx == Approx(1.5f / 40));
  CHECK(priors[3].cy == Approx(0.5f / 30));
  // Start of the second map (stride 16, 20x15, sizes 32, 48).
  const std::size_t m2 = 40 * 30 * 3;
  CHECK(priors[m2].cx == Approx(0.5f / 20));
  CHECK(priors[m2].w == Approx(32.f / 320));
  // Last prior: stride 64 map is 5x4 (240/64 rounds up), size 256 clamped to 1 in height.
  CHECK(priors.back().cx == Approx(4.5f / 5));
  CHECK(priors.back().cy == Approx(3.5f / 4));
  CHECK(priors.back().w == Approx(256.f / 320));
  CHECK(priors.back().h == Approx(1.f));
}

TEST_CASE("face_detect: input tensor is planar RGB, (p - 127) / 128, resized to 320x240", "[face_detect]") {
  ImageU8 img(640, 480, 3);
  for (int y = 0; y < 480; ++y)
    for (int x = 0; x < 640; ++x) {
      img.at(x, y, 0) = 255;
      img.at(x, y, 1) = 127;
      img.at(x, y, 2) = x < 320 ? 0 : 200;
    }
  const auto in = ultraface_input(img.view());
  REQUIRE(in.size() == 3u * 320 * 240);
  const std::size_t plane = 320 * 240;
  CHECK(in[0] == Approx(128.f / 128));
  CHECK(in[plane] == Approx(0.f));
  CHECK(in[2 * plane] == Approx(-127.f / 128));
  CHECK(in[2 * plane + 319] == Approx((200.f - 127) / 128));
  // Gray input replicates into the three planes.
  ImageU8 gray(32, 24, 1, 200);
  const auto g = ultraface_input(gray.view());
  CHECK(g[0] == Approx(73.f / 128));
  CHECK(g[plane] == Approx(73.f / 128));
  CHECK(g[2 * plane + 5] == Approx(73.f / 128));
  CHECK_THROWS_AS(ultraface_input(ViewU8()), std::invalid_argument);
}

TEST_CASE("face_detect: raw regressions decode with the centre/size variances", "[face_detect]") {
  const std::vector<Prior> priors = {{0.5f, 0.5f, 0.2f, 0.4f}, {0.25f, 0.75f, 0.1f, 0.1f}};
  std::vector<float> raw = {0.f, 0.f, 0.f, 0.f, 1.f, -2.f, std::log(2.f) / 0.2f, 0.f};
  const auto c = decode_ultraface_regressions(raw, priors);
  REQUIRE(c.size() == 8u);
  CHECK(c[0] == Approx(0.4f));
  CHECK(c[1] == Approx(0.3f));
  CHECK(c[2] == Approx(0.6f));
  CHECK(c[3] == Approx(0.7f));
  // centre (0.25 + 1*0.1*0.1, 0.75 - 2*0.1*0.1) = (0.26, 0.73), size (0.2, 0.1)
  CHECK(c[4] == Approx(0.16f));
  CHECK(c[5] == Approx(0.68f));
  CHECK(c[6] == Approx(0.36f));
  CHECK(c[7] == Approx(0.78f));
  raw.pop_back();
  CHECK_THROWS_AS(decode_ultraface_regressions(raw, priors), std::invalid_argument);
}

TEST_CASE("face_detect: IoU and hard NMS", "[face_detect]") {
  const Box a{0, 0, 10, 10}, b{5, 0, 10, 10}, c{100, 100, 10, 10};
  CHECK(box_iou(a, a) == Approx(1.f));
  CHECK(box_iou(a, b) == Approx(50.f / 150.f));
  CHECK(box_iou(a, c) == 0.f);
  CHECK(box_iou(a, Box{0, 0, 0, 5}) == 0.f);

  std::vector<FaceDetection> d = {{a, 0.8f}, {b, 0.9f}, {c, 0.75f}, {Box{0.5f, 0.5f, 10, 10}, 0.85f}};
  // IoU(a,b) = 0.33 > 0.3: a is suppressed by b; the shifted copy of a overlaps b by ~0.3 too.
  auto kept = non_max_suppression(d, 0.3f, 100);
  REQUIRE(kept.size() == 2u);
  CHECK(kept[0].score == 0.9f);
  CHECK(kept[1].score == 0.75f);
  // A looser threshold keeps a and b, but not a's near-duplicate.
  kept = non_max_suppression(d, 0.5f, 100);
  REQUIRE(kept.size() == 3u);
  CHECK(kept[0].score == 0.9f);
  CHECK(kept[1].score == 0.85f);
  CHECK(kept[2].score == 0.75f);
  // The cap.
  CHECK(non_max_suppression(d, 0.5f, 1).size() == 1u);
}

TEST_CASE("face_detect: synthetic output -> faces in original pixels, best first", "[face_detect]") {
  const std::size_t n = 6;
  std::vector<float> scores(2 * n), boxes(4 * n);
  auto set = [&](std::size_t i, float s, float x1, float y1, float x2, float y2) {
    scores[2 * i] = 1 - s;
    scores[2 * i + 1] = s;
    boxes[4 * i] = x1;
    boxes[4 * i + 1] = y1;
    boxes[4 * i + 2] = x2;
    boxes[4 * i + 3] = y2;
  };
  set(0, 0.95f, 0.25f, 0.25f, 0.5f, 0.75f);    // face A
  set(1, 0.90f, 0.26f, 0.25f, 0.51f, 0.75f);   // duplicate of A: suppressed
  set(2, 0.99f, 0.6f, 0.1f, 0.8f, 0.4f);       // face B, best
  set(3, 0.5f, 0.0f, 0.0f, 0.1f, 0.1f);        // below threshold
  set(4, NAN, 0.0f, 0.0f, 0.1f, 0.1f);         // non-finite: skipped
  set(5, 0.8f, 0.9f, -0.2f, 1.3f, 0.1f);       // face C, partly outside: clipped
  const auto f = ultraface_detections(scores.data(), boxes.data(), n, 640, 480);
  REQUIRE(f.size() == 3u);
  CHECK(f[0].score == Approx(0.99f));
  CHECK(f[0].box.x == Approx(0.6f * 640 - 0.5f));
  CHECK(f[0].box.y == Approx(0.1f * 480 - 0.5f));
  CHECK(f[0].box.w == Approx(0.2f * 640));
  CHECK(f[0].box.h == Approx(0.3f * 480));
  CHECK(f[1].score == Approx(0.95f));
  CHECK(f[1].box.w == Approx(160.f));
  CHECK(f[2].box.y == Approx(-0.5f));
  CHECK(f[2].box.x + f[2].box.w == Approx(639.5f));
  DetectOptions o;
  o.max_faces = 2;
  CHECK(ultraface_detections(scores.data(), boxes.data(), n, 640, 480, o).size() == 2u);
  o = DetectOptions{};
  o.score_threshold = 0.999f;
  CHECK(ultraface_detections(scores.data(), boxes.data(), n, 640, 480, o).empty());
  CHECK_THROWS_AS(ultraface_detections(scores.data(), boxes.data(), n, 0, 480), std::invalid_argument);
}

TEST_CASE("face_detect: decoded priors with zero regression are the priors", "[face_detect]") {
  const auto priors = ultraface_priors();
  const std::vector<float> raw(priors.size() * 4, 0.f);
  const auto c = decode_ultraface_regressions(raw, priors);
  for (std::size_t i = 0; i < priors.size(); i += 97) {
    CHECK(0.5f * (c[4 * i] + c[4 * i + 2]) == Approx(priors[i].cx));
    CHECK(c[4 * i + 3] - c[4 * i + 1] == Approx(priors[i].h));
  }
}

TEST_CASE("face_detect: UltraFace boxes calibrated to the training (DAN) boxes", "[face_detect]") {
  const Box uf{100.f, 50.f, 98.4f, 134.2f};  // a typical UltraFace box of a 100x100 DAN face
  const Box t = ultraface_to_training_box(uf);
  CHECK(t.w == Approx(100.f).epsilon(1e-4));
  CHECK(t.h == Approx(100.f).epsilon(1e-4));
  CHECK(t.center().x == Approx(uf.center().x - 0.6f).epsilon(1e-4));
  CHECK(t.center().y == Approx(uf.center().y + 17.6f).epsilon(1e-4));
  const Box same = calibrate_box(uf, BoxCalibration{});
  CHECK(same.x == Approx(uf.x));
  CHECK(same.h == Approx(uf.h));
}
