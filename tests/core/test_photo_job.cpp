// The photo job (facekeys/photo_job.hpp): the protocol both front ends drive,
// checked step by step against the core functions it is made of. Network
// outputs are made here from known boxes and points (the networks themselves
// are run by the front ends' tests: tests/predict, tests/web).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "support/catch.hpp"

#include "support/test_helpers.hpp"
#include "facekeys/face_detect.hpp"
#include "facekeys/keypoint_pipeline.hpp"
#include "facekeys/photo_job.hpp"

using namespace facekeys;

namespace {

// UltraFace outputs with faces at the given normalised corners (score 0.95) and background elsewhere.
void detector_outputs(PhotoJob& job, const std::vector<std::vector<float>>& corners) {
  const std::size_t n = ultraface_priors().size();
  std::vector<float>& scores = job.output(0);
  std::vector<float>& boxes = job.output(1);
  scores.assign(2 * n, 0.f);
  boxes.assign(4 * n, 0.f);
  for (std::size_t i = 0; i < n; ++i) scores[2 * i] = 1.f;
  for (std::size_t f = 0; f < corners.size(); ++f) {
    const std::size_t i = 100 + 200 * f;
    scores[2 * i] = 0.05f;
    scores[2 * i + 1] = 0.95f - 0.01f * static_cast<float>(f);
    for (int c = 0; c < 4; ++c) boxes[4 * i + c] = corners[f][c];
  }
}

Photo photo(int w, int h, int channels = 3, unsigned seed = 1) {
  std::mt19937 rng(seed);
  Photo p;
  p.pixels = testing::random_u8(w, h, channels, rng);
  p.name = "p.png";
  return p;
}

}  // namespace

TEST_CASE("photo job: detection, then one batch of keypoint crops, gives points in photo pixels", "[photo_job]") {
  const ModelCard card = testing::ibug_card();
  Photo p = photo(320, 240);
  const ImageU8 pixels = p.pixels;
  PhotoJob job(std::move(p));
  job.start(&card);
  const TensorRun* run = job.next();
  REQUIRE(run != nullptr);
  CHECK(run->network == TensorRun::Network::Detector);
  CHECK(run->input_shape == std::vector<std::int64_t>{1, 3, 240, 320});
  CHECK(run->input == ultraface_input(pixels.view()));
  CHECK(run->output_names == std::vector<std::string>{"scores", "boxes"});
  CHECK(job.next() == run);  // asked again before give(): the same run
  detector_outputs(job, {{0.1f, 0.2f, 0.4f, 0.7f}, {0.6f, 0.1f, 0.9f, 0.5f}});
  const std::vector<FaceDetection> want =
      ultraface_detections(job.output(0).data(), job.output(1).data(), ultraface_priors().size(), 320, 240);
  job.give();
  REQUIRE(job.faces().size() == 2u);
  CHECK(job.faces()[0].box.x == want[0].box.x);
  CHECK(job.faces()[1].box.w == want[1].box.w);

  run = job.next();
  REQUIRE(run != nullptr);
  CHECK(run->network == TensorRun::Network::Keypoints);
  CHECK(run->input_name == card.onnx.input_name);
  CHECK(run->input_shape == std::vector<std::int64_t>{2, 1, 128, 128});
  // Face 1's input: its calibrated box's crop, as keypoint_pipeline.hpp makes it.
  const Box face1 = ultraface_to_training_box(job.faces()[1].box);
  const Box crop1 = keypoint_crop_box(card, 320, 240, &face1);
  const std::vector<float> in1 = keypoint_model_input(to_gray(pixels.view()).view(), card, crop1);
  CHECK(std::vector<float>(run->input.begin() + 128 * 128, run->input.end()) == in1);
  REQUIRE(run->output_sizes == std::vector<std::size_t>{2 * 136});
  std::vector<float>& out = job.output(0);
  out.assign(2 * 136, 0.5f);  // every point at the centre of its crop
  out[136] = 0.25f;           // face 1, point 0: a quarter across
  job.give();
  CHECK(job.done());
  CHECK(job.next() == nullptr);
  const Point2f c1 = crop1.center();
  CHECK(job.faces()[1].points[1].x == Approx(c1.x));
  CHECK(job.faces()[1].points[0].x == Approx(crop1.x + 0.25f * crop1.w));
  CHECK(job.crops()[1].x == crop1.x);
  Json j = job.result_json();
  CHECK(j["faces"].size() == 2u);
  CHECK(j["model"].as_string() == card.name);
}

