#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

#include "support/catch.hpp"

#include "support/test_helpers.hpp"

#include "facekeys/crop.hpp"

using facekeys::Affine2D;
using facekeys::Border;
using facekeys::Box;
using facekeys::CropPolicy;
using facekeys::ImageF32;
using facekeys::ImageU8;
using facekeys::testing::random_u8;
using facekeys::Point2f;

TEST_CASE("crop: boxes are continuous rectangles on the point axes", "[crop]") {
    const Box b = facekeys::box_from_pixel_rect(10, 20, 30, 40);
    CHECK(b.x == 9.5f);
    CHECK(b.y == 19.5f);
    CHECK(b.w == 30.f);
    CHECK(b.h == 40.f);
    CHECK(b.center().x == 24.5f);  // midway between pixel centres 10 and 39
    CHECK(b.center().y == 39.5f);
    CHECK_THROWS_AS(facekeys::box_from_pixel_rect(0, 0, 0, 5), std::invalid_argument);
    CHECK_THROWS_AS(facekeys::box_from_pixel_rect(0, 0, 5, -5), std::invalid_argument);
}

TEST_CASE("crop: crop_box_from_box enlarges about the centre", "[crop]") {
    const Box face{0.f, 0.f, 100.f, 50.f};
    const Box sq = facekeys::crop_box_from_box(face);  // margin 1.3, square
    CHECK(sq.w == Approx(130.f));
    CHECK(sq.h == Approx(130.f));
    CHECK(sq.x == Approx(-15.f));
    CHECK(sq.y == Approx(-40.f));

    CropPolicy rect;
    rect.square = false;
    rect.margin = 2.f;
    const Box r = facekeys::crop_box_from_box(face, rect);
    CHECK(r.x == Approx(-50.f));
    CHECK(r.y == Approx(-25.f));
    CHECK(r.w == Approx(200.f));
    CHECK(r.h == Approx(100.f));

    CropPolicy shifted;
    shifted.margin = 1.f;
    shifted.center_shift_y = 0.1f;  // 10% of the face box height, downwards
    const Box s = facekeys::crop_box_from_box(face, shifted);
    CHECK(s.center().x == Approx(50.f));
    CHECK(s.center().y == Approx(30.f));
    CHECK(s.w == Approx(100.f));
    CHECK(s.h == Approx(100.f));

    CHECK_THROWS_AS(facekeys::crop_box_from_box(Box{0.f, 0.f, 0.f, 10.f}), std::invalid_argument);
    CHECK_THROWS_AS(facekeys::crop_box_from_box(Box{0.f, 0.f, 10.f, -1.f}), std::invalid_argument);
    CHECK_THROWS_AS(facekeys::crop_box_from_box(Box{NAN, 0.f, 10.f, 10.f}), std::invalid_argument);
    CropPolicy bad;
    bad.margin = 0.f;
    CHECK_THROWS_AS(facekeys::crop_box_from_box(face, bad), std::invalid_argument);
    bad.margin = INFINITY;
    CHECK_THROWS_AS(facekeys::crop_box_from_box(face, bad), std::invalid_argument);
    bad.margin = 1.f;
    bad.center_shift_y = NAN;
    CHECK_THROWS_AS(facekeys::crop_box_from_box(face, bad), std::invalid_argument);
}

TEST_CASE("crop: crop_box_from_points grows the points' bounding box", "[crop]") {
    const std::vector<Point2f> pts{{10.f, 20.f}, {30.f, 60.f}, {15.f, 40.f}};
    CropPolicy p;
    p.margin = 1.f;
    const Box b = facekeys::crop_box_from_points(pts, p);
    CHECK(b.x == Approx(0.f));
    CHECK(b.y == Approx(20.f));
    CHECK(b.w == Approx(40.f));
    CHECK(b.h == Approx(40.f));
    const Box m = facekeys::crop_box_from_points(pts);  // margin 1.3
    CHECK(m.w == Approx(52.f));
    CHECK(m.center().x == Approx(20.f));
    CHECK(m.center().y == Approx(40.f));

    // A vertical line of points still gives a square box, but not a free rectangle.
    const std::vector<Point2f> line{{5.f, 0.f}, {5.f, 10.f}};
    CHECK(facekeys::crop_box_from_points(line, p).w == Approx(10.f));
    CropPolicy rect = p;
    rect.square = false;
    CHECK_THROWS_AS(facekeys::crop_box_from_points(line, rect), std::invalid_argument);
    CHECK_THROWS_AS(facekeys::crop_box_from_points(std::vector<Point2f>{{1.f, 1.f}}), std::invalid_argument);
    CHECK_THROWS_AS(facekeys::crop_box_from_points({}), std::invalid_argument);
    CHECK_THROWS_AS(facekeys::crop_box_from_points(std::vector<Point2f>{{1.f, 1.f}, {NAN, 2.f}}), std::invalid_argument);
}

