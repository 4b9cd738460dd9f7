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
//
// Points of one face (filter_points) also open the cut-off by the speed of
// the motion they share: the similarity transform (shift, scale, rotation)
// that best moves the last filtered points onto the new ones, at each point,
// weighted by beta_shared. Fit to all points at once, it carries little of
// their independent jitter, so a face that pans or zooms lags little while a
// still one stays steady; each point's own speed (beta) still lets a blink or
// a mouth through. On the test video (docs/VIDEO.md), for the same worst NME
// of a moving face (0.035), a still face's jitter fell 7.6x with it and 6.1x
// without (6.4x and 5.1x at 20 fps).
#pragma once

#include <cstddef>
#include <vector>

namespace facekeys {

struct OneEuroParams {
  double min_cutoff = 1.0;  // Hz: the smoothing of a still signal (lower: smoother, more lag)
  double beta = 0.05;       // how fast the cut-off rises with speed, per unit/s (pixels/s for points)
  double d_cutoff = 1.0;    // Hz: the smoothing of the speed estimate
  double beta_shared = 0;   // filter_points: the cut-off's rise per unit/s of the points' shared motion
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
  // As filter, for the points of one shape: values are x, y pairs, and
  // their shared motion opens the cut-off too (beta_shared). A pair with a
  // NaN takes no part in the fit.
  std::vector<double> filter_points(const std::vector<double>& xy, double t_seconds);
  void reset() { started_ = false; }
  const OneEuroParams& params() const { return params_; }

 private:
  OneEuroParams params_;
  bool started_ = false;
  double t_prev_ = 0;
  std::vector<double> step(const std::vector<double>& values, double t_seconds, bool points);
  std::vector<double> y_, dy_, ds_;  // filtered values, their speed, the shared motion's speed
};

// How far each point of `from` moves with the whole when the similarity
// transform (q = a p + b, a and b complex: scale and rotation, shift) that
// best maps `from` onto `to` in least squares is applied: x, y pairs; pairs
// with a non-finite value in either take no part in the fit, and a point
// whose `from` is not finite moves by nothing. With fewer than two pairs in
// the fit or all at one place, the mean shift.
std::vector<double> shared_motion(const std::vector<double>& from, const std::vector<double>& to);

}  // namespace facekeys