TEST_CASE("photo job: the flip test sends each crop and its mirror image, and averages them", "[photo_job][flip]") {
  ModelCard card = testing::ibug_card();
  card.output.flip_test = true;
  for (const int max_batch : {16, 3}) {
    for (const bool off : {false, true}) {
      INFO("max_batch " << max_batch << (off ? ", flip test off" : ""));
      Photo p = photo(320, 240);
      const ImageU8 pixels = p.pixels;
      PhotoJob job(std::move(p));
      PhotoOptions options;
      options.max_batch = max_batch;
      if (off) options.flip_test = false;
      job.start(&card, options);
      REQUIRE(job.next() != nullptr);
      detector_outputs(job, {{0.1f, 0.2f, 0.4f, 0.7f}, {0.6f, 0.1f, 0.9f, 0.5f}});
      job.give();
      // Two inputs a face, at most max_batch inputs a run (at least one face).
      const std::size_t faces_per_run = off ? 2 : max_batch >= 4 ? 2 : 1, per_face = off ? 1 : 2;
      for (std::size_t first = 0; first < 2; first += faces_per_run) {
        const TensorRun* run = job.next();
        REQUIRE(run != nullptr);
        const std::int64_t inputs = static_cast<std::int64_t>(faces_per_run * per_face);
        CHECK(run->input_shape == std::vector<std::int64_t>{inputs, 1, 128, 128});
        REQUIRE(run->output_sizes == std::vector<std::size_t>{136 * static_cast<std::size_t>(inputs)});
        const Box face = ultraface_to_training_box(job.faces()[first].box);
        const std::vector<float> in =
            keypoint_model_input(to_gray(pixels.view()).view(), card, keypoint_crop_box(card, 320, 240, &face));
        CHECK(std::vector<float>(run->input.begin(), run->input.begin() + 128 * 128) == in);
        if (!off) CHECK(std::vector<float>(run->input.begin() + 128 * 128, run->input.begin() + 2 * 128 * 128) ==
                        mirror_model_input(in, card));
        // Every input's points at (0.5, 0.5), except the mirror images': u = 0.4, so 0.6 mapped back.
        std::vector<float>& out = job.output(0);
        out.assign(run->output_sizes[0], 0.5f);
        if (!off)
          for (std::size_t f = 0; f < faces_per_run; ++f)
            for (std::size_t k = 0; k < 68; ++k) out[(2 * f + 1) * 136 + 2 * k] = 0.4f;
        job.give();
      }
      CHECK(job.done());
      for (std::size_t f = 0; f < 2; ++f) {
        const Box& crop = job.crops()[f];
        CHECK(job.faces()[f].points[7].x == Approx(crop.x + (off ? 0.5f : 0.55f) * crop.w));
      }
    }
  }
}

// What a host's warm-up relies on (wasm/js_api.cpp, fk_warmup_begin): a job with n given faces,
// n up to max_faces_per_keypoint_run, makes one keypoint run of n faces, and a photo of any
// number of faces makes only runs of such sizes.
TEST_CASE("photo job: every keypoint run of a photo has a size a warm-up of 1..max faces met", "[photo_job]") {
  ModelCard card = testing::ibug_card();
  card.output.flip_test = true;
  PhotoOptions options;
  options.max_batch = 8;
  CHECK(max_faces_per_keypoint_run(card, options) == 4u);  // two inputs a face
  PhotoOptions no_flip = options;
  no_flip.flip_test = false;
  CHECK(max_faces_per_keypoint_run(card, no_flip) == 8u);
  PhotoOptions one = options;
  one.max_batch = 1;
  CHECK(max_faces_per_keypoint_run(card, one) == 1u);  // one face a run, even when it takes two inputs
  CHECK(max_faces_per_keypoint_run(testing::imm_card(), options) == 1u);  // whole-image: once a photo

  // The run sizes of a warm-up with 1..4 faces, and of photos with 1..9 faces.
  const auto run_sizes = [&](std::size_t faces) {
    PhotoJob job(photo(160, 120));
    PhotoOptions o = options;
    o.face_boxes.assign(faces, Box{8.f, 8.f, 48.f, 48.f});
    job.start(&card, o);
    std::vector<std::int64_t> sizes;
    while (const TensorRun* run = job.next()) {
      sizes.push_back(run->input_shape[0]);
      job.output(0).assign(run->output_sizes[0], 0.5f);
      job.give();
    }
    CHECK(job.done());
    return sizes;
  };
  std::vector<std::int64_t> warmed;
  for (std::size_t n = 1; n <= max_faces_per_keypoint_run(card, options); ++n) {
    const std::vector<std::int64_t> sizes = run_sizes(n);
    REQUIRE(sizes == std::vector<std::int64_t>{static_cast<std::int64_t>(2 * n)});
    warmed.push_back(sizes[0]);
  }
  CHECK(run_sizes(6) == std::vector<std::int64_t>{8, 4});
  for (std::size_t faces = 1; faces <= 9; ++faces)
    for (const std::int64_t size : run_sizes(faces)) {
      INFO(faces << " faces: a run of " << size << " inputs");
      CHECK(std::find(warmed.begin(), warmed.end(), size) != warmed.end());
    }
}

