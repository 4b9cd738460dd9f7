// Model-card-driven crops, inputs and output decoding (facekeys/keypoint_pipeline.hpp).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "support/catch.hpp"

#include "support/test_helpers.hpp"
#include "facekeys/heatmap.hpp"
#include "facekeys/keypoint_pipeline.hpp"
#include "facekeys/schema.hpp"

using namespace facekeys;

using testing::ibug_card;

TEST_CASE("keypoint_pipeline: whole-image cards see the whole image", "[keypoint_pipeline]") {
  const ModelCard card = testing::imm_card();
  const Box b = keypoint_crop_box(card, 640, 480, nullptr);
  CHECK(b.x == -0.5f);
  CHECK(b.y == -0.5f);
  CHECK(b.w == 640.f);
  CHECK(b.h == 480.f);
  // The input is the gray image resized, normalised with the card's mean/std.
  ImageU8 rgb(640, 480, 3);
  for (int y = 0; y < 480; ++y)
    for (int x = 0; x < 640; ++x)
      for (int c = 0; c < 3; ++c) rgb.at(x, y, c) = static_cast<std::uint8_t>((x + 2 * y + c) % 256);
  const auto in = keypoint_model_input(rgb.view(), card, b);
  REQUIRE(in.size() == 240u * 180u);
  const ImageU8 ref = resize(to_gray(rgb.view()).view(), 240, 180);
  for (std::size_t i = 0; i < in.size(); i += 101) CHECK(in[i] == Approx((ref.data()[i] / 255.f - 0.5f) / 0.5f));
  // Coords output: (u, v) of the input frame = normalised coordinates of the whole image.
  std::vector<float> out(116);
  for (int k = 0; k < 58; ++k) {
    out[2 * k] = (k + 0.5f) / 58.f;
    out[2 * k + 1] = 0.25f;
  }
  const auto pts = keypoint_output_to_image(card, out.data(), out.size(), b);
  REQUIRE(pts.size() == 58u);
  for (int k = 0; k < 58; ++k) {
    const Point2f e = from_normalized(Point2f{out[2 * k], out[2 * k + 1]}, 640, 480);
    CHECK(pts[k].x == Approx(e.x).margin(1e-3));
    CHECK(pts[k].y == Approx(e.y).margin(1e-3));
  }
  CHECK_THROWS_AS(keypoint_output_to_image(card, out.data(), 115, b), std::invalid_argument);
  CHECK_THROWS_AS(keypoint_crop_box(card, 0, 480, nullptr), std::invalid_argument);
}

TEST_CASE("keypoint_pipeline: face-box crop and back-mapping round trip", "[keypoint_pipeline]") {
  const ModelCard card = ibug_card();
  CHECK_THROWS_AS(keypoint_crop_box(card, 800, 600, nullptr), std::invalid_argument);
  const Box face{300.f, 200.f, 150.f, 180.f};
  const Box crop = keypoint_crop_box(card, 800, 600, &face);
  const Box want = crop_box_from_box(face, CropPolicy{1.3f, true, 0.1f});
  CHECK(crop.x == Approx(want.x));
  CHECK(crop.y == Approx(want.y));
  CHECK(crop.w == Approx(want.w));
  CHECK(crop.h == Approx(want.h));
  // Points -> normalised crop coords (a perfect model's output) -> back to the image.
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> ux(300.f, 450.f), uy(200.f, 380.f);
  std::vector<Point2f> truth(68);
  for (auto& p : truth) p = Point2f{ux(rng), uy(rng)};
  const auto uv = image_to_crop_normalized(truth, crop);
  std::vector<float> out;
  for (const auto& p : uv) {
    out.push_back(p.x);
    out.push_back(p.y);
  }
  const auto back = keypoint_output_to_image(card, out.data(), out.size(), crop);
  for (std::size_t k = 0; k < truth.size(); ++k) {
    CHECK(back[k].x == Approx(truth[k].x).margin(1e-3));
    CHECK(back[k].y == Approx(truth[k].y).margin(1e-3));
  }
}

TEST_CASE("keypoint_pipeline: a bright dot lands where the back-mapping says", "[keypoint_pipeline]") {
  // Draw a dot in a big image; the crop pixels must have it at image_to_crop(dot).
  ModelCard card = ibug_card();
  ImageU8 img(1000, 800, 1, 0);
  const Point2f dot{612.f, 401.f};
  for (int y = -3; y <= 3; ++y)
    for (int x = -3; x <= 3; ++x) img.at(static_cast<int>(dot.x) + x, static_cast<int>(dot.y) + y) = 255;
  const Box face{500.f, 300.f, 240.f, 240.f};  // crop ~312 px -> 128: the shrink-first path
  const Box crop = keypoint_crop_box(card, 1000, 800, &face);
  const ImageU8 c = keypoint_crop_pixels(img.view(), card, crop);
  REQUIRE(c.width() == 128);
  double sx = 0, sy = 0, sw = 0;
  for (int y = 0; y < 128; ++y)
    for (int x = 0; x < 128; ++x) {
      sx += x * c.at(x, y);
      sy += y * c.at(x, y);
      sw += c.at(x, y);
    }
  REQUIRE(sw > 0);
  const Point2f want = image_to_crop({dot}, crop, 128, 128)[0];
  CHECK(sx / sw == Approx(want.x).margin(0.15));
  CHECK(sy / sw == Approx(want.y).margin(0.15));
  // Crops reaching outside the image are padded with 0, never throw.
  const Box edge{-50.f, -50.f, 100.f, 100.f};
  CHECK(keypoint_crop_pixels(img.view(), card, keypoint_crop_box(card, 1000, 800, &edge)).at(0, 0) == 0);
}

