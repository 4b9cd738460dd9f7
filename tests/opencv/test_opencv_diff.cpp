// Differential tests: the core's image operations against OpenCV 4 on random
// content, random sizes and random maps. Random u8 noise is the hardest case:
// neighbouring pixels differ by up to 255, so any difference in sample
// positions or weights shows up. The contract is <= 1 grey level everywhere,
// including the border bands (no pixel is excluded).
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "support/catch.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>

#include "facekeys/crop.hpp"
#include "facekeys/geometry.hpp"
#include "facekeys/image.hpp"

using facekeys::Affine2D;
using facekeys::Border;
using facekeys::ImageF32;
using facekeys::ImageU8;

namespace {

constexpr unsigned kSeed = 20240601u;

cv::Mat random_mat(int w, int h, int channels, std::mt19937& rng) {
    cv::Mat m(h, w, CV_8UC(channels));
    std::uniform_int_distribution<int> v(0, 255);
    for (int y = 0; y < h; ++y) {
        std::uint8_t* r = m.ptr<std::uint8_t>(y);
        for (int i = 0; i < w * channels; ++i) r[i] = static_cast<std::uint8_t>(v(rng));
    }
    return m;
}

facekeys::ViewU8 view_of(const cv::Mat& m) {
    REQUIRE(m.depth() == CV_8U);
    return facekeys::ViewU8(m.ptr<std::uint8_t>(), m.cols, m.rows, m.channels(),
                            static_cast<std::ptrdiff_t>(m.step1()));
}

facekeys::ViewF32 view_of_f32(const cv::Mat& m) {
    REQUIRE(m.depth() == CV_32F);
    return facekeys::ViewF32(m.ptr<float>(), m.cols, m.rows, m.channels(), static_cast<std::ptrdiff_t>(m.step1()));
}

struct Diff {
    int max = 0;
    long differing = 0;
    long total = 0;
    std::string where;
};

template <class T>
double max_abs_diff_f(const facekeys::Image<T>& ours, const cv::Mat& ref) {
    REQUIRE(ours.width() == ref.cols);
    REQUIRE(ours.height() == ref.rows);
    REQUIRE(ours.channels() == ref.channels());
    double worst = 0;
    for (int y = 0; y < ref.rows; ++y) {
        const T* r = ref.ptr<T>(y);
        const T* o = ours.row(y);
        for (int i = 0; i < ref.cols * ref.channels(); ++i) worst = std::max(worst, std::fabs(double(o[i]) - double(r[i])));
    }
    return worst;
}

Diff compare(const ImageU8& ours, const cv::Mat& ref) {
    REQUIRE(ours.width() == ref.cols);
    REQUIRE(ours.height() == ref.rows);
    REQUIRE(ours.channels() == ref.channels());
    Diff d;
    const int C = ref.channels();
    for (int y = 0; y < ref.rows; ++y) {
        const std::uint8_t* r = ref.ptr<std::uint8_t>(y);
        const std::uint8_t* o = ours.row(y);
        for (int i = 0; i < ref.cols * C; ++i) {
            const int e = std::abs(int(o[i]) - int(r[i]));
            ++d.total;
            if (e) ++d.differing;
            if (e > d.max) {
                d.max = e;
                std::ostringstream s;
                s << "worst at x=" << i / C << " y=" << y << " c=" << i % C << ": ours " << int(o[i]) << ", OpenCV "
                  << int(r[i]);
                d.where = s.str();
            }
        }
    }
    return d;
}

cv::Mat to_cv(const Affine2D& m) { return (cv::Mat_<double>(2, 3) << m.a, m.b, m.c, m.d, m.e, m.f); }

}  // namespace

TEST_CASE("opencv: warp_affine matches cv::warpAffine INTER_LINEAR within 1 level", "[opencv][warp]") {
    std::mt19937 rng(kSeed);
    std::uniform_int_distribution<int> size(1, 160);
    std::uniform_real_distribution<double> angle(-180.0, 180.0);
    std::uniform_real_distribution<double> log_scale(std::log(0.5), std::log(2.0));
    std::uniform_real_distribution<double> shear(-0.4, 0.4);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    long differing = 0, total = 0;
    for (int k = 0; k < 50; ++k) {
        const int W = size(rng), H = size(rng);
        const int channels = (k % 5 == 4) ? 4 : (k % 2 ? 3 : 1);
        const cv::Mat src = random_mat(W, H, channels, rng);
        const int out_w = size(rng), out_h = size(rng);
        Affine2D sh = Affine2D::identity();
        sh.b = shear(rng);
        sh.d = shear(rng);
        const facekeys::Point2f c{static_cast<float>(unit(rng) * W), static_cast<float>(unit(rng) * H)};
        Affine2D M = facekeys::compose(Affine2D::rotation_about(c, angle(rng), std::exp(log_scale(rng))), sh);
        M = facekeys::compose(Affine2D::translation((unit(rng) - 0.3) * out_w, (unit(rng) - 0.3) * out_h), M);
        const float border_value = static_cast<float>(std::uniform_int_distribution<int>(0, 255)(rng));

        for (Border b : {Border::Constant, Border::Replicate}) {
            const ImageU8 ours = facekeys::warp_affine(view_of(src), M, out_w, out_h, b, border_value);
            cv::Mat ref;
            cv::warpAffine(src, ref, to_cv(M), cv::Size(out_w, out_h), cv::INTER_LINEAR,
                           b == Border::Constant ? cv::BORDER_CONSTANT : cv::BORDER_REPLICATE,
                           cv::Scalar::all(border_value));
            const Diff d = compare(ours, ref);
            INFO("case " << k << ": " << W << "x" << H << "x" << channels << " -> " << out_w << "x" << out_h
                         << (b == Border::Constant ? " constant" : " replicate") << "; " << d.where);
            CHECK(d.max <= 1);
            differing += d.differing;
            total += d.total;
        }
    }
    // Same arithmetic as OpenCV, so in practice identical; report if not.
    if (differing) WARN("warp_affine: " << differing << " of " << total << " values differ from OpenCV by 1");
    CHECK(total > 0);
}