TEST_CASE("photo job: a reduced-scale decode reports in the photo's own pixels", "[photo_job]") {
  const ModelCard card = testing::ibug_card();
  // The same picture at full size and at half scale: boxes and points agree within a pixel of the full photo.
  Photo full = photo(640, 480);
  Photo half;
  half.pixels = resize(full.pixels.view(), 320, 240);
  half.stored_width = 640;
  half.stored_height = 480;
  half.name = "p.png";
  PhotoJob a(std::move(full)), b(std::move(half));
  CHECK(b.width() == 640);
  CHECK(b.pixels().width() == 320);
  for (PhotoJob* job : {&a, &b}) {
    job->start(&card);
    job->next();
    detector_outputs(*job, {{0.1f, 0.1f, 0.6f, 0.9f}});  // a face big enough for the half-scale decode
    job->give();
    job->next();
    job->output(0).assign(136, 0.5f);
    job->give();
  }
  REQUIRE(a.faces().size() == 1u);
  REQUIRE(b.faces().size() == 1u);
  CHECK(b.faces()[0].box.x == Approx(a.faces()[0].box.x).margin(0.01));
  CHECK(b.faces()[0].box.w == Approx(a.faces()[0].box.w).margin(0.01));
  CHECK(b.faces()[0].points[7].x == Approx(a.faces()[0].points[7].x).margin(0.01));
  CHECK(b.faces()[0].points[7].y == Approx(a.faces()[0].points[7].y).margin(0.01));
}

TEST_CASE("photo job: orientation, a box drawn by hand, another model on the same faces, batches", "[photo_job]") {
  const ModelCard card = testing::ibug_card();
  Photo p = photo(64, 48);
  p.quarter_turns_cw = 1;
  PhotoJob job(std::move(p));
  CHECK(job.width() == 48);
  CHECK(job.height() == 64);

  // A box drawn by hand: no detection, taken as the face box, score 1.
  PhotoOptions manual;
  manual.manual_face = Box{4.f, 10.f, 30.f, 30.f};
  job.start(&card, manual);
  const TensorRun* run = job.next();
  REQUIRE(run != nullptr);
  CHECK(run->network == TensorRun::Network::Keypoints);
  job.output(0).assign(136, 0.5f);
  job.give();
  REQUIRE(job.faces().size() == 1u);
  CHECK(job.faces()[0].manual);
  CHECK(job.faces()[0].score == 1.f);
  CHECK(job.crops()[0].center().x == Approx(19.f));

  // Detection with five faces, max_batch 2: runs of 2, 2 and 1 faces.
  PhotoOptions opt;
  opt.max_batch = 2;
  job.start(&card, opt);
  job.next();
  detector_outputs(job, {{0.0f, 0.0f, 0.3f, 0.2f}, {0.5f, 0.0f, 0.8f, 0.2f}, {0.0f, 0.5f, 0.3f, 0.7f},
                         {0.5f, 0.5f, 0.8f, 0.7f}, {0.3f, 0.8f, 0.6f, 1.0f}});
  job.give();
  REQUIRE(job.faces().size() == 5u);
  std::vector<std::int64_t> batches;
  while (const TensorRun* r = job.next()) {
    batches.push_back(r->input_shape[0]);
    job.output(0).assign(136 * static_cast<std::size_t>(r->input_shape[0]), 0.5f);
    job.give();
  }
  CHECK(batches == std::vector<std::int64_t>{2, 2, 1});
  for (const PredictedFace& f : job.faces()) CHECK(f.points.size() == 68u);

  // Another model on the same faces: no detection run.
  const ModelCard whole = testing::imm_card();
  PhotoOptions keep;
  keep.redetect = false;
  job.start(&whole, keep);
  run = job.next();
  REQUIRE(run != nullptr);
  CHECK(run->network == TensorRun::Network::Keypoints);
  CHECK(run->input_shape[0] == 1);  // a whole-image model runs once, for the best face
  job.output(0).assign(116, 0.5f);
  job.give();
  CHECK(job.done());
  CHECK(job.faces()[0].points.size() == 58u);
  for (std::size_t i = 1; i < job.faces().size(); ++i) CHECK(job.faces()[i].points.empty());

  // Detection only: no card, no keypoint run.
  job.start(nullptr);
  job.next();
  detector_outputs(job, {});
  job.give();
  CHECK(job.done());
  CHECK(job.faces().empty());
}