TEST_CASE("keypoint_pipeline: heatmap outputs decode through the core's decoder", "[keypoint_pipeline]") {
  const ModelCard card = ibug_card("heatmaps");
  REQUIRE(keypoint_output_size(card) == 68u * 64u * 64u);
  // Log-Gaussian logits (what a well-trained heatmap net outputs) peaked at known points.
  std::vector<float> pts_hm;
  for (int k = 0; k < 68; ++k) {
    pts_hm.push_back(5.3f + 0.77f * k);
    pts_hm.push_back(60.1f - 0.71f * k);
  }
  auto maps = gaussian_heatmaps(pts_hm, 68, 64, 64, 2.f);
  for (auto& v : maps) v = std::log(std::max(v, 1e-30f));  // logits: softmax gives back the Gaussian
  const auto uv = keypoint_output_to_normalized(card, maps.data(), maps.size());
  REQUIRE(uv.size() == 136u);
  for (int k = 0; k < 68; ++k) {
    CHECK(uv[2 * k] == Approx((pts_hm[2 * k] + 0.5f) / 64.f).margin(0.02 / 64));
    CHECK(uv[2 * k + 1] == Approx((pts_hm[2 * k + 1] + 0.5f) / 64.f).margin(0.02 / 64));
  }
  // And to image pixels: heatmap cell centre -> input pixel -> image pixel.
  const Box face{100.f, 100.f, 200.f, 200.f};
  const Box crop = keypoint_crop_box(card, 640, 480, &face);
  const auto img_pts = keypoint_output_to_image(card, maps.data(), maps.size(), crop);
  const auto in_pts = heatmap_points_to_input(pts_hm, 64, 64, 128, 128);
  const auto want = crop_to_image({Point2f{in_pts[0], in_pts[1]}}, crop, 128, 128)[0];
  CHECK(img_pts[0].x == Approx(want.x).margin(0.05));
  CHECK(img_pts[0].y == Approx(want.y).margin(0.05));
  // A map with no finite value decodes to NaN, not a crash.
  std::fill(maps.begin(), maps.begin() + 64 * 64, NAN);
  const auto bad = keypoint_output_to_normalized(card, maps.data(), maps.size());
  CHECK(std::isnan(bad[0]));
  CHECK_FALSE(std::isnan(bad[2]));
}

TEST_CASE("keypoint_pipeline: input tensor checks the crop size", "[keypoint_pipeline]") {
  const ModelCard card = testing::imm_card();
  ImageU8 wrong(100, 100, 1, 128);
  CHECK_THROWS_AS(keypoint_input_from_crop(wrong.view(), card), std::invalid_argument);
  ImageU8 ok(240, 180, 1, 255);
  const auto in = keypoint_input_from_crop(ok.view(), card);
  CHECK(in.front() == Approx(1.f));
}

TEST_CASE("keypoint_pipeline: pixels a photo must keep for detection and each kind of model", "[keypoint_pipeline]") {
  CHECK(keypoint_min_work_pixels(nullptr) == 4LL * 320 * 240);       // detection alone
  const ModelCard imm = testing::imm_card();                           // whole image, 240x180 input
  CHECK(keypoint_min_work_pixels(&imm) == 4LL * 320 * 240);
  ModelCard big = imm;
  big.input.width = 640;
  big.input.height = 480;
  CHECK(keypoint_min_work_pixels(&big) == 4LL * 640 * 480);
  const ModelCard ibug = ibug_card();                                  // face box: what detection needs first
  CHECK(keypoint_min_work_pixels(&ibug) == 4LL * 320 * 240);
  // ... then what its crops need: a 512-pixel crop of a 4000x3000 photo for a 128-pixel input
  // needs a quarter of each side: 1000x750.
  CHECK(keypoint_crop_work_pixels(ibug, Box{100.f, 100.f, 512.f, 512.f}, 4000, 3000) == 1000LL * 750);
  CHECK(keypoint_crop_work_pixels(ibug, Box{100.f, 100.f, 64.f, 64.f}, 4000, 3000) == 4000LL * 3000);  // all of it
  CHECK(keypoint_crop_work_pixels(ibug, Box{0.f, 0.f, 0.f, 0.f}, 400, 300) == 400LL * 300);
}

