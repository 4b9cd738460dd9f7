#include "facekeys/head_pose.hpp"

#include <algorithm>
#include <cmath>

namespace facekeys {

namespace {

constexpr double kDeg = 180.0 / 3.14159265358979323846;

// The generic face in the camera's axes (x right, y down, z away from the
// camera), millimetres, origin at the nose tip: the frontal face is R = I.
const std::vector<GenericPoint> kFace = {
    {17, {-52.f, -50.f, 35.f}}, {21, {-12.f, -48.f, 20.f}}, {22, {12.f, -48.f, 20.f}}, {26, {52.f, -50.f, 35.f}},
    {36, {-45.f, -32.f, 30.f}}, {39, {-16.f, -32.f, 24.f}}, {42, {16.f, -32.f, 24.f}}, {45, {45.f, -32.f, 30.f}},
    {27, {0.f, -34.f, 22.f}},   {28, {0.f, -23.f, 15.f}},   {29, {0.f, -11.f, 8.f}},   {30, {0.f, 0.f, 0.f}},
    {31, {-14.f, 12.f, 20.f}},  {32, {-7.f, 15.f, 17.f}},   {33, {0.f, 15.f, 16.f}},   {34, {7.f, 15.f, 17.f}},
    {35, {14.f, 12.f, 20.f}},   {48, {-25.f, 42.f, 30.f}},  {51, {0.f, 30.f, 18.f}},   {54, {25.f, 42.f, 30.f}},
    {57, {0.f, 52.f, 20.f}},    {8, {0.f, 86.f, 28.f}},
};

using Mat3 = std::array<std::array<double, 3>, 3>;

Mat3 rodrigues(const std::array<double, 3>& r) {
  const double th = std::sqrt(r[0] * r[0] + r[1] * r[1] + r[2] * r[2]);
  Mat3 R{};
  if (th < 1e-12) {
    R = {{{1, -r[2], r[1]}, {r[2], 1, -r[0]}, {-r[1], r[0], 1}}};  // first order
    return R;
  }
  const double k[3] = {r[0] / th, r[1] / th, r[2] / th};
  const double c = std::cos(th), s = std::sin(th), v = 1 - c;
  R[0] = {c + k[0] * k[0] * v, k[0] * k[1] * v - k[2] * s, k[0] * k[2] * v + k[1] * s};
  R[1] = {k[1] * k[0] * v + k[2] * s, c + k[1] * k[1] * v, k[1] * k[2] * v - k[0] * s};
  R[2] = {k[2] * k[0] * v - k[1] * s, k[2] * k[1] * v + k[0] * s, c + k[2] * k[2] * v};
  return R;
}

std::array<double, 3> rodrigues_inverse(const Mat3& R) {
  const double c = std::clamp((R[0][0] + R[1][1] + R[2][2] - 1) / 2, -1.0, 1.0);
  const double th = std::acos(c);
  if (th < 1e-9) return {0, 0, 0};
  if (3.14159265358979323846 - th < 1e-6) {  // a half turn: the axis from R + I
    std::array<double, 3> k{std::sqrt(std::max(0.0, (R[0][0] + 1) / 2)), std::sqrt(std::max(0.0, (R[1][1] + 1) / 2)),
                            std::sqrt(std::max(0.0, (R[2][2] + 1) / 2))};
    if (R[0][1] < 0) k[1] = -k[1];
    if (R[0][2] < 0) k[2] = -k[2];
    return {k[0] * th, k[1] * th, k[2] * th};
  }
  const double s = 2 * std::sin(th);
  return {(R[2][1] - R[1][2]) / s * th, (R[0][2] - R[2][0]) / s * th, (R[1][0] - R[0][1]) / s * th};
}

Mat3 mul(const Mat3& a, const Mat3& b) {
  Mat3 m{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) m[i][j] = a[i][0] * b[0][j] + a[i][1] * b[1][j] + a[i][2] * b[2][j];
  return m;
}

// Solves A x = b (n x n, row-major, partial pivoting); false when singular.
bool solve(std::vector<double> A, std::vector<double> b, int n, std::vector<double>& x) {
  for (int c = 0; c < n; ++c) {
    int p = c;
    for (int r = c + 1; r < n; ++r)
      if (std::abs(A[r * n + c]) > std::abs(A[p * n + c])) p = r;
    if (std::abs(A[p * n + c]) < 1e-12) return false;
    for (int k = 0; k < n; ++k) std::swap(A[c * n + k], A[p * n + k]);
    std::swap(b[c], b[p]);
    for (int r = c + 1; r < n; ++r) {
      const double f = A[r * n + c] / A[c * n + c];
      for (int k = c; k < n; ++k) A[r * n + k] -= f * A[c * n + k];
      b[r] -= f * b[c];
    }
  }
  x.assign(n, 0);
  for (int r = n - 1; r >= 0; --r) {
    double s = b[r];
    for (int k = r + 1; k < n; ++k) s -= A[r * n + k] * x[k];
    x[r] = s / A[r * n + r];
  }
  return true;
}

struct Pair {
  Point3f X;
  Point2f p;
};

// Residuals (2 per point) of the pose p = (rotation, translation).
void residuals(const std::vector<Pair>& pairs, const double* p, const PinholeCamera& cam, std::vector<double>& out) {
  const Mat3 R = rodrigues({p[0], p[1], p[2]});
  out.resize(2 * pairs.size());
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    const Point3f& X = pairs[i].X;
    const double x = R[0][0] * X.x + R[0][1] * X.y + R[0][2] * X.z + p[3];
    const double y = R[1][0] * X.x + R[1][1] * X.y + R[1][2] * X.z + p[4];
    const double z = std::max(1e-6, R[2][0] * X.x + R[2][1] * X.y + R[2][2] * X.z + p[5]);
    out[2 * i] = cam.f * x / z + cam.cx - pairs[i].p.x;
    out[2 * i + 1] = cam.f * y / z + cam.cy - pairs[i].p.y;
  }
}

double sum_sq(const std::vector<double>& r) {
  double s = 0;
  for (double v : r) s += v * v;
  return s;
}

// A first pose from a scaled orthographic fit: [u v] = s * R(0:2) * X + (a, b),
// its rows made orthonormal; depth from the scale.
void initial_pose(const std::vector<Pair>& pairs, const PinholeCamera& cam, double* p) {
  double mx = 0, my = 0, mz = 0, mu = 0, mv = 0;
  for (const Pair& q : pairs) {
    mx += q.X.x, my += q.X.y, mz += q.X.z, mu += q.p.x, mv += q.p.y;
  }
  const double n = static_cast<double>(pairs.size());
  mx /= n, my /= n, mz /= n, mu /= n, mv /= n;
  std::vector<double> A(9, 0), bu(3, 0), bv(3, 0);
  for (const Pair& q : pairs) {
    const double x[3] = {q.X.x - mx, q.X.y - my, q.X.z - mz};
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 3; ++j) A[i * 3 + j] += x[i] * x[j];
      bu[i] += x[i] * (q.p.x - mu);
      bv[i] += x[i] * (q.p.y - mv);
    }
  }
  std::vector<double> r1, r2;
  if (!solve(A, bu, 3, r1) || !solve(A, bv, 3, r2)) {
    p[0] = p[1] = p[2] = 0;
  } else {
    const double n1 = std::sqrt(r1[0] * r1[0] + r1[1] * r1[1] + r1[2] * r1[2]);
    const double n2 = std::sqrt(r2[0] * r2[0] + r2[1] * r2[1] + r2[2] * r2[2]);
    const double s = 0.5 * (n1 + n2);
    double a[3] = {r1[0] / n1, r1[1] / n1, r1[2] / n1}, b[3] = {r2[0] / n2, r2[1] / n2, r2[2] / n2};
    // Gram-Schmidt, then the third row as the cross product.
    const double d = a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    for (int i = 0; i < 3; ++i) b[i] -= d * a[i];
    const double nb = std::sqrt(b[0] * b[0] + b[1] * b[1] + b[2] * b[2]);
    for (double& v : b) v /= nb;
    Mat3 R{};
    R[0] = {a[0], a[1], a[2]};
    R[1] = {b[0], b[1], b[2]};
    R[2] = {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
    const std::array<double, 3> r = rodrigues_inverse(R);
    p[0] = r[0], p[1] = r[1], p[2] = r[2];
    const double z = cam.f / std::max(1e-9, s);
    // The centroid of the points goes through its image.
    const double cxm = R[0][0] * mx + R[0][1] * my + R[0][2] * mz;
    const double cym = R[1][0] * mx + R[1][1] * my + R[1][2] * mz;
    const double czm = R[2][0] * mx + R[2][1] * my + R[2][2] * mz;
    p[5] = z - czm;
    p[3] = (mu - cam.cx) * z / cam.f - cxm;
    p[4] = (mv - cam.cy) * z / cam.f - cym;
    return;
  }
  p[3] = p[4] = 0;
  p[5] = 500;
}

}  // namespace

