#include "facekeys/crop.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace facekeys {

namespace {

void require_box(const Box& b, const char* what) {
    if (!std::isfinite(b.x) || !std::isfinite(b.y) || !std::isfinite(b.w) || !std::isfinite(b.h)) {
        throw std::invalid_argument(std::string(what) + ": box has non-finite values");
    }
    if (!(b.w > 0.f) || !(b.h > 0.f)) {
        throw std::invalid_argument(std::string(what) + ": box size must be positive, got " +
                                    std::to_string(b.w) + "x" + std::to_string(b.h));
    }
}

void require_out_size(int w, int h, const char* what) {
    if (w <= 0 || h <= 0) {
        throw std::invalid_argument(std::string(what) + ": output size must be positive, got " +
                                    std::to_string(w) + "x" + std::to_string(h));
    }
}

void require_policy(const CropPolicy& p, const char* what) {
    if (!std::isfinite(p.margin) || !(p.margin > 0.f)) {
        throw std::invalid_argument(std::string(what) + ": margin must be finite and > 0, got " +
                                    std::to_string(p.margin));
    }
    if (!std::isfinite(p.center_shift_y)) {
        throw std::invalid_argument(std::string(what) + ": center_shift_y must be finite");
    }
}

// Shared by both crop-box builders; w or h may be 0 here only when square.
// min..max of the points' x and y, in double.
struct Extent {
    double x0, x1, y0, y1;
};
Extent extent_of(const std::vector<Point2f>& points, const char* what) {
    if (points.empty()) throw std::invalid_argument(std::string(what) + ": no points");
    Extent e{points.front().x, points.front().x, points.front().y, points.front().y};
    for (const Point2f& p : points) {
        if (!std::isfinite(p.x) || !std::isfinite(p.y)) throw std::invalid_argument(std::string(what) + ": non-finite point");
        e.x0 = std::min<double>(e.x0, p.x);
        e.x1 = std::max<double>(e.x1, p.x);
        e.y0 = std::min<double>(e.y0, p.y);
        e.y1 = std::max<double>(e.y1, p.y);
    }
    return e;
}

Box grow(double cx, double cy, double w, double h, const CropPolicy& p) {
    cy += static_cast<double>(p.center_shift_y) * h;
    double out_w = w * p.margin;
    double out_h = h * p.margin;
    if (p.square) out_w = out_h = std::max(out_w, out_h);
    return Box{static_cast<float>(cx - 0.5 * out_w), static_cast<float>(cy - 0.5 * out_h),
               static_cast<float>(out_w), static_cast<float>(out_h)};
}

}  // namespace

Box box_from_pixel_rect(int col, int row, int width, int height) {
    if (width <= 0 || height <= 0) {
        throw std::invalid_argument("box_from_pixel_rect: size must be positive, got " + std::to_string(width) +
                                    "x" + std::to_string(height));
    }
    return Box{static_cast<float>(col - 0.5), static_cast<float>(row - 0.5), static_cast<float>(width),
               static_cast<float>(height)};
}

Box crop_box_from_box(const Box& face_box, const CropPolicy& policy) {
    require_box(face_box, "crop_box_from_box");
    require_policy(policy, "crop_box_from_box");
    const double w = face_box.w;
    const double h = face_box.h;
    return grow(face_box.x + 0.5 * w, face_box.y + 0.5 * h, w, h, policy);
}

Box points_box(const std::vector<Point2f>& points) {
    const Extent e = extent_of(points, "points_box");
    return Box{static_cast<float>(e.x0), static_cast<float>(e.y0), static_cast<float>(e.x1 - e.x0),
               static_cast<float>(e.y1 - e.y0)};
}

Box crop_box_from_points(const std::vector<Point2f>& points, const CropPolicy& policy) {
    const Extent e = extent_of(points, "crop_box_from_points");
    require_policy(policy, "crop_box_from_points");
    const double w = e.x1 - e.x0;
    const double h = e.y1 - e.y0;
    if (policy.square ? !(std::max(w, h) > 0.0) : !(w > 0.0 && h > 0.0)) {
        throw std::invalid_argument("crop_box_from_points: the points' bounding box has zero size");
    }
    return grow(0.5 * (e.x0 + e.x1), 0.5 * (e.y0 + e.y1), w, h, policy);
}

