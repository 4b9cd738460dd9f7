#include "facekeys/heatmap.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace facekeys {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

void check_extent(int extent, const char* fn, const char* what) {
  if (extent <= 0) {
    throw std::invalid_argument(std::string(fn) + ": " + what + " must be > 0, got " +
                                std::to_string(extent));
  }
}

void check_map_dims(std::size_t n_points, int height, int width, const char* fn) {
  if (n_points == 0) throw std::invalid_argument(std::string(fn) + ": K must be > 0");
  check_extent(height, fn, "height");
  check_extent(width, fn, "width");
}

void check_size(std::size_t got, std::size_t expected, const char* fn, const char* what) {
  if (got != expected) {
    throw std::invalid_argument(std::string(fn) + ": " + what + " has " + std::to_string(got) +
                                " floats, expected " + std::to_string(expected));
  }
}

std::size_t map_size(int height, int width) {
  return static_cast<std::size_t>(height) * static_cast<std::size_t>(width);
}

// Index of the largest finite value, or size when there is none. NaN and inf
// are skipped: they come from diverged models, and picking one would hide that
// behind an arbitrary but plausible-looking point.
std::size_t finite_argmax(const float* m, std::size_t size) {
  std::size_t best = size;
  float best_v = 0;
  for (std::size_t i = 0; i < size; ++i) {
    const float v = m[i];
    if (std::isfinite(v) && (best == size || v > best_v)) {
      best = i;
      best_v = v;
    }
  }
  return best;
}

// Sub-pixel position of the peak of one map whose argmax is cell (px, py).
void refine_peak(const float* m, int height, int width, int px, int py, float peak, double& x,
                 double& y) {
  x = px;
  y = py;
  if (!(peak > 0)) return;  // no log of a non-positive peak
  const double floor_v = static_cast<double>(peak) * 1e-10;
  auto L = [&](int j, int i) {
    const double v = m[static_cast<std::size_t>(i) * static_cast<std::size_t>(width) + j];
    // std::max would pass NaN through; a NaN neighbour is treated as "nothing".
    return std::log(v > floor_v ? v : floor_v);
  };
  // A 3-cell stencil per axis, centred on the argmax when possible and shifted
  // inward at a border: derivatives of a quadratic are exact at any centre, so
  // the Newton step from (cx, cy) still lands on a Gaussian's true peak.
  const bool ux = width >= 3, uy = height >= 3;
  const int cx = ux ? std::clamp(px, 1, width - 2) : px;
  const int cy = uy ? std::clamp(py, 1, height - 2) : py;
  const double l0 = L(cx, cy);
  double gx = 0, hxx = 0, gy = 0, hyy = 0;
  if (ux) {
    const double lm = L(cx - 1, cy), lp = L(cx + 1, cy);
    gx = 0.5 * (lp - lm);
    hxx = lp - 2 * l0 + lm;
  }
  if (uy) {
    const double lm = L(cx, cy - 1), lp = L(cx, cy + 1);
    gy = 0.5 * (lp - lm);
    hyy = lp - 2 * l0 + lm;
  }
  bool done = false;
  if (ux && uy && hxx < 0 && hyy < 0) {
    // The cross term matters for elongated, rotated blobs; for isotropic
    // Gaussians it is 0 and this reduces to the per-axis step.
    const double hxy = 0.25 * (L(cx + 1, cy + 1) - L(cx + 1, cy - 1) - L(cx - 1, cy + 1) +
                               L(cx - 1, cy - 1));
    const double det = hxx * hyy - hxy * hxy;
    if (det > 0) {  // with hxx < 0: negative definite, a proper maximum
      const double dx = -(hyy * gx - hxy * gy) / det;
      const double dy = -(hxx * gy - hxy * gx) / det;
      if (std::isfinite(dx) && std::isfinite(dy)) {
        x = cx + dx;
        y = cy + dy;
        done = true;
      }
    }
  }
  if (!done) {
    if (ux && hxx < 0) x = cx - gx / hxx;
    if (uy && hyy < 0) y = cy - gy / hyy;
  }
  // See the header: more than a cell away from the argmax is noise.
  x = std::clamp(x, px - 1.0, px + 1.0);
  y = std::clamp(y, py - 1.0, py + 1.0);
}

}  // namespace

float heatmap_to_input(float v_hm, int hm_extent, int in_extent) {
  check_extent(hm_extent, "heatmap_to_input", "heatmap extent");
  check_extent(in_extent, "heatmap_to_input", "input extent");
  return static_cast<float>((static_cast<double>(v_hm) + 0.5) * in_extent / hm_extent - 0.5);
}

