// Augmentation moves pixels and keypoints by the same transform.
#include "train/augment.hpp"
#include "train/batch_stream.hpp"

#include <cmath>
#include <stdexcept>

#include "facekeys/geometry.hpp"
#include "facekeys/image.hpp"

#include "support/catch.hpp"

using namespace facekeys;

namespace {

constexpr int W = 120, H = 90;

// A black image with a small Gaussian dot at each (pixel) point.
torch::Tensor dots_image(const std::vector<Point2f>& pts) {
  auto ys = torch::arange(H, torch::kFloat32).view({H, 1});
  auto xs = torch::arange(W, torch::kFloat32).view({1, W});
  auto img = torch::zeros({H, W});
  for (const auto& p : pts) img += torch::exp(-((xs - p.x).pow(2) + (ys - p.y).pow(2)) / (2 * 1.2 * 1.2));
  return img.clamp(0, 1).view({1, 1, H, W});
}

// Intensity-weighted centroid in a window around a guess.
Point2f centroid_near(const torch::Tensor& img, Point2f guess, int radius = 4) {
  auto a = img.accessor<float, 4>();
  double sx = 0, sy = 0, sw = 0;
  for (int y = static_cast<int>(std::round(guess.y)) - radius; y <= static_cast<int>(std::round(guess.y)) + radius; ++y)
    for (int x = static_cast<int>(std::round(guess.x)) - radius; x <= static_cast<int>(std::round(guess.x)) + radius; ++x) {
      if (x < 0 || y < 0 || x >= W || y >= H) continue;
      double w = a[0][0][y][x];
      w = w > 0.05 ? w : 0;
      sx += w * x, sy += w * y, sw += w;
    }
  return {static_cast<float>(sx / sw), static_cast<float>(sy / sw)};
}

AugmentParams params(double angle, double scale, double tx, double ty, double flip) {
  auto one = [](double v) { return torch::full({1}, v); };
  return {one(angle), one(scale), one(tx), one(ty), one(flip), one(0.0), one(1.0)};
}

}  // namespace

TEST_CASE("augmentation dot test: dots land where the transformed keypoints say", "[augment]") {
  const std::vector<Point2f> pts = {{30.3f, 25.7f}, {85.6f, 30.2f}, {60.0f, 45.0f}, {40.4f, 65.5f}, {80.2f, 62.8f}};
  auto img = dots_image(pts);
  auto kp = torch::zeros({1, static_cast<int64_t>(pts.size()), 2});
  for (std::size_t i = 0; i < pts.size(); ++i) {
    Point2f n = to_normalized(pts[i], W, H);
    kp[0][i][0] = n.x;
    kp[0][i][1] = n.y;
  }
  auto identity_perm = torch::arange(static_cast<int64_t>(pts.size()), torch::kInt64);
  for (auto [angle, scale, tx, ty, flip] : std::vector<std::tuple<double, double, double, double, double>>{
           {0, 1, 0, 0, 0}, {12, 1.05, 5, -3, 0}, {-15, 0.95, -8, 6, 1}, {7, 1.0, 0, 0, 1}}) {
    INFO("angle " << angle << " scale " << scale << " t " << tx << "," << ty << " flip " << flip);
    Batch out = apply_augment({img, kp}, params(angle, scale, tx, ty, flip), identity_perm);
    for (std::size_t i = 0; i < pts.size(); ++i) {
      Point2f expect = from_normalized({out.points[0][i][0].item<float>(), out.points[0][i][1].item<float>()}, W, H);
      Point2f found = centroid_near(out.images, expect);
      INFO("point " << i << " expected " << expect.x << "," << expect.y << " found " << found.x << "," << found.y);
      CHECK(std::hypot(found.x - expect.x, found.y - expect.y) <= 0.5);
    }
  }
}

