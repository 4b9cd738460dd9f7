#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "support/catch.hpp"

#include "support/test_helpers.hpp"

#include "facekeys/image.hpp"

using facekeys::Affine2D;
using facekeys::Border;
using facekeys::ImageF32;
using facekeys::ImageU8;
using facekeys::testing::random_u8;
using facekeys::ImageView;
using facekeys::ViewF32;
using facekeys::ViewU8;

namespace {

ImageF32 to_float(const ImageU8& img) {
    ImageF32 out(img.width(), img.height(), img.channels());
    for (std::size_t i = 0; i < img.size(); ++i) out.data()[i] = img.data()[i];
    return out;
}

// A smooth image: bilinear quantisation effects stay far below one grey level.
ImageU8 smooth_u8(int w, int h) {
    ImageU8 img(w, h, 1);
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            img.at(x, y) = static_cast<std::uint8_t>(std::lround(127.5 + 100.0 * std::sin(x * 0.05) * std::cos(y * 0.04)));
        }
    }
    return img;
}

}  // namespace

TEST_CASE("image: Image owns a packed, interleaved buffer", "[image]") {
    ImageU8 img(3, 2, 3, 7);
    CHECK(img.width() == 3);
    CHECK(img.height() == 2);
    CHECK(img.channels() == 3);
    CHECK(img.stride() == 9);
    CHECK(img.size() == 18);
    CHECK(img.at(2, 1, 2) == 7);
    img.at(1, 1, 2) = 42;
    // Row-major, interleaved: (x=1, y=1, c=2) is element 1*9 + 1*3 + 2.
    CHECK(img.data()[14] == 42);
    CHECK(img.row(1)[5] == 42);

    ImageF32 f(2, 2, 1);
    CHECK(f.at(1, 1) == 0.f);
    CHECK(ImageU8().empty());

    std::vector<std::uint8_t> taken = img.release();
    CHECK(taken.size() == 18);
    CHECK(img.empty());
    CHECK(img.width() == 0);
}

TEST_CASE("image: bad image sizes, channels and indices throw", "[image]") {
    CHECK_THROWS_AS(ImageU8(0, 5, 1), std::invalid_argument);
    CHECK_THROWS_AS(ImageU8(5, -1, 1), std::invalid_argument);
    CHECK_THROWS_AS(ImageU8(5, 5, 2), std::invalid_argument);
    CHECK_THROWS_AS(ImageU8(5, 5, 0), std::invalid_argument);
    CHECK_THROWS_AS(ImageF32(5, 5, 5), std::invalid_argument);
    // Far more elements than any address space holds.
    CHECK_THROWS_AS(ImageF32(std::numeric_limits<int>::max(), std::numeric_limits<int>::max(), 4),
                    std::invalid_argument);
    CHECK_THROWS_AS(ImageU8(facekeys::kMaxImageSide + 1, 1, 1), std::invalid_argument);
    CHECK_THROWS_AS(ImageU8(1 << 16, 1 << 15, 1), std::invalid_argument);  // 2^31 elements
    ImageU8 img(4, 3, 1);
    CHECK_THROWS_AS(img.at(4, 0), std::invalid_argument);
    CHECK_THROWS_AS(img.at(0, 3), std::invalid_argument);
    CHECK_THROWS_AS(img.at(-1, 0), std::invalid_argument);
    CHECK_THROWS_AS(img.at(0, 0, 1), std::invalid_argument);
    CHECK_THROWS_AS(img.row(3), std::invalid_argument);
}

