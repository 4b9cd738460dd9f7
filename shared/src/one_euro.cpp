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

std::vector<double> shared_motion(const std::vector<double>& from, const std::vector<double>& to) {
  if (from.size() != to.size() || from.size() % 2 != 0)
    throw std::invalid_argument("shared_motion: two lists of x, y pairs of one length");
  const std::size_t n = from.size() / 2;
  auto usable = [&](std::size_t i) {
    return std::isfinite(from[2 * i]) && std::isfinite(from[2 * i + 1]) && std::isfinite(to[2 * i]) &&
           std::isfinite(to[2 * i + 1]);
  };
  double px = 0, py = 0, qx = 0, qy = 0;
  std::size_t m = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (usable(i)) px += from[2 * i], py += from[2 * i + 1], qx += to[2 * i], qy += to[2 * i + 1], ++m;
  std::vector<double> moved(from.size(), 0.0);
  if (m == 0) return moved;
  px /= m, py /= m, qx /= m, qy /= m;
  // a = sum(Q conj(P)) / sum(|P|^2), with P, Q the points about their means.
  double re = 0, im = 0, norm = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!usable(i)) continue;
    const double Px = from[2 * i] - px, Py = from[2 * i + 1] - py, Qx = to[2 * i] - qx, Qy = to[2 * i + 1] - qy;
    re += Qx * Px + Qy * Py;
    im += Qy * Px - Qx * Py;
    norm += Px * Px + Py * Py;
  }
  const double ar = m >= 2 && norm > 0 ? re / norm : 1.0, ai = m >= 2 && norm > 0 ? im / norm : 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(from[2 * i]) || !std::isfinite(from[2 * i + 1])) continue;
    const double Px = from[2 * i] - px, Py = from[2 * i + 1] - py;
    moved[2 * i] = ar * Px - ai * Py + qx - from[2 * i];
    moved[2 * i + 1] = ai * Px + ar * Py + qy - from[2 * i + 1];
  }
  return moved;
}

std::vector<double> OneEuroFilter::filter(const std::vector<double>& x, double t) { return step(x, t, false); }

std::vector<double> OneEuroFilter::filter_points(const std::vector<double>& xy, double t) {
  if (xy.size() % 2 != 0) throw std::invalid_argument("OneEuroFilter: points as x, y pairs");
  return step(xy, t, true);
}

std::vector<double> OneEuroFilter::step(const std::vector<double>& x, double t, bool points) {
  if (!started_) {
    started_ = true;
    t_prev_ = t;
    y_ = x;
    dy_.assign(x.size(), 0.0);
    ds_.assign(x.size(), 0.0);
    return y_;
  }
  if (x.size() != y_.size())
    throw std::invalid_argument("OneEuroFilter: " + std::to_string(x.size()) + " values after " +
                                std::to_string(y_.size()));
  const double dt = t - t_prev_;
  if (!(dt > 0)) throw std::invalid_argument("OneEuroFilter: time must increase");
  t_prev_ = t;
  const double a_d = alpha(params_.d_cutoff, dt);
  const std::vector<double> shared = points && params_.beta_shared > 0 ? shared_motion(y_, x) : std::vector<double>{};
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i]) || !std::isfinite(y_[i])) {  // a gap: this signal starts again
      y_[i] = x[i];
      dy_[i] = ds_[i] = 0;
      continue;
    }
    dy_[i] += a_d * ((x[i] - y_[i]) / dt - dy_[i]);
    double cutoff = params_.min_cutoff + params_.beta * std::abs(dy_[i]);
    if (!shared.empty()) {
      ds_[i] += a_d * (shared[i] / dt - ds_[i]);
      cutoff += params_.beta_shared * std::abs(ds_[i]);
    }
    y_[i] += alpha(cutoff, dt) * (x[i] - y_[i]);
  }
  return y_;
}

}  // namespace facekeys