float input_to_heatmap(float v_in, int in_extent, int hm_extent) {
  check_extent(in_extent, "input_to_heatmap", "input extent");
  check_extent(hm_extent, "input_to_heatmap", "heatmap extent");
  return static_cast<float>((static_cast<double>(v_in) + 0.5) * hm_extent / in_extent - 0.5);
}

namespace {

// Interleaved (x, y) coordinates mapped axis by axis with `axis` (one of the
// two conversions above): x from `from_w` to `to_w`, y from `from_h` to `to_h`.
std::vector<float> map_points(const std::vector<float>& points, float (*axis)(float, int, int), int from_w,
                              int from_h, int to_w, int to_h, const char* what) {
  if (points.size() % 2 != 0) throw std::invalid_argument(std::string(what) + ": odd number of coordinates");
  std::vector<float> out(points.size());
  for (std::size_t i = 0; i < points.size(); i += 2) {
    out[i] = axis(points[i], from_w, to_w);
    out[i + 1] = axis(points[i + 1], from_h, to_h);
  }
  return out;
}

}  // namespace

std::vector<float> heatmap_points_to_input(const std::vector<float>& points_hm, int hm_width,
                                           int hm_height, int in_width, int in_height) {
  return map_points(points_hm, heatmap_to_input, hm_width, hm_height, in_width, in_height, "heatmap_points_to_input");
}

std::vector<float> input_points_to_heatmap(const std::vector<float>& points_in, int in_width,
                                           int in_height, int hm_width, int hm_height) {
  return map_points(points_in, input_to_heatmap, in_width, in_height, hm_width, hm_height, "input_points_to_heatmap");
}

void gaussian_heatmaps_into(const float* points_hm, std::size_t n_points, int height, int width,
                            float sigma, HeatmapNorm norm, float* out) {
  check_map_dims(n_points, height, width, "gaussian_heatmaps");
  if (!(sigma > 0) || !std::isfinite(sigma)) {
    throw std::invalid_argument("gaussian_heatmaps: sigma must be finite and > 0");
  }
  const std::size_t plane = map_size(height, width);
  const double inv_two_s2 = 1.0 / (2.0 * static_cast<double>(sigma) * sigma);
  const double full_mass = 2.0 * kPi * static_cast<double>(sigma) * sigma;
  std::vector<float> gx(static_cast<std::size_t>(width)), gy(static_cast<std::size_t>(height));
  for (std::size_t k = 0; k < n_points; ++k) {
    float* m = out + k * plane;
    const double px = points_hm[2 * k], py = points_hm[2 * k + 1];
    if (!std::isfinite(px) || !std::isfinite(py)) {
      std::fill(m, m + plane, 0.0f);
      continue;
    }
    double sx = 0, sy = 0;
    for (int j = 0; j < width; ++j) {
      const double d = j - px;
      gx[j] = static_cast<float>(std::exp(-d * d * inv_two_s2));
      sx += gx[j];
    }
    for (int i = 0; i < height; ++i) {
      const double d = i - py;
      gy[i] = static_cast<float>(std::exp(-d * d * inv_two_s2));
      sy += gy[i];
    }
    float scale = 1.0f;
    if (norm == HeatmapNorm::Sum) {
      // The map is the outer product gy x gx, so its sum is sx * sy.
      const double mass = sx * sy;
      if (mass < kHeatmapMinVisibleMass * full_mass) {
        std::fill(m, m + plane, 0.0f);
        continue;
      }
      scale = static_cast<float>(1.0 / mass);
    }
    for (int i = 0; i < height; ++i) {
      const float row = gy[i] * scale;
      float* r = m + static_cast<std::size_t>(i) * static_cast<std::size_t>(width);
      for (int j = 0; j < width; ++j) r[j] = row * gx[j];
    }
  }
}

std::vector<float> gaussian_heatmaps(const std::vector<float>& points_hm, std::size_t n_points,
                                     int height, int width, float sigma, HeatmapNorm norm) {
  check_map_dims(n_points, height, width, "gaussian_heatmaps");
  check_size(points_hm.size(), 2 * n_points, "gaussian_heatmaps", "points_hm");
  std::vector<float> out(n_points * map_size(height, width));
  gaussian_heatmaps_into(points_hm.data(), n_points, height, width, sigma, norm, out.data());
  return out;
}

std::vector<float> spatial_softmax(const float* logits, std::size_t n_points, int height, int width) {
  check_map_dims(n_points, height, width, "spatial_softmax");
  const std::size_t cells = map_size(height, width);
  std::vector<float> prob(n_points * cells);
  for (std::size_t k = 0; k < n_points; ++k) {
    const float* m = logits + k * cells;
    float* p = prob.data() + k * cells;
    const std::size_t best = finite_argmax(m, cells);
    if (best == cells) {
      std::fill(p, p + cells, kNaN);
      continue;
    }
    const float mx = m[best];  // subtracted so every exponent is <= 0
    double sum = 0;
    for (std::size_t i = 0; i < cells; ++i) {
      p[i] = std::isfinite(m[i]) ? std::exp(m[i] - mx) : 0.f;
      sum += p[i];
    }
    for (std::size_t i = 0; i < cells; ++i) p[i] = static_cast<float>(p[i] / sum);
  }
  return prob;
}

