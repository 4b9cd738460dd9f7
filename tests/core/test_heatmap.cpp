// Heatmap targets and decoders: round trips at random sub-pixel positions, the
// K x H x W layout, Sum normalisation, and the heatmap <-> input mapping.
#include "facekeys/heatmap.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "support/catch.hpp"

using facekeys::decode_argmax_refined;
using facekeys::decode_soft_argmax;
using facekeys::gaussian_heatmaps;
using facekeys::HeatmapNorm;

namespace {

double sum_of(const float* m, std::size_t n) {
  double s = 0;
  for (std::size_t i = 0; i < n; ++i) s += m[i];
  return s;
}

// Largest per-point Euclidean error between two interleaved point arrays.
double worst_error(const std::vector<float>& a, const std::vector<float>& b) {
  double w = 0;
  for (std::size_t i = 0; i < a.size(); i += 2) {
    w = std::max(w, std::hypot(static_cast<double>(a[i]) - b[i], static_cast<double>(a[i + 1]) - b[i + 1]));
  }
  return w;
}

}  // namespace

TEST_CASE("argmax-refined decoding round-trips Gaussians to < 0.05 px", "[heatmap]") {
  // A fixed seed: reproducible, and the same sequence natively and under wasm.
  std::mt19937 rng(20261101);
  std::uniform_real_distribution<float> pos(1.0f, 62.0f), sig(1.5f, 3.0f);
  const std::size_t K = 8;
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<float> pts(2 * K);
    for (float& v : pts) v = pos(rng);
    const float sigma = sig(rng);
    for (HeatmapNorm norm : {HeatmapNorm::Peak, HeatmapNorm::Sum}) {
      const std::vector<float> maps = gaussian_heatmaps(pts, K, 64, 64, sigma, norm);
      const facekeys::DecodedPoints d = decode_argmax_refined(maps, K, 64, 64);
      INFO("trial " << trial << " sigma " << sigma);
      CHECK(worst_error(d.points, pts) < 0.05);
      // In practice the recovery is exact up to float rounding.
      CHECK(worst_error(d.points, pts) < 1e-3);
    }
  }
}

TEST_CASE("argmax-refined decoding at and just beyond the border", "[heatmap]") {
  // The shifted stencil keeps the fit exact where the peak cell is on the edge.
  for (float x : {-0.45f, 0.0f, 0.3f, 62.8f, 63.0f, 63.4f}) {
    const std::vector<float> pts = {x, 20.25f, 31.6f, x};
    const facekeys::DecodedPoints d = decode_argmax_refined(gaussian_heatmaps(pts, 2, 64, 64, 2.0f), 2, 64, 64);
    INFO("x = " << x);
    CHECK(worst_error(d.points, pts) < 0.05);
  }
  // Far outside, the refinement stops one cell beyond the argmax cell.
  const facekeys::DecodedPoints far = decode_argmax_refined(gaussian_heatmaps({-3.0f, 10.0f}, 1, 64, 64, 2.0f), 1, 64, 64);
  CHECK(far.points[0] == Approx(-1.0f));
  CHECK(far.points[1] == Approx(10.0f).margin(1e-3));
}

TEST_CASE("argmax-refined confidence, flat and broken maps", "[heatmap]") {
  const std::vector<float> maps = gaussian_heatmaps({10.0f, 12.0f}, 1, 32, 32, 2.0f);
  CHECK(decode_argmax_refined(maps, 1, 32, 32).confidence[0] == Approx(1.0f));

  // A constant map has no curvature: the first cell, unrefined.
  const std::vector<float> flat(16 * 16, 0.25f);
  const facekeys::DecodedPoints f = decode_argmax_refined(flat, 1, 16, 16);
  CHECK(f.points[0] == 0.0f);
  CHECK(f.points[1] == 0.0f);
  CHECK(f.confidence[0] == 0.25f);

  // Negative network outputs around a positive peak are floored, not logged.
  std::vector<float> neg(16 * 16, -0.5f);
  neg[5 * 16 + 7] = 1.0f;
  const facekeys::DecodedPoints n = decode_argmax_refined(neg, 1, 16, 16);
  CHECK(std::isfinite(n.points[0]));
  CHECK(std::abs(n.points[0] - 7.0f) <= 1.0f);
  CHECK(std::abs(n.points[1] - 5.0f) <= 1.0f);

  const std::vector<float> nan(16 * 16, std::numeric_limits<float>::quiet_NaN());
  const facekeys::DecodedPoints b = decode_argmax_refined(nan, 1, 16, 16);
  CHECK(std::isnan(b.points[0]));
  CHECK(std::isnan(b.confidence[0]));
}

