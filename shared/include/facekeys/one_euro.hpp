// The One Euro filter (Casiez, Roussel and Vogel, "1 Euro Filter: A Simple
// Speed-based Low-pass Filter for Noisy Input in Interactive Systems", CHI
// 2012): a low-pass filter whose cut-off rises with the signal's speed, so a
// still face's points stop jittering while a moving face's points lag little.
// For video (the tracker smooths each face's points with it); reset it when a
// track starts.
//
//   cutoff = min_cutoff + beta * |filtered speed|      (Hz, speed in units/s)
//   alpha  = 1 / (1 + 1 / (2 pi cutoff dt))
//   y      = y_prev + alpha (x - y_prev)
// The speed itself is low-passed at d_cutoff.
#pragma once

#include <cstddef>
#include <vector>

namespace facekeys {

struct OneEuroParams {
  double min_cutoff = 1.0;  // Hz: the smoothing of a still signal (lower: smoother, more lag)
  double beta = 0.05;       // how fast the cut-off rises with speed, per unit/s (pixels/s for points)
  double d_cutoff = 1.0;    // Hz: the smoothing of the speed estimate
};

// Filters a vector of values (e.g. the 2K coordinates of a face's points) as
// independent signals sampled together. A NaN value passes through and
// restarts its own signal.
class OneEuroFilter {
 public:
  explicit OneEuroFilter(OneEuroParams params = OneEuroParams{}) : params_(params) {}
  // The filtered values at time t_seconds (strictly increasing; the first call
  // returns its input). Throws std::invalid_argument when the size changes or
  // time does not advance.
  std::vector<double> filter(const std::vector<double>& values, double t_seconds);
  void reset() { started_ = false; }
  const OneEuroParams& params() const { return params_; }

 private:
  OneEuroParams params_;
  bool started_ = false;
  double t_prev_ = 0;
  std::vector<double> y_, dy_;
};

}  // namespace facekeys