const std::vector<GenericPoint>& generic_face68() { return kFace; }

PinholeCamera default_camera(int width, int height) {
  PinholeCamera c;
  c.f = std::max(width, height);
  // Pixel centres at integers: the image's centre is at ((W - 1) / 2, (H - 1) / 2).
  c.cx = (width - 1) / 2.0;
  c.cy = (height - 1) / 2.0;
  return c;
}

Point2f project_point(const Point3f& X, const std::array<double, 3>& rotation, const std::array<double, 3>& translation,
                      const PinholeCamera& camera) {
  const double p[6] = {rotation[0], rotation[1], rotation[2], translation[0], translation[1], translation[2]};
  std::vector<double> r;
  residuals({Pair{X, Point2f{0.f, 0.f}}}, p, camera, r);
  return Point2f{static_cast<float>(r[0]), static_cast<float>(r[1])};
}

std::array<double, 3> rotation_from_angles(double yaw, double pitch, double roll) {
  // R = Rz(roll) * Ry(-yaw) * Rx(-pitch) in the camera's axes (x right, y down, z forward).
  const double a = roll / kDeg, b = -yaw / kDeg, c = -pitch / kDeg;
  const Mat3 Rz = {{{std::cos(a), -std::sin(a), 0}, {std::sin(a), std::cos(a), 0}, {0, 0, 1}}};
  const Mat3 Ry = {{{std::cos(b), 0, std::sin(b)}, {0, 1, 0}, {-std::sin(b), 0, std::cos(b)}}};
  const Mat3 Rx = {{{1, 0, 0}, {0, std::cos(c), -std::sin(c)}, {0, std::sin(c), std::cos(c)}}};
  return rodrigues_inverse(mul(Rz, mul(Ry, Rx)));
}