TEST_CASE("opencv: rotation_about equals cv::getRotationMatrix2D", "[opencv]") {
    const Affine2D R = Affine2D::rotation_about(facekeys::Point2f{31.5f, -7.25f}, 37.5, 1.7);
    const cv::Mat ref = cv::getRotationMatrix2D(cv::Point2f(31.5f, -7.25f), 37.5, 1.7);
    CHECK(R.a == Approx(ref.at<double>(0, 0)).epsilon(1e-12));
    CHECK(R.b == Approx(ref.at<double>(0, 1)).epsilon(1e-12));
    CHECK(R.c == Approx(ref.at<double>(0, 2)).epsilon(1e-12));
    CHECK(R.d == Approx(ref.at<double>(1, 0)).epsilon(1e-12));
    CHECK(R.e == Approx(ref.at<double>(1, 1)).epsilon(1e-12));
    CHECK(R.f == Approx(ref.at<double>(1, 2)).epsilon(1e-12));
    cv::Mat inv;
    cv::invertAffineTransform(ref, inv);
    const Affine2D Ri = R.inverse();
    CHECK(Ri.a == Approx(inv.at<double>(0, 0)).epsilon(1e-12));
    CHECK(Ri.c == Approx(inv.at<double>(0, 2)).epsilon(1e-12));
    CHECK(Ri.f == Approx(inv.at<double>(1, 2)).epsilon(1e-12));
}

TEST_CASE("opencv: crop_image matches cv::warpAffine of the crop transform", "[opencv][warp]") {
    std::mt19937 rng(kSeed + 1);
    const cv::Mat src = random_mat(300, 200, 3, rng);
    const facekeys::Box face{120.3f, 40.8f, 90.f, 110.f};
    const facekeys::Box crop = facekeys::crop_box_from_box(face);
    const ImageU8 ours = facekeys::crop_image(view_of(src), crop, 96, 96);
    cv::Mat ref;
    cv::warpAffine(src, ref, to_cv(facekeys::crop_transform(crop, 96, 96)), cv::Size(96, 96), cv::INTER_LINEAR,
                   cv::BORDER_CONSTANT, cv::Scalar::all(0));
    const Diff d = compare(ours, ref);
    INFO(d.where);
    CHECK(d.max <= 1);
}

TEST_CASE("opencv: resize matches cv::resize (INTER_AREA shrinking, INTER_LINEAR enlarging)", "[opencv][resize]") {
    std::mt19937 rng(kSeed + 2);
    std::uniform_int_distribution<int> size(1, 150);
    std::uniform_int_distribution<int> factor(2, 5);
    std::uniform_real_distribution<double> frac(0.05, 1.0);
    std::uniform_real_distribution<double> grow(1.0, 4.0);
    long differing = 0, total = 0;
    for (int k = 0; k < 60; ++k) {
        const int channels = (k % 3 == 0) ? 1 : (k % 3 == 1 ? 3 : 4);
        int W = size(rng), H = size(rng);
        int out_w = 0, out_h = 0;
        int interp = cv::INTER_AREA;
        const char* kind = "";
        switch (k % 4) {
            case 0: {  // integer shrink factors
                const int fx = factor(rng), fy = factor(rng);
                out_w = std::max(1, W / fx);
                out_h = std::max(1, H / fy);
                W = out_w * fx;
                H = out_h * fy;
                kind = "area, integer factors";
                break;
            }
            case 1:  // non-integer shrink
                out_w = std::max(1, static_cast<int>(W * frac(rng)));
                out_h = std::max(1, static_cast<int>(H * frac(rng)));
                kind = "area, non-integer factors";
                break;
            case 2:  // enlarge
                out_w = static_cast<int>(std::ceil(W * grow(rng))) + 1;
                out_h = static_cast<int>(std::ceil(H * grow(rng))) + 1;
                interp = cv::INTER_LINEAR;
                kind = "bilinear, enlarging";
                break;
            default:  // one side grows, the other shrinks: bilinear
                out_w = static_cast<int>(std::ceil(W * grow(rng))) + 1;
                out_h = std::max(1, static_cast<int>(H * frac(rng)));
                interp = cv::INTER_LINEAR;
                kind = "bilinear, mixed";
                break;
        }
        const cv::Mat src = random_mat(W, H, channels, rng);
        const ImageU8 ours = facekeys::resize(view_of(src), out_w, out_h);
        cv::Mat ref;
        cv::resize(src, ref, cv::Size(out_w, out_h), 0, 0, interp);
        const Diff d = compare(ours, ref);
        INFO("case " << k << " (" << kind << "): " << W << "x" << H << "x" << channels << " -> " << out_w << "x"
                     << out_h << "; " << d.where);
        CHECK(d.max <= 1);
        differing += d.differing;
        total += d.total;

        // The float paths follow OpenCV's float arithmetic too.
        cv::Mat srcf, reff;
        src.convertTo(srcf, CV_32F);
        const ImageF32 oursf = facekeys::resize(view_of_f32(srcf), out_w, out_h);
        cv::resize(srcf, reff, cv::Size(out_w, out_h), 0, 0, interp);
        CHECK(max_abs_diff_f(oursf, reff) <= 1e-3);
    }
    // We follow OpenCV's scalar (reference) arithmetic. Its SIMD kernels for
    // bilinear rows (truncating 16-bit multiplies) and for 2x2 area means
    // (ties rounded up instead of to even) land one level off on some values.
    if (differing) WARN("resize: " << differing << " of " << total << " values differ from OpenCV by 1");
    CHECK(total > 0);
}