TEST_CASE("image: ImageView wraps external strided buffers without copying", "[image]") {
    // 3x2 RGBA-like buffer with 2 elements of padding per row (stride 14).
    std::vector<std::uint8_t> buf(28, 0);
    for (int y = 0; y < 2; ++y)
        for (int x = 0; x < 3; ++x)
            for (int c = 0; c < 4; ++c) buf[y * 14 + x * 4 + c] = static_cast<std::uint8_t>(100 * y + 10 * x + c);
    ImageView<std::uint8_t> v(buf.data(), 3, 2, 4, 14);
    CHECK(v.stride() == 14);
    CHECK(v.at(2, 1, 3) == 123);
    v.at(0, 0, 0) = 99;
    CHECK(buf[0] == 99);  // a view, not a copy
    ViewU8 cv = v;  // mutable -> read-only
    CHECK(cv.at(1, 1, 2) == 112);
    CHECK(cv.row(1) == buf.data() + 14);

    const ImageU8 copy = ImageU8::copy_of(cv);
    CHECK(copy.stride() == 12);
    CHECK(copy.at(2, 1, 3) == 123);
    CHECK(copy.at(0, 0, 0) == 99);

    ImageU8 owned(2, 2, 1, 5);
    ViewU8 ov = owned;  // an image converts to a view of itself
    CHECK(ov.data() == owned.data());
    CHECK(ov.stride() == 2);

    CHECK_THROWS_AS(ImageView<std::uint8_t>(nullptr, 3, 2, 4), std::invalid_argument);
    CHECK_THROWS_AS(ImageView<std::uint8_t>(buf.data(), 3, 2, 4, 11), std::invalid_argument);  // stride < row
    CHECK_THROWS_AS(ImageView<std::uint8_t>(buf.data(), 3, 2, 2), std::invalid_argument);
    CHECK_THROWS_AS(ImageView<std::uint8_t>(buf.data(), 0, 2, 1), std::invalid_argument);
    CHECK_THROWS_AS(ImageView<std::uint8_t>(buf.data(), 3, 2, 4, -14), std::invalid_argument);
    CHECK_THROWS_AS(ImageView<std::uint8_t>(buf.data(), 3, 1 << 30, 4, std::numeric_limits<std::ptrdiff_t>::max() / 2),
                    std::invalid_argument);
    CHECK_THROWS_AS(v.at(3, 0, 0), std::invalid_argument);
    CHECK_THROWS_AS(v.at(0, 0, 4), std::invalid_argument);
    CHECK_THROWS_AS(ImageU8::copy_of(ViewU8()), std::invalid_argument);
}

TEST_CASE("image: rgb_to_gray uses BT.601 weights, rounded to nearest", "[image]") {
    ImageU8 rgb(5, 1, 3);
    const int colours[5][3] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {255, 255, 255}, {0, 0, 0}};
    for (int x = 0; x < 5; ++x)
        for (int c = 0; c < 3; ++c) rgb.at(x, 0, c) = static_cast<std::uint8_t>(colours[x][c]);
    const ImageU8 g = facekeys::rgb_to_gray(rgb);
    REQUIRE(g.channels() == 1);
    CHECK(g.at(0, 0) == 76);   // 0.299 * 255 = 76.245
    CHECK(g.at(1, 0) == 150);  // 0.587 * 255 = 149.685
    CHECK(g.at(2, 0) == 29);   // 0.114 * 255 = 29.07
    CHECK(g.at(3, 0) == 255);
    CHECK(g.at(4, 0) == 0);

    std::mt19937 rng(1);
    const ImageU8 rgba = random_u8(64, 48, 4, rng);
    const ImageU8 gray = facekeys::rgb_to_gray(rgba);
    int max_diff = 0;
    int exact = 0;
    for (int y = 0; y < 48; ++y) {
        for (int x = 0; x < 64; ++x) {
            const double ideal = 0.299 * rgba.at(x, y, 0) + 0.587 * rgba.at(x, y, 1) + 0.114 * rgba.at(x, y, 2);
            const int d = std::abs(gray.at(x, y) - static_cast<int>(std::lround(ideal)));
            max_diff = std::max(max_diff, d);
            exact += d == 0;
        }
    }
    CHECK(max_diff <= 1);
    CHECK(exact >= 64 * 48 * 99 / 100);  // only near-ties may round the other way

    // Alpha is ignored.
    ImageU8 rgba2 = ImageU8::copy_of(rgba);
    for (int y = 0; y < 48; ++y)
        for (int x = 0; x < 64; ++x) rgba2.at(x, y, 3) = static_cast<std::uint8_t>(255 - rgba2.at(x, y, 3));
    CHECK(facekeys::rgb_to_gray(rgba2).pixels() == gray.pixels());

    CHECK_THROWS_AS(facekeys::rgb_to_gray(ImageU8(2, 2, 1)), std::invalid_argument);
    CHECK_THROWS_AS(facekeys::rgb_to_gray(ViewU8()), std::invalid_argument);
    const ImageU8 one(3, 3, 1, 9);
    CHECK(facekeys::to_gray(one).pixels() == one.pixels());
    CHECK(facekeys::to_gray(rgba).pixels() == gray.pixels());
}

