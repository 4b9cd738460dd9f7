#include "facekeys/face_openness.hpp"

#include <cmath>

namespace facekeys {

namespace {

double dist(const Point2f& a, const Point2f& b) { return std::hypot(double(a.x) - b.x, double(a.y) - b.y); }

// sum of |top_k - bottom_k| over the pairs, divided by (pairs * |corner_a - corner_b|); NaN when undefined.
double aspect(const std::vector<Point2f>& p, int a, int b, const std::vector<std::pair<int, int>>& pairs) {
  const double w = dist(p[a], p[b]);
  if (!(w > 0)) return NAN;
  double h = 0;
  for (const auto& [t, u] : pairs) h += dist(p[t], p[u]);
  return h / (pairs.size() * w);
}

}  // namespace

bool face_openness(const std::vector<Point2f>& p, FaceOpenness& out) {
  if (p.size() != 68) return false;
  const double right = aspect(p, 36, 39, {{37, 41}, {38, 40}});
  const double left = aspect(p, 42, 45, {{43, 47}, {44, 46}});
  const double mouth = aspect(p, 60, 64, {{61, 67}, {62, 66}, {63, 65}});
  if (!std::isfinite(right) || !std::isfinite(left) || !std::isfinite(mouth)) return false;
  out = FaceOpenness{left, right, mouth};
  return true;
}

}  // namespace facekeys
