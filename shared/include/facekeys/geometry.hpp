// Points, affine maps and the normalised-coordinate convention (docs/CONVENTIONS.md).
//
// Pixel coordinates put pixel centres at integers: the image of width W spans
// [-0.5, W-0.5]. Normalised coordinates are u = (x + 0.5) / W, v = (y + 0.5) / H,
// so [0, 1] covers the whole image and a horizontal flip is u' = 1 - u.
#pragma once

#include <vector>

namespace facekeys {

// Points are stored as float (that is what models and annotation files carry);
// every matrix computation is done in double so chains of maps stay exact to
// well below 1e-4 px on 12-megapixel photos.
struct Point2f {
    float x = 0.f;
    float y = 0.f;
};

// 2x3 affine map [a b c; d e f]: (x, y) -> (a x + b y + c, d x + e y + f).
// Same layout and direction as the matrix cv::warpAffine takes without
// WARP_INVERSE_MAP, so a matrix can be copied element by element.
struct Affine2D {
    double a = 1.0, b = 0.0, c = 0.0;
    double d = 0.0, e = 1.0, f = 0.0;

    static Affine2D identity();
    static Affine2D translation(double dx, double dy);
    // Scaling about the origin (0, 0), i.e. about the centre of pixel (0, 0).
    static Affine2D scaling(double sx, double sy);
    static Affine2D scaling(double s);
    // Identical to cv::getRotationMatrix2D(center, degrees, scale): positive angles
    // turn the image counter-clockwise *as displayed* (y axis pointing down).
    static Affine2D rotation_about(Point2f center, double degrees, double scale = 1.0);

    double determinant() const;
    bool is_finite() const;
    // Throws std::invalid_argument when the map is singular (or nearly so,
    // relative to the size of its coefficients) or not finite.
    Affine2D inverse() const;

    Point2f apply(Point2f p) const;
    std::vector<Point2f> apply(const std::vector<Point2f>& points) const;
};

// compose(A, B) applies B first, then A (matrix product A * B).
Affine2D compose(const Affine2D& A, const Affine2D& B);

// Mirror of an image of width W about its vertical centre line: x' = W - 1 - x.
// It is its own inverse. Throws if width <= 0.
Affine2D horizontal_flip(int width);

// Pixel <-> normalised coordinates for an image of size width x height.
// Throw std::invalid_argument if width or height <= 0.
Point2f to_normalized(Point2f p, int width, int height);
Point2f from_normalized(Point2f p, int width, int height);
std::vector<Point2f> to_normalized(const std::vector<Point2f>& points, int width, int height);
std::vector<Point2f> from_normalized(const std::vector<Point2f>& points, int width, int height);

}  // namespace facekeys