TEST_CASE("soft-argmax is close for interior points", "[heatmap]") {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> pos(12.0f, 51.0f), sig(1.5f, 3.0f);
  for (int trial = 0; trial < 100; ++trial) {
    const std::vector<float> pts = {pos(rng), pos(rng)};
    const float sigma = sig(rng);
    const std::vector<float> maps = gaussian_heatmaps(pts, 1, 64, 64, sigma);
    const facekeys::DecodedPoints d = decode_soft_argmax(maps, 1, 64, 64, 20.0f);
    INFO("trial " << trial << " sigma " << sigma);
    // Softmax of a [0,1] Gaussian is narrower than the cell grid at small
    // sigma (see the header's measurements), hence the looser bound there.
    CHECK(worst_error(d.points, pts) < (sigma >= 2.5f ? 0.05 : 0.25));
    CHECK(d.confidence[0] > 0.8f);
  }

  SECTION("log-domain maps (integral regression, beta = 1) are nearly unbiased") {
    const std::vector<float> pts = {30.37f, 25.81f};
    std::vector<float> logits = gaussian_heatmaps(pts, 1, 64, 64, 2.0f);
    for (float& v : logits) v = std::log(std::max(v, 1e-30f));
    const facekeys::DecodedPoints d = decode_soft_argmax(logits, 1, 64, 64, 1.0f);
    CHECK(worst_error(d.points, pts) < 1e-3);
  }
}

TEST_CASE("maps are K x H x W, row-major", "[heatmap]") {
  // H != W so a transposed index cannot pass; points on cell centres at
  // distinct positions, one per map.
  const int H = 24, W = 40;
  const std::vector<float> pts = {3, 5, 35, 2, 20, 20, 0, 23};
  const std::size_t K = 4;
  const std::vector<float> maps = gaussian_heatmaps(pts, K, H, W, 1.5f);
  REQUIRE(maps.size() == K * H * W);
  for (std::size_t k = 0; k < K; ++k) {
    const float* m = maps.data() + k * H * W;
    const std::size_t peak = static_cast<std::size_t>(std::max_element(m, m + H * W) - m);
    INFO("map " << k);
    CHECK(peak % W == static_cast<std::size_t>(pts[2 * k]));
    CHECK(peak / W == static_cast<std::size_t>(pts[2 * k + 1]));
    const int x = static_cast<int>(pts[2 * k]), y = static_cast<int>(pts[2 * k + 1]);
    CHECK(maps[(k * H + y) * W + x] == Approx(1.0f));
  }
  const facekeys::DecodedPoints d = decode_argmax_refined(maps, K, H, W);
  CHECK(worst_error(d.points, pts) < 1e-3);
  // The in-place variant writes the same values.
  std::vector<float> out(K * H * W, -1.0f);
  facekeys::gaussian_heatmaps_into(pts.data(), K, H, W, 1.5f, HeatmapNorm::Peak, out.data());
  CHECK(out == maps);
}

