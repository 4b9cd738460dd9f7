#include "facekeys/one_euro.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace facekeys {

namespace {

double alpha(double cutoff_hz, double dt) {
  const double tau = 1.0 / (2.0 * 3.14159265358979323846 * cutoff_hz);
  return 1.0 / (1.0 + tau / dt);
}

}  // namespace

std::vector<double> OneEuroFilter::filter(const std::vector<double>& x, double t) {
  if (!started_) {
    started_ = true;
    t_prev_ = t;
    y_ = x;
    dy_.assign(x.size(), 0.0);
    return y_;
  }
  if (x.size() != y_.size())
    throw std::invalid_argument("OneEuroFilter: " + std::to_string(x.size()) + " values after " +
                                std::to_string(y_.size()));
  const double dt = t - t_prev_;
  if (!(dt > 0)) throw std::invalid_argument("OneEuroFilter: time must increase");
  t_prev_ = t;
  const double a_d = alpha(params_.d_cutoff, dt);
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i]) || !std::isfinite(y_[i])) {  // a gap: this signal starts again
      y_[i] = x[i];
      dy_[i] = 0;
      continue;
    }
    dy_[i] += a_d * ((x[i] - y_[i]) / dt - dy_[i]);
    const double cutoff = params_.min_cutoff + params_.beta * std::abs(dy_[i]);
    y_[i] += alpha(cutoff, dt) * (x[i] - y_[i]);
  }
  return y_;
}

}  // namespace facekeys
