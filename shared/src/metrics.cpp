#include "facekeys/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace facekeys {
namespace {

// Checks one flat N x K x 2 array; `what` names the argument in the message so
// a caller mixing up arrays learns which one is wrong.
void check_points(const std::vector<float>& a, std::size_t n_images, std::size_t n_points,
                  const char* fn, const char* what) {
  if (n_images == 0 || n_points == 0) {
    throw std::invalid_argument(std::string(fn) + ": empty batch (N=" + std::to_string(n_images) +
                                ", K=" + std::to_string(n_points) + ")");
  }
  const std::size_t expected = n_images * n_points * 2;
  if (a.size() != expected) {
    throw std::invalid_argument(std::string(fn) + ": " + what + " has " +
                                std::to_string(a.size()) + " floats, expected N*K*2 = " +
                                std::to_string(expected) + " (N=" + std::to_string(n_images) +
                                ", K=" + std::to_string(n_points) + ")");
  }
}

void check_pair(const std::vector<float>& pred, const std::vector<float>& gt,
                std::size_t n_images, std::size_t n_points, const char* fn) {
  check_points(pred, n_images, n_points, fn, "pred");
  check_points(gt, n_images, n_points, fn, "gt");
}

void check_nmes(const std::vector<double>& nmes, const char* fn) {
  if (nmes.empty()) throw std::invalid_argument(std::string(fn) + ": no NMEs");
  for (double e : nmes) {
    // `e < 0` is false for NaN, so NaN passes (it counts as a failure later).
    if (e < 0) throw std::invalid_argument(std::string(fn) + ": negative NME " + std::to_string(e));
  }
}

void check_max_error(double max_error, const char* fn) {
  if (!(max_error > 0) || !std::isfinite(max_error)) {
    throw std::invalid_argument(std::string(fn) + ": max_error must be finite and > 0");
  }
}

}  // namespace

double mse_normalized(const std::vector<float>& pred, const std::vector<float>& gt,
                      std::size_t n_images, std::size_t n_points) {
  check_pair(pred, gt, n_images, n_points, "mse_normalized");
  double sum = 0;
  for (std::size_t i = 0; i < pred.size(); ++i) {
    const double d = static_cast<double>(pred[i]) - gt[i];
    sum += d * d;
  }
  return sum / static_cast<double>(pred.size());
}

double seed_mae(const std::vector<float>& pred, const std::vector<float>& gt,
                std::size_t n_images, std::size_t n_points) {
  check_pair(pred, gt, n_images, n_points, "seed_mae");
  // Summing every |du|+|dv| then dividing by N is the same as averaging the
  // per-image sums.
  double sum = 0;
  for (std::size_t i = 0; i < pred.size(); ++i) sum += std::abs(static_cast<double>(pred[i]) - gt[i]);
  return sum / static_cast<double>(n_images);
}

double kaggle_mae(const std::vector<float>& pred_px, const std::vector<float>& gt_px,
                  std::size_t n_images, std::size_t n_points) {
  check_pair(pred_px, gt_px, n_images, n_points, "kaggle_mae");
  double sum = 0;
  for (std::size_t i = 0; i < pred_px.size(); ++i) {
    sum += std::abs(static_cast<double>(pred_px[i]) - gt_px[i]);
  }
  return sum / static_cast<double>(pred_px.size());
}