TEST_CASE("image: sample_bilinear puts pixel centres at integers", "[image]") {
    ImageU8 img(3, 2, 1);
    const std::uint8_t v[2][3] = {{0, 100, 200}, {50, 150, 250}};
    for (int y = 0; y < 2; ++y)
        for (int x = 0; x < 3; ++x) img.at(x, y) = v[y][x];

    for (int y = 0; y < 2; ++y)
        for (int x = 0; x < 3; ++x) CHECK(facekeys::sample_bilinear(img, x, y) == v[y][x]);
    CHECK(facekeys::sample_bilinear(img, 0.5, 0.0) == 50.f);
    CHECK(facekeys::sample_bilinear(img, 0.0, 0.5) == 25.f);
    CHECK(facekeys::sample_bilinear(img, 0.5, 0.5) == 75.f);
    CHECK(facekeys::sample_bilinear(img, 1.25, 0.0) == 125.f);

    // Constant border: taps outside read the constant, so the edge fades over one pixel.
    CHECK(facekeys::sample_bilinear(img, -0.5, 0.0, 0, Border::Constant, 40.f) == 20.f);
    CHECK(facekeys::sample_bilinear(img, -1.0, 0.0, 0, Border::Constant, 40.f) == 40.f);
    CHECK(facekeys::sample_bilinear(img, 2.0, 1.0, 0, Border::Constant, 40.f) == 250.f);
    CHECK(facekeys::sample_bilinear(img, 1e30, 0.0, 0, Border::Constant, 40.f) == 40.f);
    // Replicate: the edge pixel continues outwards.
    CHECK(facekeys::sample_bilinear(img, -3.0, 0.0, 0, Border::Replicate) == 0.f);
    CHECK(facekeys::sample_bilinear(img, 7.0, 5.0, 0, Border::Replicate) == 250.f);
    CHECK(facekeys::sample_bilinear(img, 2.5, 0.5, 0, Border::Replicate) == 225.f);
    CHECK(facekeys::sample_bilinear(img, -1e30, 1e30, 0, Border::Replicate) == 50.f);

    ImageF32 rgb(2, 1, 3);
    rgb.at(0, 0, 2) = 1.f;
    rgb.at(1, 0, 2) = 2.f;
    CHECK(facekeys::sample_bilinear(rgb, 0.5, 0.0, 2) == 1.5f);
    CHECK(facekeys::sample_bilinear(rgb, 0.5, 0.0, 1) == 0.f);

    CHECK_THROWS_AS(facekeys::sample_bilinear(img, std::nan(""), 0.0), std::invalid_argument);
    CHECK_THROWS_AS(facekeys::sample_bilinear(img, 0.0, INFINITY), std::invalid_argument);
    CHECK_THROWS_AS(facekeys::sample_bilinear(img, 0.0, 0.0, 1), std::invalid_argument);
    CHECK_THROWS_AS(facekeys::sample_bilinear(rgb, 0.0, 0.0, -1), std::invalid_argument);
    CHECK_THROWS_AS(facekeys::sample_bilinear(img, 0.0, 0.0, 0, Border::Constant, NAN), std::invalid_argument);
    CHECK_THROWS_AS(facekeys::sample_bilinear(ViewF32(), 0.0, 0.0), std::invalid_argument);
}

TEST_CASE("image: warp_affine with identity or integer shifts moves pixels exactly", "[image]") {
    std::mt19937 rng(2);
    const ImageU8 img = random_u8(17, 11, 3, rng);
    for (Border b : {Border::Constant, Border::Replicate}) {
        CHECK(facekeys::warp_affine(img, Affine2D::identity(), 17, 11, b).pixels() == img.pixels());
        const ImageF32 f = to_float(img);
        CHECK(facekeys::warp_affine(f, Affine2D::identity(), 17, 11, b).pixels() == f.pixels());
    }
    // Source pixel (x, y) lands at (x + 3, y - 2).
    const ImageU8 shifted = facekeys::warp_affine(img, Affine2D::translation(3.0, -2.0), 20, 10, Border::Constant, 77.f);
    for (int y = 0; y < 10; ++y) {
        for (int x = 0; x < 20; ++x) {
            for (int c = 0; c < 3; ++c) {
                const int sx = x - 3, sy = y + 2;
                const bool inside = sx >= 0 && sx < 17 && sy >= 0 && sy < 11;
                CHECK(shifted.at(x, y, c) == (inside ? img.at(sx, sy, c) : 77));
            }
        }
    }
    // A horizontal flip of the image onto itself.
    const ImageU8 flipped = facekeys::warp_affine(img, facekeys::horizontal_flip(17), 17, 11);
    for (int y = 0; y < 11; ++y)
        for (int x = 0; x < 17; ++x) CHECK(flipped.at(x, y, 1) == img.at(16 - x, y, 1));
}