TEST_CASE("crop: points_box is the tight box the points lie on", "[crop]") {
    const Box b = facekeys::points_box({{10.f, 20.f}, {30.f, 60.f}, {15.f, 40.f}});
    CHECK(b.x == 10.f);
    CHECK(b.y == 20.f);
    CHECK(b.w == 20.f);
    CHECK(b.h == 40.f);
    const Box line = facekeys::points_box({{5.f, 0.f}, {5.f, 10.f}});
    CHECK(line.w == 0.f);
    CHECK(line.h == 10.f);
    CHECK_THROWS_WITH(facekeys::points_box({}), "points_box: no points");
    CHECK_THROWS_WITH(facekeys::points_box({{1.f, INFINITY}}), "points_box: non-finite point");
}

TEST_CASE("crop: crop_transform maps the box extent onto the output extent", "[crop]") {
    const Box b{12.25f, -30.5f, 80.f, 64.f};
    const Affine2D T = facekeys::crop_transform(b, 96, 48);
    const Point2f tl = T.apply(Point2f{b.x, b.y});
    CHECK(tl.x == Approx(-0.5f).margin(1e-5));
    CHECK(tl.y == Approx(-0.5f).margin(1e-5));
    const Point2f br = T.apply(Point2f{b.x + b.w, b.y + b.h});
    CHECK(br.x == Approx(95.5f).margin(1e-5));
    CHECK(br.y == Approx(47.5f).margin(1e-5));
    const Point2f c = T.apply(b.center());
    CHECK(c.x == Approx(47.5f).margin(1e-5));
    CHECK(c.y == Approx(23.5f).margin(1e-5));

    // The whole-image box at the image's own size is the identity.
    const Affine2D I = facekeys::crop_transform(Box{-0.5f, -0.5f, 64.f, 48.f}, 64, 48);
    CHECK(I.a == 1.0);
    CHECK(I.c == 0.0);
    CHECK(I.e == 1.0);
    CHECK(I.f == 0.0);

    CHECK_THROWS_AS(facekeys::crop_transform(b, 0, 48), std::invalid_argument);
    CHECK_THROWS_AS(facekeys::crop_transform(Box{0.f, 0.f, 0.f, 1.f}, 10, 10), std::invalid_argument);
}

namespace {

// Random boxes inside an image of the given size, random points around them
// (up to half a box outside), random crop resolutions; checks every mapping
// direction against the others.
void check_round_trips(float image_size, float tolerance, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> unit(0.f, 1.f);
    std::uniform_int_distribution<int> out(8, 512);
    for (int k = 0; k < 50; ++k) {
        const float side_w = 20.f + unit(rng) * (image_size / 2);
        const float side_h = 20.f + unit(rng) * (image_size / 2);
        const Box b{unit(rng) * (image_size - side_w), unit(rng) * (image_size - side_h), side_w, side_h};
        const int W = out(rng), H = out(rng);
        std::vector<Point2f> pts;
        for (int i = 0; i < 68; ++i) {
            pts.push_back(Point2f{b.x + (2.f * unit(rng) - 0.5f) * b.w, b.y + (2.f * unit(rng) - 0.5f) * b.h});
        }
        const auto in_crop = facekeys::image_to_crop(pts, b, W, H);
        const auto back = facekeys::crop_to_image(in_crop, b, W, H);
        const auto norm = facekeys::image_to_crop_normalized(pts, b);
        const auto via_pixels = facekeys::to_normalized(in_crop, W, H);
        const auto back_norm = facekeys::crop_normalized_to_image(norm, b);
        REQUIRE(back.size() == pts.size());
        REQUIRE(back_norm.size() == pts.size());
        for (std::size_t i = 0; i < pts.size(); ++i) {
            INFO("box " << b.x << "," << b.y << " " << b.w << "x" << b.h << " -> " << W << "x" << H << ", point "
                        << pts[i].x << "," << pts[i].y);
            CHECK(std::fabs(back[i].x - pts[i].x) <= tolerance);
            CHECK(std::fabs(back[i].y - pts[i].y) <= tolerance);
            CHECK(std::fabs(back_norm[i].x - pts[i].x) <= tolerance);
            CHECK(std::fabs(back_norm[i].y - pts[i].y) <= tolerance);
            CHECK(norm[i].x == Approx(via_pixels[i].x).margin(1e-6));
            CHECK(norm[i].y == Approx(via_pixels[i].y).margin(1e-6));
        }
    }
}

}  // namespace

