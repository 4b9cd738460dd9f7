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