TEST_CASE("augmentation matches the shared core's warp_affine", "[augment]") {
  torch::manual_seed(3);
  auto img = torch::rand({1, 1, H, W});
  auto p = params(10, 1.1, 4, -2, 1);
  auto M = augment_pixel_matrices(p, W, H)[0];
  const Affine2D A{M[0][0].item<double>(), M[0][1].item<double>(), M[0][2].item<double>(),
                   M[1][0].item<double>(), M[1][1].item<double>(), M[1][2].item<double>()};
  Batch out = apply_augment({img, torch::full({1, 1, 2}, 0.5f)}, p, torch::zeros({1}, torch::kInt64));

  auto c = img.contiguous();
  ImageF32 core = warp_affine(ViewF32(c.data_ptr<float>(), W, H, 1), A, W, H, Border::Replicate);
  auto o = out.images.contiguous();
  // Photometric jitter is identity here except the clamp, which rand() data never hits.
  double worst = 0;
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) worst = std::max(worst, std::fabs(double(core.at(x, y)) - o[0][0][y][x].item<double>()));
  CHECK(worst < 1e-4);
  // And the same matrix moves a point exactly as the batch keypoints do.
  Point2f moved = A.apply(from_normalized({0.5f, 0.5f}, W, H));
  Point2f batch = from_normalized({out.points[0][0][0].item<float>(), out.points[0][0][1].item<float>()}, W, H);
  CHECK(moved.x == Approx(batch.x).margin(1e-3));
  CHECK(moved.y == Approx(batch.y).margin(1e-3));
}

TEST_CASE("a flip relabels keypoints through the permutation", "[augment]") {
  // Two points swapped by the permutation: after a pure flip, the point that
  // was on the left is labelled as the right one and vice versa.
  auto kp = torch::tensor({0.25f, 0.4f, 0.75f, 0.4f}).view({1, 2, 2});
  auto perm = torch::tensor({1, 0}, torch::kInt64);
  Batch out = apply_augment({torch::zeros({1, 1, H, W}), kp}, params(0, 1, 0, 0, 1), perm);
  CHECK(out.points[0][0][0].item<float>() == Approx(0.25f).margin(1e-5));
  CHECK(out.points[0][1][0].item<float>() == Approx(0.75f).margin(1e-5));
  Batch plain = apply_augment({torch::zeros({1, 1, H, W}), kp}, params(0, 1, 0, 0, 0), perm);
  CHECK(plain.points[0][0][0].item<float>() == Approx(0.25f).margin(1e-5));
}

TEST_CASE("an Augmenter with augmentation off gives back its input; one size per Augmenter", "[augment]") {
  // The cached sampling grid must hit the pixel centres exactly: an off-by-half
  // grid would blur every training image.
  AugmentConfig off;
  off.enabled = false;
  const Augmenter augment(off, H, W, torch::tensor({1, 0}, torch::kInt64), torch::kCPU);
  Batch in{torch::rand({3, 1, H, W}), torch::rand({3, 2, 2})};
  Batch out = augment(in);
  CHECK((out.images - in.images).abs().max().item<float>() < 1e-5f);
  CHECK((out.points - in.points).abs().max().item<float>() < 1e-6f);
  CHECK_THROWS_WITH(augment({torch::rand({1, 1, H, W + 2}), torch::rand({1, 2, 2})}),
                    Catch::Matchers::ContainsSubstring("made for 120x90 images was given 122x90"));
}

TEST_CASE("a batch with different parameters per sample equals its samples augmented one by one", "[augment]") {
  // Catches a mix-up of samples in the batched matrices, grid or relabelling,
  // which the single-sample tests above cannot see.
  torch::manual_seed(3);
  const Augmenter augment(AugmentConfig{}, H, W, torch::tensor({2, 1, 0}, torch::kInt64), torch::kCPU);
  Batch in{torch::rand({3, 1, H, W}), torch::rand({3, 3, 2})};
  auto column = [](std::vector<float> v) { return torch::tensor(v); };
  // angle, scale, tx, ty, flip (two of three: relabelled through [2, 1, 0]), brightness, contrast
  AugmentParams p{column({12, -7, 0}), column({1.05f, 0.93f, 1}), column({5, -8, 0}),       column({-3, 6, 2}),
                  column({0, 1, 1}),   column({0.05f, -0.03f, 0}), column({1.1f, 0.9f, 1})};
  Batch all = augment.apply(in, p);
  for (int64_t i = 0; i < 3; ++i) {
    auto one = [i](const torch::Tensor& t) { return t.narrow(0, i, 1); };
    AugmentParams pi{one(p.angle_deg), one(p.scale), one(p.tx_px), one(p.ty_px), one(p.flip), one(p.brightness),
                     one(p.contrast)};
    Batch alone = augment.apply({one(in.images), one(in.points)}, pi);
    INFO("sample " << i);
    CHECK((one(all.images) - alone.images).abs().max().item<float>() < 1e-5f);
    CHECK((one(all.points) - alone.points).abs().max().item<float>() < 1e-6f);
  }
}