TEST_CASE("image: warp_affine samples the source at the inverse map", "[image]") {
    std::mt19937 rng(4);
    const Affine2D M = facekeys::compose(Affine2D::translation(5.3, -2.1),
                                         Affine2D::rotation_about(facekeys::Point2f{20.f, 15.f}, 23.0, 1.37));
    const Affine2D Mi = M.inverse();

    // Float: exact bilinear at the inverse map.
    const ImageF32 f = to_float(random_u8(40, 30, 1, rng));
    for (Border b : {Border::Constant, Border::Replicate}) {
        const ImageF32 w = facekeys::warp_affine(f, M, 50, 45, b, 12.5f);
        for (int y = 0; y < 45; ++y) {
            for (int x = 0; x < 50; ++x) {
                const facekeys::Point2f s = Mi.apply(facekeys::Point2f{static_cast<float>(x), static_cast<float>(y)});
                const float expected = facekeys::sample_bilinear(f, s.x, s.y, 0, b, 12.5f);
                CHECK(w.at(x, y) == Approx(expected).margin(5e-3));
            }
        }
    }

    // u8: positions are rounded to 1/32 px, which on a smooth image changes
    // values by well under one level.
    const ImageU8 s = smooth_u8(120, 90);
    const ImageU8 w = facekeys::warp_affine(s, M, 100, 80, Border::Replicate);
    int max_diff = 0;
    for (int y = 0; y < 80; ++y) {
        for (int x = 0; x < 100; ++x) {
            const facekeys::Point2f p = Mi.apply(facekeys::Point2f{static_cast<float>(x), static_cast<float>(y)});
            const float expected = facekeys::sample_bilinear(s, p.x, p.y, 0, Border::Replicate);
            max_diff = std::max(max_diff, std::abs(w.at(x, y) - static_cast<int>(std::lround(expected))));
        }
    }
    CHECK(max_diff <= 1);
}

TEST_CASE("image: warp_affine rejects bad arguments and survives absurd maps", "[image]") {
    const ImageU8 img(8, 8, 1, 9);
    CHECK_THROWS_AS(facekeys::warp_affine(img, Affine2D::scaling(0.0), 8, 8), std::invalid_argument);
    CHECK_THROWS_AS(facekeys::warp_affine(img, Affine2D::identity(), 0, 8), std::invalid_argument);
    CHECK_THROWS_AS(facekeys::warp_affine(img, Affine2D::identity(), 8, -8), std::invalid_argument);
    CHECK_THROWS_AS(facekeys::warp_affine(ViewU8(), Affine2D::identity(), 8, 8), std::invalid_argument);
    CHECK_THROWS_AS(facekeys::warp_affine(img, Affine2D::identity(), 8, 8, Border::Constant, NAN), std::invalid_argument);
    Affine2D inf = Affine2D::identity();
    inf.c = INFINITY;
    CHECK_THROWS_AS(facekeys::warp_affine(img, inf, 8, 8), std::invalid_argument);

    // Maps that send everything astronomically far away: border everywhere, no UB.
    const ImageU8 far = facekeys::warp_affine(img, Affine2D::translation(1e15, -1e15), 4, 4, Border::Constant, 3.f);
    for (std::uint8_t v : far.pixels()) CHECK(v == 3);
    const ImageU8 rep = facekeys::warp_affine(img, Affine2D::scaling(1e-12), 4, 4, Border::Replicate);
    for (std::uint8_t v : rep.pixels()) CHECK(v == 9);
    const ImageF32 ff = facekeys::warp_affine(to_float(img), Affine2D::translation(-1e300, 0.0), 3, 3, Border::Constant, -1.f);
    for (float v : ff.pixels()) CHECK(v == -1.f);
    // The u8 border value is rounded and clamped like cv::saturate_cast.
    const ImageU8 clamped = facekeys::warp_affine(img, Affine2D::translation(100.0, 0.0), 2, 2, Border::Constant, 300.f);
    CHECK(clamped.at(0, 0) == 255);
}