TEST_CASE("Gaussian values and Sum normalisation", "[heatmap]") {
  const std::vector<float> pts = {10.5f, 8.25f};
  const std::vector<float> peak = gaussian_heatmaps(pts, 1, 20, 30, 2.0f);
  // Cell (x=12, y=9): d^2 = 1.5^2 + 0.75^2 = 2.8125.
  CHECK(peak[9 * 30 + 12] == Approx(std::exp(-2.8125 / 8.0)));

  std::mt19937 rng(3);
  // Up to a cell beyond the edges: partly visible, still normalisable.
  std::uniform_real_distribution<float> px(-1.0f, 64.0f), py(-1.0f, 48.0f), sig(1.0f, 4.0f);
  for (int trial = 0; trial < 20; ++trial) {
    const std::size_t K = 5;
    std::vector<float> p(2 * K);
    for (std::size_t k = 0; k < K; ++k) {
      p[2 * k] = px(rng);
      p[2 * k + 1] = py(rng);
    }
    const std::vector<float> maps = gaussian_heatmaps(p, K, 48, 64, sig(rng), HeatmapNorm::Sum);
    for (std::size_t k = 0; k < K; ++k) {
      CHECK(sum_of(maps.data() + k * 48 * 64, 48 * 64) == Approx(1.0).epsilon(1e-5));
    }
  }
  // Sum maps are proportional to Peak maps.
  const std::vector<float> sum = gaussian_heatmaps(pts, 1, 20, 30, 2.0f, HeatmapNorm::Sum);
  CHECK(sum[9 * 30 + 12] / sum[8 * 30 + 10] == Approx(peak[9 * 30 + 12] / peak[8 * 30 + 10]));
}

TEST_CASE("points outside the map and missing points", "[heatmap]") {
  const int H = 32, W = 32;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // Just outside: a truncated tail, peaked on the border column, below 1.
  const std::vector<float> near = gaussian_heatmaps({-1.0f, 16.0f}, 1, H, W, 2.0f);
  CHECK(near[16 * W + 0] == Approx(std::exp(-1.0 / 8.0)));
  CHECK(*std::max_element(near.begin(), near.end()) < 1.0f);
  // Just outside, Sum: the visible part is rescaled to 1.
  const std::vector<float> near_sum = gaussian_heatmaps({-1.0f, 16.0f}, 1, H, W, 2.0f, HeatmapNorm::Sum);
  CHECK(sum_of(near_sum.data(), H * W) == Approx(1.0).epsilon(1e-5));
  // Far outside or missing: all zeros, in both modes (Sum cannot normalise).
  for (HeatmapNorm norm : {HeatmapNorm::Peak, HeatmapNorm::Sum}) {
    const std::vector<float> maps = gaussian_heatmaps({-40.0f, 16.0f, nan, nan, 500.0f, 500.0f}, 3, H, W, 2.0f, norm);
    CHECK(std::all_of(maps.begin(), maps.end(), [](float v) { return v == 0.0f; }));
  }
  // Sum: a tail below 0.1% of the Gaussian's mass gives a zero map, not a spike.
  const std::vector<float> tail = gaussian_heatmaps({-8.0f, 16.0f}, 1, H, W, 2.0f, HeatmapNorm::Sum);
  CHECK(sum_of(tail.data(), H * W) == 0.0);
}

TEST_CASE("heatmap <-> input coordinates align the map edges", "[heatmap]") {
  using facekeys::heatmap_to_input;
  using facekeys::input_to_heatmap;
  // 64-cell map of a 256-pixel input (stride 4): the map edge -0.5 is the
  // input edge -0.5, the far edges 63.5 and 255.5, and cell 0 covers input
  // pixels 0..3, whose centre is 1.5.
  CHECK(heatmap_to_input(-0.5f, 64, 256) == Approx(-0.5f));
  CHECK(heatmap_to_input(63.5f, 64, 256) == Approx(255.5f));
  CHECK(heatmap_to_input(0.0f, 64, 256) == Approx(1.5f));
  CHECK(heatmap_to_input(10.0f, 64, 256) == Approx(41.5f));
  CHECK(input_to_heatmap(41.5f, 256, 64) == Approx(10.0f));
  CHECK(input_to_heatmap(heatmap_to_input(17.3f, 56, 224), 224, 56) == Approx(17.3f));

  // Points: x uses widths, y heights.
  const std::vector<float> in = facekeys::heatmap_points_to_input({0.0f, 0.0f, 10.0f, 5.0f}, 64, 32, 256, 96);
  CHECK(in[0] == Approx(1.5f));
  CHECK(in[1] == Approx(1.0f));   // (0 + 0.5) * 3 - 0.5
  CHECK(in[2] == Approx(41.5f));
  CHECK(in[3] == Approx(16.0f));  // (5 + 0.5) * 3 - 0.5
  const std::vector<float> back = facekeys::input_points_to_heatmap(in, 256, 96, 64, 32);
  CHECK(worst_error(back, {0.0f, 0.0f, 10.0f, 5.0f}) < 1e-5);

  CHECK_THROWS_AS(heatmap_to_input(1.0f, 0, 256), std::invalid_argument);
  CHECK_THROWS_AS(facekeys::heatmap_points_to_input({1.0f}, 64, 64, 256, 256), std::invalid_argument);
}

