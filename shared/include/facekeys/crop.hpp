// Face crops: choosing the crop box, mapping images and points into it and back.
//
// Box convention: a Box is a rectangle in *continuous* pixel coordinates, on the
// same axes as landmark points (pixel centres at integers, docs/CONVENTIONS.md).
// It covers [x, x + w] x [y, y + h]; (x, y) is the top-left *corner*, not the
// centre of the top-left pixel. Consequences:
//   - the whole W x H image is Box{-0.5f, -0.5f, W, H};
//   - an integer pixel rectangle (cv::Rect, detector output: columns
//     col .. col+width-1) is box_from_pixel_rect(col, row, width, height)
//     = Box{col - 0.5f, row - 0.5f, width, height};
//   - a crop box maps onto the *extent* [-0.5, out-0.5] of the output image, so
//     normalised crop coordinates are simply u = (x - box.x) / box.w, whatever
//     the output resolution.
#pragma once

#include <vector>

#include "facekeys/geometry.hpp"
#include "facekeys/image.hpp"

namespace facekeys {

struct Box {
    float x = 0.f;  // left edge
    float y = 0.f;  // top edge
    float w = 0.f;
    float h = 0.f;

    Point2f center() const { return Point2f{x + 0.5f * w, y + 0.5f * h}; }
};

// Box covering the pixels of an integer pixel rectangle. Throws if width or
// height <= 0.
Box box_from_pixel_rect(int col, int row, int width, int height);

// How a crop box is grown from a face box.
struct CropPolicy {
    float margin = 1.3f;         // crop side = face box side * margin
    bool square = true;          // use the longer (enlarged) side for both sides
    float center_shift_y = 0.f;  // moves the centre down by this fraction of the face box height
};

// Enlarged (and, if asked, square) box with the same centre, shifted by
// center_shift_y. It may extend outside the image; crop_image pads there.
// Throws std::invalid_argument on a non-finite or non-positive-size box, or a
// margin that is not finite and > 0.
Box crop_box_from_box(const Box& face_box, const CropPolicy& policy = CropPolicy{});

// The tight bounding box of the points (min..max of x and y; the points lie
// on its edges; zero width or height when they line up). Throws
// std::invalid_argument on no points or a non-finite point.
Box points_box(const std::vector<Point2f>& points);

// Same, starting from the tight bounding box of the points (min..max of x and
// y; the points lie on its edges). Throws on no points, non-finite points, or
// a bounding box of zero size (zero width or height when !policy.square).
Box crop_box_from_points(const std::vector<Point2f>& points, const CropPolicy& policy = CropPolicy{});

// Image pixels -> crop pixels: the box's extent maps exactly onto the output
// extent [-0.5, out_w-0.5] x [-0.5, out_h-0.5]. Throws on a degenerate box or
// non-positive output size.
Affine2D crop_transform(const Box& crop_box, int out_width, int out_height);

// warp_affine(src, crop_transform(crop_box, out), out), padding outside the image.
// Note that this is plain bilinear sampling: for large reductions the caller
// should first resize() the image (and scale the box) to avoid aliasing.
ImageU8 crop_image(ViewU8 src, const Box& crop_box, int out_width, int out_height,
                   Border border = Border::Constant, float border_value = 0.f);
ImageF32 crop_image(ViewF32 src, const Box& crop_box, int out_width, int out_height,
                    Border border = Border::Constant, float border_value = 0.f);

// crop_image for any reduction: when the crop is larger than the output, the
// whole image is first shrunk with resize() (area averaging) so that the crop
// is sampled at about 1:1 (bilinear sampling alone would alias), then cropped
// with a zero border. The result is the crop_transform(crop_box, out) frame
// either way. How `facekeys pack ibug` made the training crops, and so how
// every front end must crop a face for those models (keypoint_pipeline.hpp).
ImageU8 crop_image_prefiltered(ViewU8 src, const Box& crop_box, int out_width, int out_height);

// Point mappings, all computed in double from the box directly (not via a
// matrix inverse) so round trips agree to float precision.
// Image pixels <-> crop pixels of an out_width x out_height crop.
std::vector<Point2f> image_to_crop(const std::vector<Point2f>& points, const Box& crop_box, int out_width,
                                   int out_height);
std::vector<Point2f> crop_to_image(const std::vector<Point2f>& points, const Box& crop_box, int out_width,
                                   int out_height);
// Image pixels <-> normalised crop coordinates (what the models predict):
// u = (x - box.x) / box.w, v = (y - box.y) / box.h. Equal to
// to_normalized(image_to_crop(points, box, W, H), W, H) for any W, H.
std::vector<Point2f> image_to_crop_normalized(const std::vector<Point2f>& points, const Box& crop_box);
std::vector<Point2f> crop_normalized_to_image(const std::vector<Point2f>& points, const Box& crop_box);

}  // namespace facekeys