TEST_CASE("random parameters stay within the configured ranges", "[augment]") {
  torch::manual_seed(1);
  AugmentConfig cfg;
  auto p = sample_augment_params(4096, 240, cfg, torch::kCPU);
  CHECK(p.angle_deg.abs().max().item<double>() <= cfg.rotate_deg);
  CHECK(p.tx_px.abs().max().item<double>() <= 10.0 + 1e-4);
  CHECK(p.scale.min().item<double>() >= 1 - cfg.scale - 1e-6);
  CHECK(p.flip.mean().item<double>() == Approx(0.5).margin(0.05));
  // Ranges of zero width (--rotate 0 --scale 0 ...) give the identity, not an error.
  AugmentConfig none{true, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
  auto z = sample_augment_params(8, 240, none, torch::kCPU);
  CHECK(z.angle_deg.abs().sum().item<double>() == 0);
  CHECK(z.scale.min().item<double>() == 1.0);
  CHECK(z.flip.sum().item<double>() == 0);
  CHECK(z.contrast.max().item<double>() == 1.0);
  cfg.enabled = false;
  auto q = sample_augment_params(8, 240, cfg, torch::kCPU);
  CHECK(q.flip.sum().item<double>() == 0);
  CHECK(q.angle_deg.abs().sum().item<double>() == 0);
}

TEST_CASE("a batch stream made on a worker gives the batches made in order on the caller", "[augment][stream]") {
  DeviceSplit split;
  split.images = torch::randint(0, 256, {40, 1, H, W}, torch::TensorOptions().dtype(torch::kUInt8));
  split.points = torch::rand({40, 3, 2});
  split.flip_permutation = torch::tensor(std::vector<int64_t>{2, 1, 0});
  ModelSpec spec = model_spec("SimpleModel");
  spec.input_w = W;
  spec.input_h = H;
  const Augmenter aug = augmenter_for(split, spec, AugmentConfig{});
  auto order = torch::randperm(40, torch::kInt64);
  auto rows = [&](int64_t step) { return order.narrow(0, step * 8, 8); };

  // Reference: make_training_batch step by step, after the same seed.
  torch::manual_seed(5);
  std::vector<Batch> expected;
  for (int64_t s = 0; s < 5; ++s) expected.push_back(make_training_batch(split, rows(s), aug));
  for (bool background : {false, true}) {
    torch::manual_seed(5);
    BatchStream stream(split, aug, 5, rows, background);
    for (int64_t s = 0; s < 5; ++s) {
      const Batch b = stream.next();
      CHECK(torch::equal(b.images, expected[s].images));
      CHECK(torch::equal(b.points, expected[s].points));
    }
    CHECK_THROWS_AS(stream.next(), std::logic_error);
  }

  // An error while making a batch reaches next() at that step, after the good ones.
  for (bool background : {false, true}) {
    BatchStream failing(split, aug, 4, [&](int64_t step) {
      if (step == 2) throw std::runtime_error("rows of step 2 are gone");
      return rows(step);
    }, background);
    failing.next();
    failing.next();
    CHECK_THROWS_WITH(failing.next(), "rows of step 2 are gone");
  }
  // Left before its last batch (a NaN loss stops the epoch): it stops its worker and returns.
  {
    BatchStream left(split, aug, 5, rows, true);
    left.next();
  }
}