DecodedPoints decode_argmax_refined(const float* maps, std::size_t n_points, int height,
                                    int width) {
  check_map_dims(n_points, height, width, "decode_argmax_refined");
  const std::size_t plane = map_size(height, width);
  DecodedPoints d;
  d.points.resize(2 * n_points);
  d.confidence.resize(n_points);
  for (std::size_t k = 0; k < n_points; ++k) {
    const float* m = maps + k * plane;
    const std::size_t best = finite_argmax(m, plane);
    if (best == plane) {
      d.points[2 * k] = d.points[2 * k + 1] = d.confidence[k] = kNaN;
      continue;
    }
    const int px = static_cast<int>(best % static_cast<std::size_t>(width));
    const int py = static_cast<int>(best / static_cast<std::size_t>(width));
    double x, y;
    refine_peak(m, height, width, px, py, m[best], x, y);
    d.points[2 * k] = static_cast<float>(x);
    d.points[2 * k + 1] = static_cast<float>(y);
    d.confidence[k] = m[best];
  }
  return d;
}

DecodedPoints decode_argmax_refined(const std::vector<float>& maps, std::size_t n_points,
                                    int height, int width) {
  check_map_dims(n_points, height, width, "decode_argmax_refined");
  check_size(maps.size(), n_points * map_size(height, width), "decode_argmax_refined", "maps");
  return decode_argmax_refined(maps.data(), n_points, height, width);
}

std::vector<float> decode_heatmap_logits_normalized(const float* logits, std::size_t n_points, int height,
                                                    int width) {
  const std::vector<float> prob = spatial_softmax(logits, n_points, height, width);
  return decode_probabilities_normalized(prob.data(), n_points, height, width);
}

std::vector<float> decode_probabilities_normalized(const float* prob, std::size_t n_points, int height, int width) {
  const DecodedPoints d = decode_argmax_refined(prob, n_points, height, width);
  std::vector<float> uv(2 * n_points);
  for (std::size_t k = 0; k < n_points; ++k) {
    uv[2 * k] = (d.points[2 * k] + 0.5f) / static_cast<float>(width);
    uv[2 * k + 1] = (d.points[2 * k + 1] + 0.5f) / static_cast<float>(height);
  }
  return uv;
}

DecodedPoints decode_soft_argmax(const float* maps, std::size_t n_points, int height, int width,
                                 float beta) {
  check_map_dims(n_points, height, width, "decode_soft_argmax");
  if (!(beta > 0) || !std::isfinite(beta)) {
    throw std::invalid_argument("decode_soft_argmax: beta must be finite and > 0");
  }
  const std::size_t plane = map_size(height, width);
  DecodedPoints d;
  d.points.resize(2 * n_points);
  d.confidence.resize(n_points);
  for (std::size_t k = 0; k < n_points; ++k) {
    const float* m = maps + k * plane;
    const std::size_t best = finite_argmax(m, plane);
    if (best == plane) {
      d.points[2 * k] = d.points[2 * k + 1] = d.confidence[k] = kNaN;
      continue;
    }
    // Subtracting the maximum keeps every exponent <= 0 (no overflow); the
    // softmax is unchanged. A NaN or inf cell makes the sums, hence the
    // point, NaN, which is the honest answer for a broken map.
    const double peak = m[best];
    double sw = 0, swx = 0, swy = 0;
    for (int i = 0; i < height; ++i) {
      const float* r = m + static_cast<std::size_t>(i) * static_cast<std::size_t>(width);
      double row_w = 0, row_wx = 0;
      for (int j = 0; j < width; ++j) {
        const double w = std::exp(static_cast<double>(beta) * (r[j] - peak));
        row_w += w;
        row_wx += w * j;
      }
      sw += row_w;
      swx += row_wx;
      swy += row_w * i;
    }
    d.points[2 * k] = static_cast<float>(swx / sw);
    d.points[2 * k + 1] = static_cast<float>(swy / sw);
    d.confidence[k] = m[best];
  }
  return d;
}

DecodedPoints decode_soft_argmax(const std::vector<float>& maps, std::size_t n_points, int height,
                                 int width, float beta) {
  check_map_dims(n_points, height, width, "decode_soft_argmax");
  check_size(maps.size(), n_points * map_size(height, width), "decode_soft_argmax", "maps");
  return decode_soft_argmax(maps.data(), n_points, height, width, beta);
}

}  // namespace facekeys