Affine2D crop_transform(const Box& crop_box, int out_width, int out_height) {
    require_box(crop_box, "crop_transform");
    require_out_size(out_width, out_height, "crop_transform");
    // x' = (x - box.x) * out/box.w - 0.5 sends box.x -> -0.5 and box.x + box.w -> out - 0.5.
    const double sx = out_width / static_cast<double>(crop_box.w);
    const double sy = out_height / static_cast<double>(crop_box.h);
    Affine2D m;
    m.a = sx;
    m.b = 0.0;
    m.c = -static_cast<double>(crop_box.x) * sx - 0.5;
    m.d = 0.0;
    m.e = sy;
    m.f = -static_cast<double>(crop_box.y) * sy - 0.5;
    return m;
}

ImageU8 crop_image_prefiltered(ViewU8 src, const Box& crop_box, int out_width, int out_height) {
    require_box(crop_box, "crop_image_prefiltered");
    require_out_size(out_width, out_height, "crop_image_prefiltered");
    if (src.empty()) throw std::invalid_argument("crop_image_prefiltered: empty image");
    const int W = src.width(), H = src.height();
    const double shrink = std::min(1.0, std::min(static_cast<double>(out_width) / crop_box.w,
                                                 static_cast<double>(out_height) / crop_box.h));
    if (shrink >= 1.0) return crop_image(src, crop_box, out_width, out_height);
    const int sw = std::max(1, static_cast<int>(std::lround(W * shrink)));
    const int sh = std::max(1, static_cast<int>(std::lround(H * shrink)));
    const ImageU8 small = resize(src, sw, sh);
    // The same box in the shrunk image's pixels (pixel centres scale about -0.5).
    const float sx = static_cast<float>(sw) / W, sy = static_cast<float>(sh) / H;
    const Box b{sx * (crop_box.x + 0.5f) - 0.5f, sy * (crop_box.y + 0.5f) - 0.5f, sx * crop_box.w, sy * crop_box.h};
    return crop_image(small.view(), b, out_width, out_height);
}

ImageU8 crop_image(ViewU8 src, const Box& crop_box, int out_width, int out_height, Border border,
                   float border_value) {
    return warp_affine(src, crop_transform(crop_box, out_width, out_height), out_width, out_height, border,
                       border_value);
}

ImageF32 crop_image(ViewF32 src, const Box& crop_box, int out_width, int out_height, Border border,
                    float border_value) {
    return warp_affine(src, crop_transform(crop_box, out_width, out_height), out_width, out_height, border,
                       border_value);
}

std::vector<Point2f> image_to_crop(const std::vector<Point2f>& points, const Box& crop_box, int out_width,
                                   int out_height) {
    return crop_transform(crop_box, out_width, out_height).apply(points);
}

std::vector<Point2f> crop_to_image(const std::vector<Point2f>& points, const Box& crop_box, int out_width,
                                   int out_height) {
    require_box(crop_box, "crop_to_image");
    require_out_size(out_width, out_height, "crop_to_image");
    const double kx = static_cast<double>(crop_box.w) / out_width;
    const double ky = static_cast<double>(crop_box.h) / out_height;
    std::vector<Point2f> out;
    out.reserve(points.size());
    for (const Point2f& p : points) {
        out.push_back(Point2f{static_cast<float>((p.x + 0.5) * kx + crop_box.x),
                              static_cast<float>((p.y + 0.5) * ky + crop_box.y)});
    }
    return out;
}

std::vector<Point2f> image_to_crop_normalized(const std::vector<Point2f>& points, const Box& crop_box) {
    require_box(crop_box, "image_to_crop_normalized");
    std::vector<Point2f> out;
    out.reserve(points.size());
    for (const Point2f& p : points) {
        out.push_back(Point2f{static_cast<float>((static_cast<double>(p.x) - crop_box.x) / crop_box.w),
                              static_cast<float>((static_cast<double>(p.y) - crop_box.y) / crop_box.h)});
    }
    return out;
}

std::vector<Point2f> crop_normalized_to_image(const std::vector<Point2f>& points, const Box& crop_box) {
    require_box(crop_box, "crop_normalized_to_image");
    std::vector<Point2f> out;
    out.reserve(points.size());
    for (const Point2f& p : points) {
        out.push_back(Point2f{static_cast<float>(static_cast<double>(p.x) * crop_box.w + crop_box.x),
                              static_cast<float>(static_cast<double>(p.y) * crop_box.h + crop_box.y)});
    }
    return out;
}

}  // namespace facekeys