TEST_CASE("image: resize known values", "[image]") {
    // Enlarging: bilinear with half-pixel centres, edges replicated.
    ImageU8 row(2, 1, 1);
    row.at(0, 0) = 0;
    row.at(1, 0) = 100;
    const ImageU8 up = facekeys::resize(row, 4, 1);
    CHECK(up.at(0, 0) == 0);
    CHECK(up.at(1, 0) == 25);
    CHECK(up.at(2, 0) == 75);
    CHECK(up.at(3, 0) == 100);

    // Shrinking by a non-integer factor: area weights. 3 -> 2 px: cells of 1.5 px.
    ImageU8 three(3, 1, 1);
    three.at(0, 0) = 0;
    three.at(1, 0) = 30;
    three.at(2, 0) = 60;
    const ImageU8 two = facekeys::resize(three, 2, 1);
    CHECK(two.at(0, 0) == 10);  // (0 + 0.5*30) / 1.5
    CHECK(two.at(1, 0) == 50);  // (0.5*30 + 60) / 1.5

    // Shrinking by integer factors: block means.
    ImageF32 blocks(4, 4, 1);
    for (int y = 0; y < 4; ++y)
        for (int x = 0; x < 4; ++x) blocks.at(x, y) = static_cast<float>(x + 4 * y);
    const ImageF32 half = facekeys::resize(blocks, 2, 2);
    CHECK(half.at(0, 0) == Approx(2.5f));
    CHECK(half.at(1, 0) == Approx(4.5f));
    CHECK(half.at(0, 1) == Approx(10.5f));
    CHECK(half.at(1, 1) == Approx(12.5f));
    const ImageF32 mean = facekeys::resize_area(blocks, 1, 1);
    CHECK(mean.at(0, 0) == Approx(7.5f));
}

TEST_CASE("image: resize keeps constants constant and sizes right", "[image]") {
    const ImageU8 flat(37, 23, 3, 201);
    const int sizes[][2] = {{37, 23}, {10, 7}, {36, 22}, {19, 23}, {100, 50}, {50, 10}, {1, 1}, {74, 46}};
    for (const auto& s : sizes) {
        const ImageU8 r = facekeys::resize(flat, s[0], s[1]);
        CHECK(r.width() == s[0]);
        CHECK(r.height() == s[1]);
        CHECK(r.channels() == 3);
        for (std::uint8_t v : r.pixels()) REQUIRE(v == 201);
    }
    std::mt19937 rng(6);
    const ImageU8 img = random_u8(13, 9, 1, rng);
    CHECK(facekeys::resize(img, 13, 9).pixels() == img.pixels());
    CHECK(facekeys::resize_bilinear(img, 13, 9).pixels() == img.pixels());
    CHECK(facekeys::resize_area(img, 13, 9).pixels() == img.pixels());
    // Integer area shrink preserves the mean (up to per-pixel rounding).
    const ImageU8 big = random_u8(60, 40, 1, rng);
    const ImageU8 small = facekeys::resize(big, 20, 10);
    double sum_big = 0, sum_small = 0;
    for (std::uint8_t v : big.pixels()) sum_big += v;
    for (std::uint8_t v : small.pixels()) sum_small += v;
    CHECK(sum_small / small.size() == Approx(sum_big / big.size()).margin(0.5));

    CHECK_THROWS_AS(facekeys::resize(img, 0, 5), std::invalid_argument);
    CHECK_THROWS_AS(facekeys::resize(img, 5, -1), std::invalid_argument);
    CHECK_THROWS_AS(facekeys::resize(ViewU8(), 5, 5), std::invalid_argument);
    CHECK_THROWS_AS(facekeys::resize_area(img, 14, 9), std::invalid_argument);
    CHECK_THROWS_AS(facekeys::resize_bilinear(ViewF32(), 5, 5), std::invalid_argument);
    // Absurd output sizes are refused up front, not attempted.
    const int huge = std::numeric_limits<int>::max();
    CHECK_THROWS_AS(facekeys::resize(img, huge, huge), std::invalid_argument);
    CHECK_THROWS_AS(facekeys::warp_affine(img, Affine2D::identity(), huge, huge), std::invalid_argument);
}