TEST_CASE("opencv: resize of typical photo-to-model sizes matches cv::resize", "[opencv][resize]") {
    std::mt19937 rng(kSeed + 3);
    const cv::Mat photo = random_mat(640, 480, 3, rng);
    const int sizes[][2] = {{96, 96}, {224, 168}, {320, 240}, {213, 160}, {1000, 750}, {640, 481}};
    for (const auto& s : sizes) {
        const ImageU8 ours = facekeys::resize(view_of(photo), s[0], s[1]);
        cv::Mat ref;
        const bool shrink = s[0] <= 640 && s[1] <= 480;
        cv::resize(photo, ref, cv::Size(s[0], s[1]), 0, 0, shrink ? cv::INTER_AREA : cv::INTER_LINEAR);
        const Diff d = compare(ours, ref);
        INFO(s[0] << "x" << s[1] << ": " << d.where);
        CHECK(d.max <= 1);
    }
}

TEST_CASE("opencv: rgb_to_gray matches cv::cvtColor RGB2GRAY / RGBA2GRAY", "[opencv][gray]") {
    std::mt19937 rng(kSeed + 4);
    for (int channels : {3, 4}) {
        for (int k = 0; k < 5; ++k) {
            const cv::Mat src = random_mat(std::uniform_int_distribution<int>(1, 300)(rng),
                                           std::uniform_int_distribution<int>(1, 200)(rng), channels, rng);
            cv::Mat ref;
            cv::cvtColor(src, ref, channels == 3 ? cv::COLOR_RGB2GRAY : cv::COLOR_RGBA2GRAY);
            const Diff d = compare(facekeys::rgb_to_gray(view_of(src)), ref);
            INFO(channels << " channels, " << src.cols << "x" << src.rows << ": " << d.where);
            CHECK(d.max <= 1);
        }
    }
    // Every RGB triple on a coarse lattice, including the extremes.
    cv::Mat lattice(1, 18 * 18 * 18, CV_8UC3);
    int i = 0;
    for (int r = 0; r < 256; r += 15)
        for (int g = 0; g < 256; g += 15)
            for (int b = 0; b < 256; b += 15) lattice.at<cv::Vec3b>(0, i++) = cv::Vec3b(r, g, b);
    cv::Mat ref;
    cv::cvtColor(lattice, ref, cv::COLOR_RGB2GRAY);
    const Diff d = compare(facekeys::rgb_to_gray(view_of(lattice)), ref);
    INFO(d.where);
    CHECK(d.max <= 1);
}

TEST_CASE("opencv: views wrap cv::Mat ROIs (strided rows) correctly", "[opencv]") {
    std::mt19937 rng(kSeed + 5);
    const cv::Mat big = random_mat(100, 80, 3, rng);
    const cv::Mat roi = big(cv::Rect(13, 7, 50, 40));  // rows 300 bytes apart, 150 used
    REQUIRE_FALSE(roi.isContinuous());
    const ImageU8 ours = facekeys::resize(view_of(roi), 20, 16);
    cv::Mat ref;
    cv::resize(roi, ref, cv::Size(20, 16), 0, 0, cv::INTER_AREA);
    CHECK(compare(ours, ref).max <= 1);
    const Affine2D M = Affine2D::rotation_about(facekeys::Point2f{25.f, 20.f}, 10.0, 1.1);
    cv::Mat refw;
    cv::warpAffine(roi, refw, to_cv(M), cv::Size(50, 40), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
    CHECK(compare(facekeys::warp_affine(view_of(roi), M, 50, 40, Border::Replicate), refw).max <= 1);
}