TEST_CASE("photo job: outputs of the wrong size and misuse are clear errors", "[photo_job]") {
  const ModelCard card = testing::ibug_card("heatmaps");
  PhotoJob job(photo(32, 32));
  PhotoOptions opt;
  opt.manual_face = Box{2.f, 2.f, 20.f, 20.f};
  opt.heatmap_views = true;
  job.start(&card, opt);
  CHECK_THROWS_AS(PhotoJob(photo(32, 32)).give(), std::logic_error);
  job.next();
  job.output(0).assign(10, 0.f);
  CHECK_THROWS_WITH(job.give(), Catch::Matchers::ContainsSubstring("keypoint model: output 'points' has 10 values, expected 278528"));
  job.next();
  job.output(0).assign(68 * 64 * 64, 0.f);
  job.output(0)[5 * 64 + 7] = 20.f;  // map 0 peaks at (7, 5)
  job.give();
  const Overlay shown = [&] {
    OverlayStyle s;
    s.heatmaps = true;
    return job.overlay(s);
  }();
  bool has_heatmap = false;
  for (const OverlayItem& it : shown.items)
    if (it.kind == OverlayItem::Kind::Image) {
      has_heatmap = true;
      CHECK(it.image.width() == 64);
      CHECK(it.area.x == job.crops()[0].x);
    }
  CHECK(has_heatmap);
  Photo bad = photo(64, 48);
  bad.stored_width = 32;  // fewer pixels than decoded
  bad.stored_height = 24;
  CHECK_THROWS_AS(PhotoJob(std::move(bad)), std::invalid_argument);
  PhotoOptions zero;
  zero.manual_face = Box{0.f, 0.f, 0.f, 10.f};
  CHECK_THROWS_AS(job.start(&card, zero), std::invalid_argument);
}

TEST_CASE("photo job: a coarse decode with a small face asks once for more pixels, then goes on", "[photo_job]") {
  const ModelCard card = testing::ibug_card();
  Photo full = photo(1600, 1200, 3, 7);
  Photo eighth;
  eighth.pixels = resize(full.pixels.view(), 200, 150);  // the photo at 1/8 scale
  eighth.stored_width = 1600;
  eighth.stored_height = 1200;
  PhotoJob job(std::move(eighth));
  job.start(&card);
  job.next();
  detector_outputs(job, {{0.45f, 0.45f, 0.55f, 0.55f}});  // a face of 160x120 photo pixels
  job.give();
  CHECK(job.next() == nullptr);
  CHECK_FALSE(job.done());
  const Box face = ultraface_to_training_box(job.faces()[0].box);
  const long long want = keypoint_crop_work_pixels(card, keypoint_crop_box(card, 1600, 1200, &face), 1600, 1200);
  CHECK(job.pixels_wanted() == want);
  CHECK(want > 200LL * 150);
  // A decode of the wrong photo is refused and changes nothing.
  CHECK_THROWS_AS(job.replace_pixels(photo(300, 300)), std::invalid_argument);
  CHECK(job.pixels_wanted() == want);
  // The full photo: the run goes on with the face found, at full resolution.
  Photo again;
  again.pixels = full.pixels;
  job.replace_pixels(std::move(again));
  CHECK(job.pixels().width() == 1600);
  const TensorRun* run = job.next();
  REQUIRE(run != nullptr);
  CHECK(run->network == TensorRun::Network::Keypoints);
  const Box crop = keypoint_crop_box(card, 1600, 1200, &face);
  CHECK(run->input == keypoint_model_input(to_gray(full.pixels.view()).view(), card, crop));
  job.output(0).assign(136, 0.5f);
  job.give();
  CHECK(job.done());
  CHECK(job.pixels_wanted() == 0);
  // A big face in the same coarse decode asks for nothing.
  Photo coarse;
  coarse.pixels = resize(full.pixels.view(), 200, 150);
  coarse.stored_width = 1600;
  coarse.stored_height = 1200;
  PhotoJob big(std::move(coarse));
  big.start(&card);
  big.next();
  detector_outputs(big, {{0.1f, 0.1f, 0.9f, 0.9f}});
  big.give();
  CHECK(big.pixels_wanted() == 0);
  CHECK(big.next() != nullptr);
}