std::vector<double> nme_per_image(const std::vector<float>& pred_px,
                                  const std::vector<float>& gt_px, std::size_t n_images,
                                  std::size_t n_points, std::size_t left_idx,
                                  std::size_t right_idx) {
  check_pair(pred_px, gt_px, n_images, n_points, "nme_per_image");
  if (left_idx >= n_points || right_idx >= n_points) {
    throw std::invalid_argument("nme_per_image: normalising point index " +
                                std::to_string(std::max(left_idx, right_idx)) +
                                " out of range for K=" + std::to_string(n_points));
  }
  std::vector<double> out(n_images);
  for (std::size_t n = 0; n < n_images; ++n) {
    const float* p = pred_px.data() + n * n_points * 2;
    const float* g = gt_px.data() + n * n_points * 2;
    const double iod = std::hypot(static_cast<double>(g[2 * left_idx]) - g[2 * right_idx],
                                  static_cast<double>(g[2 * left_idx + 1]) - g[2 * right_idx + 1]);
    if (!(iod > 0) || !std::isfinite(iod)) {
      throw std::invalid_argument("nme_per_image: image " + std::to_string(n) +
                                  ": distance between ground-truth points " +
                                  std::to_string(left_idx) + " and " + std::to_string(right_idx) +
                                  " is " + std::to_string(iod) + ", cannot normalise");
    }
    double sum = 0;
    for (std::size_t k = 0; k < n_points; ++k) {
      sum += std::hypot(static_cast<double>(p[2 * k]) - g[2 * k],
                        static_cast<double>(p[2 * k + 1]) - g[2 * k + 1]);
    }
    out[n] = sum / static_cast<double>(n_points) / iod;
  }
  return out;
}

double failure_rate(const std::vector<double>& nmes, double threshold) {
  check_nmes(nmes, "failure_rate");
  std::size_t failures = 0;
  // !(e <= t) rather than e > t so that NaN counts as a failure.
  for (double e : nmes) failures += !(e <= threshold) ? 1 : 0;
  return static_cast<double>(failures) / static_cast<double>(nmes.size());
}

CedCurve ced_curve(const std::vector<double>& nmes, double max_error, std::size_t steps) {
  check_nmes(nmes, "ced_curve");
  check_max_error(max_error, "ced_curve");
  if (steps == 0) throw std::invalid_argument("ced_curve: steps must be >= 1");
  // Sorting once makes each sample a binary search instead of a pass over all
  // images. NaN would break the strict weak ordering, so it is left out of the
  // sorted list but still counted in the denominator (it is never <= t).
  std::vector<double> sorted;
  sorted.reserve(nmes.size());
  for (double e : nmes) {
    if (!std::isnan(e)) sorted.push_back(e);
  }
  std::sort(sorted.begin(), sorted.end());
  const double n = static_cast<double>(nmes.size());
  CedCurve c;
  c.thresholds.resize(steps + 1);
  c.fractions.resize(steps + 1);
  for (std::size_t i = 0; i <= steps; ++i) {
    // i * max / steps (not a running sum) so the last threshold is exactly max.
    const double t = max_error * static_cast<double>(i) / static_cast<double>(steps);
    c.thresholds[i] = t;
    c.fractions[i] =
        static_cast<double>(std::upper_bound(sorted.begin(), sorted.end(), t) - sorted.begin()) / n;
  }
  return c;
}

double auc(const std::vector<double>& nmes, double max_error) {
  check_nmes(nmes, "auc");
  check_max_error(max_error, "auc");
  // Closed form of the area under the CED step function (see the header).
  double sum = 0;
  for (double e : nmes) {
    if (e < max_error) sum += 1.0 - e / max_error;  // false for NaN/inf: contributes 0
  }
  return sum / static_cast<double>(nmes.size());
}

MetricSummary summarize_metrics(const std::vector<float>& pred_norm,
                                const std::vector<float>& gt_norm,
                                const std::vector<float>& pred_px,
                                const std::vector<float>& gt_px, std::size_t n_images,
                                std::size_t n_points, std::size_t left_idx,
                                std::size_t right_idx) {
  MetricSummary s;
  s.n = n_images;
  s.mse = mse_normalized(pred_norm, gt_norm, n_images, n_points);
  s.seed_mae = seed_mae(pred_norm, gt_norm, n_images, n_points);
  s.kaggle_mae = kaggle_mae(pred_px, gt_px, n_images, n_points);
  const std::vector<double> nmes =
      nme_per_image(pred_px, gt_px, n_images, n_points, left_idx, right_idx);
  double sum = 0;
  for (double e : nmes) sum += e;
  s.nme = sum / static_cast<double>(nmes.size());
  s.fr_010 = failure_rate(nmes, 0.10);
  s.auc_010 = auc(nmes, 0.10);
  return s;
}

}  // namespace facekeys
