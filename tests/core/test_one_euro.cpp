// The One Euro filter (facekeys/one_euro.hpp): what it removes from a still
// signal's jitter and what it costs in lag on a moving one, measured.
#include <cmath>
#include <random>
#include <vector>

#include "support/catch.hpp"

#include "facekeys/one_euro.hpp"

using namespace facekeys;

TEST_CASE("one euro: jitter on a still point shrinks, a moving point lags little", "[one_euro]") {
  const double fps = 30, dt = 1 / fps;
  std::mt19937 rng(5);
  std::normal_distribution<double> noise(0, 1.0);  // 1 px of detector jitter
  OneEuroFilter still;
  double raw_motion = 0, smooth_motion = 0, prev_raw = 0, prev_smooth = 0;
  for (int i = 0; i < 300; ++i) {
    const double x = 100 + noise(rng);
    const double y = still.filter({x}, i * dt)[0];
    if (i > 30) {
      raw_motion += std::abs(x - prev_raw);
      smooth_motion += std::abs(y - prev_smooth);
    }
    prev_raw = x, prev_smooth = y;
  }
  // Frame-to-frame motion of a still point: at least 5x smaller (the video issue's bar).
  WARN("one euro, still point, 1 px noise at 30 fps: mean frame-to-frame motion raw " << raw_motion / 269
       << " px, smoothed " << smooth_motion / 269 << " px");
  CHECK(smooth_motion * 5 <= raw_motion);

  // A point moving at 300 px/s: the smoothed one trails by a few frames' worth at most.
  OneEuroFilter moving;
  double lag = 0;
  for (int i = 0; i < 90; ++i) {
    const double t = i * dt, x = 300 * t;
    const double y = moving.filter({x}, t)[0];
    if (i == 89) lag = x - y;
  }
  WARN("one euro, point at 300 px/s, 30 fps: lag " << lag << " px (" << lag / 10 << " frames)");
  CHECK(lag >= 0);
  CHECK(lag <= 20);  // under 2 frames' motion
}

TEST_CASE("one euro: the first value passes, gaps restart a signal, misuse is refused", "[one_euro]") {
  OneEuroFilter f;
  CHECK(f.filter({5, 7}, 0.0) == std::vector<double>{5, 7});
  const auto y = f.filter({NAN, 8}, 0.1);
  CHECK(std::isnan(y[0]));
  CHECK(y[1] > 7);
  CHECK(y[1] < 8);
  CHECK(f.filter({3, 8}, 0.2)[0] == 3);  // after the gap: starts again at its value
  CHECK_THROWS_AS(f.filter({1}, 0.3), std::invalid_argument);
  CHECK_THROWS_AS(f.filter({1, 2}, 0.2), std::invalid_argument);
  f.reset();
  CHECK(f.filter({1}, 0.0) == std::vector<double>{1});
}

TEST_CASE("one euro: shared_motion is the similarity transform's displacement of each point", "[one_euro]") {
  const double c = std::cos(0.2), s = std::sin(0.2), k = 1.1;  // 11.5 degrees, 10 % larger, then shifted
  std::vector<double> from, to;
  for (int i = 0; i < 12; ++i) {
    const double x = 100 + 40 * std::cos(i), y = 80 + 30 * std::sin(2 * i);
    from.insert(from.end(), {x, y});
    to.insert(to.end(), {k * (c * x - s * y) + 5, k * (s * x + c * y) - 3});
  }
  std::vector<double> moved = shared_motion(from, to);
  for (std::size_t i = 0; i < from.size(); ++i) CHECK(moved[i] == Approx(to[i] - from[i]).margin(1e-9));
  // A pair with a NaN takes no part in the fit (the others still fit exactly): one whose new place
  // is unknown moves with the whole, one whose old place is unknown by nothing.
  const double whole0 = moved[0];
  to[0] = NAN;
  to[3] += 50;  // an outlier would pull the fit; here it is left out
  from[3] = NAN;
  moved = shared_motion(from, to);
  CHECK(moved[0] == Approx(whole0).margin(1e-9));
  CHECK(moved[3] == 0);
  for (std::size_t i = 4; i < from.size(); ++i) CHECK(moved[i] == Approx(to[i] - from[i]).margin(1e-9));
  // One point: its shift.
  CHECK(shared_motion({1, 2}, {4, 6}) == std::vector<double>{3, 4});
  CHECK_THROWS_AS(shared_motion({1, 2}, {1}), std::invalid_argument);
}

TEST_CASE("one euro: the points' shared motion opens the cut-off for a moving face, not for jitter", "[one_euro]") {
  // 20 points jittering 0.5 px each, still for 2 s, then panning at 200 px/s.
  const double dt = 1 / 30.0;
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0, 0.5);
  auto run = [&](double beta_shared, double* still_motion, double* lag) {
    OneEuroParams p{0.2, 0.05, 4.0, beta_shared};
    OneEuroFilter f(p);
    rng.seed(7);
    std::vector<double> prev;
    *still_motion = 0, *lag = 0;
    for (int i = 0; i < 120; ++i) {
      const double shift = i < 60 ? 0 : 200 * (i - 60) * dt;
      std::vector<double> xy;
      for (int k = 0; k < 20; ++k) xy.insert(xy.end(), {10.0 * k + shift + noise(rng), 5.0 * (k % 4) + noise(rng)});
      const std::vector<double> y = f.filter_points(xy, i * dt);
      if (i > 10 && i < 60)
        for (std::size_t k = 0; k < y.size(); ++k) *still_motion += std::abs(y[k] - prev[k]) / (49 * 40);
      if (i == 70) *lag = 10.0 + shift - y[2];  // point 1's x trails its true place by this much
      prev = y;
    }
  };
  double still_alone, lag_alone, still_shared, lag_shared;
  run(0, &still_alone, &lag_alone);
  run(0.15, &still_shared, &lag_shared);
  WARN("filter_points, 20 points, 0.5 px jitter, then 200 px/s: still motion "
       << still_alone << " -> " << still_shared << " px a frame, lag 1/3 s into the pan " << lag_alone << " -> "
       << lag_shared << " px");
  CHECK(still_shared < 1.5 * still_alone);
  CHECK(lag_shared < 0.5 * lag_alone);
  // filter() ignores beta_shared: the same values filtered as independent signals.
  OneEuroFilter a(OneEuroParams{0.2, 0.05, 4.0, 0.15}), b(OneEuroParams{0.2, 0.05, 4.0, 0});
  CHECK(a.filter({0, 0}, 0) == b.filter({0, 0}, 0));
  CHECK(a.filter({5, 9}, 0.1) == b.filter({5, 9}, 0.1));
  CHECK_THROWS_AS(a.filter_points({1, 2, 3}, 0.2), std::invalid_argument);
}