TEST_CASE("keypoint_pipeline: the flip test maps the mirrored run back and averages it in", "[keypoint_pipeline][flip]") {
  const LandmarkSchema& schema = schema_by_name("ibug68");
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> U(-3.f, 3.f);

  SECTION("the mirrored input reverses every row") {
    ModelCard card = ibug_card();
    card.input.width = 4;
    card.input.height = 2;
    const std::vector<float> in{1, 2, 3, 4, 5, 6, 7, 8};
    CHECK(mirror_model_input(in, card) == std::vector<float>{4, 3, 2, 1, 8, 7, 6, 5});
    CHECK_THROWS_AS(mirror_model_input({1, 2, 3}, card), std::invalid_argument);
  }

  SECTION("heatmaps: a mirrored run that is the mirror image of the first changes nothing") {
    ModelCard card = ibug_card("heatmaps");
    card.output.width = 5;
    card.output.height = 3;
    const std::size_t hw = 15, n = keypoint_output_size(card);
    std::vector<float> out(n), mirrored(n);
    for (float& v : out) v = U(rng);
    // The mirror image's map flip[j] is map j mirrored along x.
    for (std::size_t j = 0; j < 68; ++j)
      for (std::size_t y = 0; y < 3; ++y)
        for (std::size_t x = 0; x < 5; ++x)
          mirrored[static_cast<std::size_t>(schema.flip_permutation[j]) * hw + y * 5 + (4 - x)] = out[j * hw + y * 5 + x];
    std::vector<float> averaged = out;
    average_mirrored_output(card, averaged.data(), mirrored.data(), n);
    for (std::size_t i = 0; i < n; ++i) CHECK(averaged[i] == Approx(out[i]));
    // One hot cell of the mirrored run: point 36 (right eye corner) at (1, 2) becomes point 45 at (3, 2), halved.
    std::vector<float> zero(n, 0.f), hot(n, 0.f);
    hot[36 * hw + 2 * 5 + 1] = 2.f;
    average_mirrored_output(card, zero.data(), hot.data(), n);
    REQUIRE(schema.flip_permutation[45] == 36);
    CHECK(zero[45 * hw + 2 * 5 + 3] == 1.f);
    CHECK(std::count(zero.begin(), zero.end(), 0.f) == static_cast<std::ptrdiff_t>(n - 1));
  }

  SECTION("coordinates: (1 - u, v), relabelled; the decoded points are the pair's mean") {
    const ModelCard card = ibug_card();
    const std::size_t n = keypoint_output_size(card);
    std::vector<float> out(n), mirrored(n);
    std::uniform_real_distribution<float> uv(0.f, 1.f);
    for (float& v : out) v = uv(rng);
    for (std::size_t j = 0; j < 68; ++j) {
      const std::size_t i = static_cast<std::size_t>(schema.flip_permutation[j]);
      mirrored[2 * i] = 1.f - out[2 * j] + 0.02f;  // the mirrored run 0.02 to the right: 0.01 to the left after
      mirrored[2 * i + 1] = out[2 * j + 1];
    }
    std::vector<float> averaged = out;
    average_mirrored_output(card, averaged.data(), mirrored.data(), n);
    for (std::size_t j = 0; j < 68; ++j) {
      CHECK(averaged[2 * j] == Approx(out[2 * j] - 0.01f).margin(1e-6));
      CHECK(averaged[2 * j + 1] == Approx(out[2 * j + 1]));
    }
    CHECK_THROWS_AS(average_mirrored_output(card, averaged.data(), mirrored.data(), n - 1), std::invalid_argument);
  }

  SECTION("the card asks for it; a graph that does it already is not asked twice") {
    ModelCard card = ibug_card("heatmaps");
    CHECK_FALSE(card_wants_flip_test(card));
    card.output.flip_test = true;
    CHECK(card_wants_flip_test(card));
    CHECK_FALSE(card_wants_flip_test(card, false));
    card.output.flip_test = false;
    CHECK(card_wants_flip_test(card, true));
    card.onnx.flip_test = true;
    CHECK_FALSE(card_wants_flip_test(card));
    CHECK_FALSE(card_wants_flip_test(card, true));
  }

  SECTION("a batch: each input and its mirror image after it; image j's output with its mirror's averaged in") {
    ModelCard card = ibug_card();
    card.input.width = 2;
    card.input.height = 1;
    std::vector<float> batch;
    append_keypoint_input(batch, {1, 2}, card, true);
    append_keypoint_input(batch, {3, 4}, card, true);
    CHECK(batch == std::vector<float>{1, 2, 2, 1, 3, 4, 4, 3});
    append_keypoint_input(batch, {5, 6}, card, false);
    CHECK(batch.size() == 10u);
    const std::size_t n = keypoint_output_size(card);
    std::vector<float> outputs(4 * n, 0.25f);  // two images, each with its mirror: u 0.25 both, so 0.5 averaged
    const float* second = keypoint_batch_output(outputs, 1, card, true);
    CHECK(second == outputs.data() + 2 * n);
    CHECK(second[0] == Approx(0.5f));
    CHECK(second[1] == Approx(0.25f));
    CHECK(outputs[0] == 0.25f);  // image 0 untouched
    CHECK(keypoint_batch_output(outputs, 3, card, false) == outputs.data() + 3 * n);
    CHECK_THROWS_AS(keypoint_batch_output(outputs, 2, card, true), std::invalid_argument);
  }
}
