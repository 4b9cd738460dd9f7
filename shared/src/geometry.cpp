#include "facekeys/geometry.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace facekeys {

namespace {

void require_size(int width, int height, const char* what) {
    if (width <= 0 || height <= 0) {
        throw std::invalid_argument(std::string(what) + ": image size must be positive, got " +
                                    std::to_string(width) + "x" + std::to_string(height));
    }
}

}  // namespace

Affine2D Affine2D::identity() { return Affine2D{}; }

Affine2D Affine2D::translation(double dx, double dy) {
    Affine2D m;
    m.c = dx;
    m.f = dy;
    return m;
}

Affine2D Affine2D::scaling(double sx, double sy) {
    Affine2D m;
    m.a = sx;
    m.e = sy;
    return m;
}

Affine2D Affine2D::scaling(double s) { return scaling(s, s); }

Affine2D Affine2D::rotation_about(Point2f center, double degrees, double scale) {
    // Written exactly as OpenCV's getRotationMatrix2D so matrices built here can be
    // compared with (and substituted for) ones built by OpenCV-based tools.
    const double angle = degrees * (3.14159265358979323846 / 180.0);
    const double alpha = std::cos(angle) * scale;
    const double beta = std::sin(angle) * scale;
    const double cx = center.x;
    const double cy = center.y;
    Affine2D m;
    m.a = alpha;
    m.b = beta;
    m.c = (1.0 - alpha) * cx - beta * cy;
    m.d = -beta;
    m.e = alpha;
    m.f = beta * cx + (1.0 - alpha) * cy;
    return m;
}

double Affine2D::determinant() const { return a * e - b * d; }

bool Affine2D::is_finite() const {
    return std::isfinite(a) && std::isfinite(b) && std::isfinite(c) && std::isfinite(d) &&
           std::isfinite(e) && std::isfinite(f);
}

Affine2D Affine2D::inverse() const {
    if (!is_finite()) {
        throw std::invalid_argument("Affine2D::inverse: matrix has non-finite coefficients");
    }
    const double det = determinant();
    // Relative test: an absolute threshold would reject legitimate tiny scalings
    // (e.g. 12 MP photo -> 1 px) and accept nearly degenerate large ones.
    const double size = (std::fabs(a) + std::fabs(b)) * (std::fabs(d) + std::fabs(e));
    if (det == 0.0 || !std::isfinite(det) || std::fabs(det) <= 1e-12 * size) {
        throw std::invalid_argument("Affine2D::inverse: matrix is singular (determinant " +
                                    std::to_string(det) + ")");
    }
    const double inv = 1.0 / det;
    Affine2D m;
    m.a = e * inv;
    m.b = -b * inv;
    m.d = -d * inv;
    m.e = a * inv;
    m.c = -(m.a * c + m.b * f);
    m.f = -(m.d * c + m.e * f);
    if (!m.is_finite()) {
        throw std::invalid_argument("Affine2D::inverse: inverse overflows");
    }
    return m;
}

Point2f Affine2D::apply(Point2f p) const {
    const double x = p.x;
    const double y = p.y;
    return Point2f{static_cast<float>(a * x + b * y + c), static_cast<float>(d * x + e * y + f)};
}

std::vector<Point2f> Affine2D::apply(const std::vector<Point2f>& points) const {
    std::vector<Point2f> out;
    out.reserve(points.size());
    for (const Point2f& p : points) out.push_back(apply(p));
    return out;
}

Affine2D compose(const Affine2D& A, const Affine2D& B) {
    Affine2D m;
    m.a = A.a * B.a + A.b * B.d;
    m.b = A.a * B.b + A.b * B.e;
    m.c = A.a * B.c + A.b * B.f + A.c;
    m.d = A.d * B.a + A.e * B.d;
    m.e = A.d * B.b + A.e * B.e;
    m.f = A.d * B.c + A.e * B.f + A.f;
    return m;
}

Affine2D horizontal_flip(int width) {
    if (width <= 0) {
        throw std::invalid_argument("horizontal_flip: width must be positive, got " +
                                    std::to_string(width));
    }
    Affine2D m;
    m.a = -1.0;
    m.c = static_cast<double>(width) - 1.0;
    return m;
}

Point2f to_normalized(Point2f p, int width, int height) {
    require_size(width, height, "to_normalized");
    return Point2f{static_cast<float>((static_cast<double>(p.x) + 0.5) / width),
                   static_cast<float>((static_cast<double>(p.y) + 0.5) / height)};
}

Point2f from_normalized(Point2f p, int width, int height) {
    require_size(width, height, "from_normalized");
    return Point2f{static_cast<float>(static_cast<double>(p.x) * width - 0.5),
                   static_cast<float>(static_cast<double>(p.y) * height - 0.5)};
}

std::vector<Point2f> to_normalized(const std::vector<Point2f>& points, int width, int height) {
    require_size(width, height, "to_normalized");
    std::vector<Point2f> out;
    out.reserve(points.size());
    for (const Point2f& p : points) out.push_back(to_normalized(p, width, height));
    return out;
}

std::vector<Point2f> from_normalized(const std::vector<Point2f>& points, int width, int height) {
    require_size(width, height, "from_normalized");
    std::vector<Point2f> out;
    out.reserve(points.size());
    for (const Point2f& p : points) out.push_back(from_normalized(p, width, height));
    return out;
}

}  // namespace facekeys