TEST_CASE("image: to_model_input maps grey levels with (v/255 - mean)/std", "[image]") {
    ImageU8 g(3, 1, 1);
    g.at(0, 0) = 0;
    g.at(1, 0) = 255;
    g.at(2, 0) = 51;
    const ImageF32 m = facekeys::to_model_input(g);
    REQUIRE(m.channels() == 1);
    CHECK(m.at(0, 0) == -1.f);
    CHECK(m.at(1, 0) == 1.f);
    CHECK(m.at(2, 0) == Approx(-0.6f).margin(1e-6));
    const ImageF32 m2 = facekeys::to_model_input(g, 0.2f, 0.25f);
    CHECK(m2.at(2, 0) == Approx(0.0f).margin(1e-6));
    CHECK(m2.at(1, 0) == Approx(3.2f).margin(1e-5));

    CHECK_THROWS_AS(facekeys::to_model_input(ImageU8(2, 2, 3)), std::invalid_argument);
    CHECK_THROWS_AS(facekeys::to_model_input(g, 0.5f, 0.f), std::invalid_argument);
    CHECK_THROWS_AS(facekeys::to_model_input(g, 0.5f, -1.f), std::invalid_argument);
    CHECK_THROWS_AS(facekeys::to_model_input(g, NAN, 0.5f), std::invalid_argument);
    CHECK_THROWS_AS(facekeys::to_model_input(ViewU8(), 0.5f, 0.5f), std::invalid_argument);
}

TEST_CASE("image: rotate_and_mirror shows each EXIF orientation upright", "[image]") {
    // 3x2 RGBA source, every pixel distinct; out(x, y) per the EXIF definitions.
    const int W = 3, H = 2;
    ImageU8 src(W, H, 4);
    for (int y = 0; y < H; ++y)
        for (int x = 0; x < W; ++x)
            for (int c = 0; c < 4; ++c) src.at(x, y, c) = static_cast<std::uint8_t>(16 * (x + W * y) + c);
    struct Case { int exif, turns; bool mirror; };
    const Case cases[] = {{1, 0, false}, {2, 0, true}, {3, 2, false}, {4, 2, true},
                          {5, 1, true},  {6, 1, false}, {7, 3, true}, {8, 3, false}};
    for (const Case& k : cases) {
        INFO("EXIF orientation " << k.exif);
        const ImageU8 out = facekeys::rotate_and_mirror(src, k.turns, k.mirror);
        const bool swap = k.exif >= 5;
        REQUIRE(out.width() == (swap ? H : W));
        REQUIRE(out.height() == (swap ? W : H));
        for (int y = 0; y < out.height(); ++y) {
            for (int x = 0; x < out.width(); ++x) {
                int sx = x, sy = y;  // the stored pixel shown at (x, y)
                switch (k.exif) {
                    case 2: sx = W - 1 - x; break;
                    case 3: sx = W - 1 - x, sy = H - 1 - y; break;
                    case 4: sy = H - 1 - y; break;
                    case 5: sx = y, sy = x; break;
                    case 6: sx = y, sy = H - 1 - x; break;
                    case 7: sx = W - 1 - y, sy = H - 1 - x; break;
                    case 8: sx = W - 1 - y, sy = x; break;
                    default: break;
                }
                for (int c = 0; c < 4; ++c) CHECK(out.at(x, y, c) == src.at(sx, sy, c));
            }
        }
    }
    // turns are taken modulo 4
    const ImageU8 a = facekeys::rotate_and_mirror(src, -1, false), b = facekeys::rotate_and_mirror(src, 3, false);
    CHECK(std::vector<std::uint8_t>(a.data(), a.data() + a.size()) == std::vector<std::uint8_t>(b.data(), b.data() + b.size()));
    CHECK(facekeys::rotate_and_mirror(src, 5, false).width() == H);
    CHECK_THROWS_AS(facekeys::rotate_and_mirror(ViewU8(), 1, false), std::invalid_argument);
}