TEST_CASE("crop: points round-trip image -> crop -> image", "[crop]") {
    // Dataset-sized images (IMM 640x480): within 1e-4 px. Coordinates stay
    // below 1024, where one float step is 6.1e-5 px.
    check_round_trips(800.f, 1e-4f, 21);
    // 12-megapixel photos: a float coordinate near 4000 is only stored to
    // 2.4e-4 px, so the budget there is one float step plus the same 1e-4.
    check_round_trips(4000.f, 3.5e-4f, 22);

    const Box b{3.7f, -2.2f, 41.f, 37.f};
    const std::vector<Point2f> pts{{0.f, 0.f}, {10.3f, 20.7f}, {44.f, 34.9f}, {-3.f, 50.f}};
    CHECK_THROWS_AS(facekeys::image_to_crop(pts, b, 96, -1), std::invalid_argument);
    CHECK_THROWS_AS(facekeys::crop_to_image(pts, b, 0, 96), std::invalid_argument);
    CHECK_THROWS_AS(facekeys::image_to_crop_normalized(pts, Box{}), std::invalid_argument);
    CHECK_THROWS_AS(facekeys::crop_normalized_to_image(pts, Box{0.f, 0.f, -1.f, 1.f}), std::invalid_argument);
}

TEST_CASE("crop: crop_image cuts, scales and pads", "[crop]") {
    std::mt19937 rng(8);
    const ImageU8 img = random_u8(40, 30, 3, rng);
    // Whole image at its own size: identical.
    CHECK(facekeys::crop_image(img, Box{-0.5f, -0.5f, 40.f, 30.f}, 40, 30).pixels() == img.pixels());
    // Pixel rectangle at native resolution: an exact sub-image.
    const ImageU8 sub = facekeys::crop_image(img, facekeys::box_from_pixel_rect(5, 7, 10, 8), 10, 8);
    for (int y = 0; y < 8; ++y)
        for (int x = 0; x < 10; ++x)
            for (int c = 0; c < 3; ++c) CHECK(sub.at(x, y, c) == img.at(x + 5, y + 7, c));
    // Partly outside: padded with the border value (or the edge when replicating).
    const ImageU8 pad = facekeys::crop_image(img, facekeys::box_from_pixel_rect(-4, -4, 8, 8), 8, 8, Border::Constant, 17.f);
    CHECK(pad.at(0, 0, 0) == 17);
    CHECK(pad.at(3, 3, 1) == 17);
    CHECK(pad.at(4, 4, 2) == img.at(0, 0, 2));
    CHECK(pad.at(7, 5, 0) == img.at(3, 1, 0));
    const ImageU8 rep = facekeys::crop_image(img, facekeys::box_from_pixel_rect(-4, -4, 8, 8), 8, 8, Border::Replicate);
    CHECK(rep.at(0, 0, 0) == img.at(0, 0, 0));
    CHECK(rep.at(6, 1, 1) == img.at(2, 0, 1));

    // Float crops sample the source where crop_to_image says each output pixel comes from.
    ImageF32 f(40, 30, 1);
    for (int y = 0; y < 30; ++y)
        for (int x = 0; x < 40; ++x) f.at(x, y) = img.at(x, y, 0);
    const Box b{3.3f, 2.9f, 25.f, 21.f};
    const ImageF32 fc = facekeys::crop_image(f, b, 32, 32);
    for (int y = 0; y < 32; ++y) {
        for (int x = 0; x < 32; ++x) {
            const Point2f s = facekeys::crop_to_image({Point2f{static_cast<float>(x), static_cast<float>(y)}}, b, 32, 32)[0];
            CHECK(fc.at(x, y) == Approx(facekeys::sample_bilinear(f, s.x, s.y)).margin(5e-3));
        }
    }
    CHECK_THROWS_AS(facekeys::crop_image(img, Box{0.f, 0.f, 0.f, 5.f}, 8, 8), std::invalid_argument);
    CHECK_THROWS_AS(facekeys::crop_image(img, b, 8, 0), std::invalid_argument);
}