void angles_from_rotation(const std::array<double, 3>& rotation, double& yaw, double& pitch, double& roll) {
  const Mat3 R = rodrigues(rotation);
  const double b = std::asin(std::clamp(-R[2][0], -1.0, 1.0));
  const double c = std::atan2(R[2][1], R[2][2]);
  const double a = std::atan2(R[1][0], R[0][0]);
  yaw = -b * kDeg;
  pitch = -c * kDeg;
  roll = a * kDeg;
}

bool head_pose(const std::vector<Point2f>& points68, const PinholeCamera& camera, HeadPose& pose) {
  if (points68.size() != 68) return false;
  std::vector<Pair> pairs;
  for (const GenericPoint& g : kFace) {
    const Point2f& p = points68[static_cast<std::size_t>(g.index)];
    if (std::isfinite(p.x) && std::isfinite(p.y)) pairs.push_back(Pair{g.where, p});
  }
  if (pairs.size() < 6) return false;
  double p[6];
  initial_pose(pairs, camera, p);
  if (p[5] <= 0) p[5] = 500;  // in front of the camera
  // Levenberg-Marquardt on the reprojection error, numerical Jacobian.
  std::vector<double> r, rt;
  residuals(pairs, p, camera, r);
  double cost = sum_sq(r), lambda = 1e-3;
  const std::size_t m = r.size();
  for (int it = 0; it < 100; ++it) {
    std::vector<double> J(m * 6);
    for (int k = 0; k < 6; ++k) {
      const double h = k < 3 ? 1e-6 : 1e-4 * std::max(1.0, std::abs(p[k]));
      double q[6];
      std::copy(p, p + 6, q);
      q[k] += h;
      residuals(pairs, q, camera, rt);
      for (std::size_t i = 0; i < m; ++i) J[i * 6 + k] = (rt[i] - r[i]) / h;
    }
    std::vector<double> JtJ(36, 0), Jtr(6, 0);
    for (std::size_t i = 0; i < m; ++i)
      for (int a = 0; a < 6; ++a) {
        Jtr[a] -= J[i * 6 + a] * r[i];
        for (int b = 0; b < 6; ++b) JtJ[a * 6 + b] += J[i * 6 + a] * J[i * 6 + b];
      }
    bool improved = false;
    for (int tries = 0; tries < 10 && !improved; ++tries) {
      std::vector<double> A = JtJ, d;
      for (int a = 0; a < 6; ++a) A[a * 6 + a] *= 1 + lambda;
      if (!solve(A, Jtr, 6, d)) {
        lambda *= 10;
        continue;
      }
      double q[6];
      for (int k = 0; k < 6; ++k) q[k] = p[k] + d[k];
      residuals(pairs, q, camera, rt);
      const double c = sum_sq(rt);
      if (c < cost) {
        const double gain = cost - c;
        std::copy(q, q + 6, p);
        r = rt;
        cost = c;
        lambda = std::max(1e-9, lambda / 10);
        improved = true;
        if (gain < 1e-12 * std::max(1.0, cost)) it = 100;  // converged
      } else {
        lambda *= 10;
      }
    }
    if (!improved) break;
  }
  if (!std::isfinite(cost) || p[5] <= 0) return false;
  pose.rotation = {p[0], p[1], p[2]};
  pose.translation = {p[3], p[4], p[5]};
  pose.rms_px = std::sqrt(cost / static_cast<double>(pairs.size()));
  angles_from_rotation(pose.rotation, pose.yaw, pose.pitch, pose.roll);
  return true;
}

}  // namespace facekeys