TEST_CASE("heatmap size and parameter checks throw", "[heatmap]") {
  CHECK_THROWS_AS(gaussian_heatmaps({1, 2, 3}, 2, 8, 8, 1.0f), std::invalid_argument);
  CHECK_THROWS_AS(gaussian_heatmaps({1, 2}, 1, 0, 8, 1.0f), std::invalid_argument);
  CHECK_THROWS_AS(gaussian_heatmaps({1, 2}, 1, 8, 8, 0.0f), std::invalid_argument);
  CHECK_THROWS_AS(decode_argmax_refined(std::vector<float>(63), 1, 8, 8), std::invalid_argument);
  CHECK_THROWS_AS(decode_soft_argmax(std::vector<float>(64), 2, 8, 8, 10.0f), std::invalid_argument);
  CHECK_THROWS_AS(decode_soft_argmax(std::vector<float>(64), 1, 8, 8, 0.0f), std::invalid_argument);
}

TEST_CASE("spatial_softmax: each map sums to 1, non-finite cells get 0, a map with no finite cell is NaN", "[heatmap]") {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  // 3 maps of 2x2: plain logits (large, to show the shift by the maximum), one NaN and one inf cell, all NaN.
  const std::vector<float> logits = {1000.f, 1001.f, 999.f, 1000.f, 0.f, nan, inf, 0.f, nan, nan, nan, nan};
  const std::vector<float> p = facekeys::spatial_softmax(logits.data(), 3, 2, 2);
  REQUIRE(p.size() == 12u);
  const double e = std::exp(1.0), z = 2 + e + 1 / e;
  CHECK(p[0] == Approx(1 / z));
  CHECK(p[1] == Approx(e / z));
  CHECK(p[2] == Approx(1 / (e * z)));
  CHECK(p[0] + p[1] + p[2] + p[3] == Approx(1.0));
  CHECK(p[4] == Approx(0.5));
  CHECK(p[5] == 0.f);
  CHECK(p[6] == 0.f);
  CHECK(p[7] == Approx(0.5));
  for (int i = 8; i < 12; ++i) CHECK(std::isnan(p[i]));
  CHECK_THROWS_AS(facekeys::spatial_softmax(logits.data(), 0, 2, 2), std::invalid_argument);
}

TEST_CASE("heatmap logits decode to normalised points (softmax, refined argmax, cell centres)", "[heatmap]") {
  // Logits = log of a Gaussian (KL training drives the softmax there): the softmax gives the Gaussian back.
  const int h = 48, w = 64;
  const std::vector<float> pts = {20.3f, 11.7f, 0.2f, 47.6f, 63.1f, 30.0f};
  std::vector<float> logits = gaussian_heatmaps(pts, 3, h, w, 1.5f, HeatmapNorm::Peak);
  for (float& v : logits) v = std::log(std::max(v, 1e-30f));
  logits[2 * h * w] = std::numeric_limits<float>::quiet_NaN();  // a broken cell in the third map is ignored
  const std::vector<float> uv = facekeys::decode_heatmap_logits_normalized(logits.data(), 3, h, w);
  REQUIRE(uv.size() == 6u);
  for (int k = 0; k < 3; ++k) {
    INFO("point " << k);
    CHECK(uv[2 * k] == Approx((pts[2 * k] + 0.5) / w).margin(1e-4));
    CHECK(uv[2 * k + 1] == Approx((pts[2 * k + 1] + 0.5) / h).margin(1e-4));
  }
  std::fill(logits.begin(), logits.begin() + h * w, std::numeric_limits<float>::quiet_NaN());
  const std::vector<float> broken = facekeys::decode_heatmap_logits_normalized(logits.data(), 3, h, w);
  CHECK(std::isnan(broken[0]));  // a map without a finite cell: a NaN point, not a made-up one
  CHECK(std::isnan(broken[1]));
  CHECK(broken[2] == Approx(uv[2]));
}
