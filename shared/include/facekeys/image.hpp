// Images and the image operations every tool shares (docs/CONVENTIONS.md).
//
// Pixel centres are at integer coordinates: pixel (col j, row i) is centred on
// (x = j, y = i) and an image of width W spans [-0.5, W-0.5].
//
// The u8 operations reproduce OpenCV 4's arithmetic (fixed-point weights, the
// same rounding) rather than just its formulas, so model inputs made here (in
// the browser) and by OpenCV-based tools agree to within one grey level, and
// in practice are identical; tests/opencv/test_opencv_diff.cpp checks that.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "facekeys/geometry.hpp"

namespace facekeys {

// How a sample that falls outside the image is filled:
//   Constant : every tap outside the image reads `border_value`
//   Replicate: taps are clamped to the nearest edge pixel
// Same meaning as cv::BORDER_CONSTANT / cv::BORDER_REPLICATE (taps, not
// whole samples, are replaced, so edges fade into the constant over one pixel).
enum class Border { Constant, Replicate };

// Largest image (width * height * channels elements) any function accepts or
// makes: far beyond a 12-megapixel RGBA photo (48M), small enough that sizes
// from a corrupt header are refused instead of exhausting memory, and every
// element index fits in 32 bits (wasm32 included).
constexpr std::size_t kMaxImageElements = (std::size_t{1} << 31) - 1;
// Largest width or height: leaves headroom so coordinate arithmetic near the
// far edge (x + 1, size + 1) can never overflow an int.
constexpr int kMaxImageSide = 1 << 24;

namespace detail {
// Validation shared by views and images; throws std::invalid_argument.
// Returns width * height * channels once it is known to be addressable.
std::size_t checked_element_count(int width, int height, int channels, std::size_t element_size,
                                  const char* what);
// Also checks the data pointer and the stride (in elements; 0 = packed) and
// returns the effective stride.
std::ptrdiff_t check_layout(const void* data, int width, int height, int channels, std::ptrdiff_t stride,
                  std::size_t element_size, const char* what);
// Index errors are bad arguments too, so they throw std::invalid_argument.
[[noreturn]] void throw_bad_index(const char* what, int x, int y, int c, int width, int height,
                                  int channels);
}  // namespace detail

// Non-owning view of an interleaved image whose rows are `stride` elements
// apart. Lets callers wrap a cv::Mat or a browser RGBA canvas buffer without a
// copy. T may be const (read-only view). The caller keeps the buffer alive.
template <class T>
class ImageView {
public:
    using value_type = std::remove_const_t<T>;
    static_assert(std::is_same<value_type, std::uint8_t>::value || std::is_same<value_type, float>::value,
                  "ImageView supports uint8_t and float pixels only");

    ImageView() noexcept = default;

    // stride == 0 means tightly packed (width * channels). Throws
    // std::invalid_argument on null data, non-positive sizes, channels other
    // than 1, 3 or 4, or a stride shorter than a row.
    ImageView(T* data, int width, int height, int channels, std::ptrdiff_t stride = 0)
        : data_(data), width_(width), height_(height), channels_(channels),
          stride_(detail::check_layout(data, width, height, channels, stride, sizeof(T), "ImageView")) {}

    // A mutable view converts to a read-only one.
    template <class U, class = std::enable_if_t<std::is_same<const U, T>::value && !std::is_same<U, T>::value>>
    ImageView(const ImageView<U>& other) noexcept  // NOLINT(google-explicit-constructor)
        : data_(other.data()), width_(other.width()), height_(other.height()),
          channels_(other.channels()), stride_(other.stride()) {}

    T* data() const noexcept { return data_; }
    int width() const noexcept { return width_; }
    int height() const noexcept { return height_; }
    int channels() const noexcept { return channels_; }
    std::ptrdiff_t stride() const noexcept { return stride_; }  // elements between rows
    bool empty() const noexcept { return data_ == nullptr; }

    T* row(int y) const {
        if (y < 0 || y >= height_) detail::throw_bad_index("ImageView::row", 0, y, 0, width_, height_, channels_);
        return data_ + static_cast<std::ptrdiff_t>(y) * stride_;
    }
    T& at(int x, int y, int c = 0) const {
        if (x < 0 || x >= width_ || y < 0 || y >= height_ || c < 0 || c >= channels_) {
            detail::throw_bad_index("ImageView::at", x, y, c, width_, height_, channels_);
        }
        return data_[static_cast<std::ptrdiff_t>(y) * stride_ + static_cast<std::ptrdiff_t>(x) * channels_ + c];
    }

private:
    T* data_ = nullptr;
    int width_ = 0;
    int height_ = 0;
    int channels_ = 0;
    std::ptrdiff_t stride_ = 0;
};

// Owning, row-major, tightly packed image with interleaved channels (1, 3 or 4).
template <class T>
class Image {
public:
    static_assert(std::is_same<T, std::uint8_t>::value || std::is_same<T, float>::value,
                  "Image supports uint8_t and float pixels only");

    Image() = default;

    // Throws std::invalid_argument on non-positive sizes, unsupported channel
    // counts, a side over kMaxImageSide or more than kMaxImageElements elements.
    Image(int width, int height, int channels, T fill = T{})
        : width_(width), height_(height), channels_(channels) {
        pixels_.assign(detail::checked_element_count(width, height, channels, sizeof(T), "Image"), fill);
    }

    // Deep copy of any view (strided or not).
    static Image copy_of(ImageView<const T> view) {
        if (view.empty()) throw std::invalid_argument("Image::copy_of: empty view");
        Image out(view.width(), view.height(), view.channels());
        const std::size_t row_len = static_cast<std::size_t>(view.width()) * view.channels();
        for (int y = 0; y < view.height(); ++y) {
            const T* s = view.data() + static_cast<std::ptrdiff_t>(y) * view.stride();
            std::copy(s, s + row_len, out.pixels_.data() + static_cast<std::size_t>(y) * row_len);
        }
        return out;
    }

    int width() const noexcept { return width_; }
    int height() const noexcept { return height_; }
    int channels() const noexcept { return channels_; }
    std::ptrdiff_t stride() const noexcept { return static_cast<std::ptrdiff_t>(width_) * channels_; }
    bool empty() const noexcept { return pixels_.empty(); }
    std::size_t size() const noexcept { return pixels_.size(); }  // elements, not pixels

    T* data() noexcept { return pixels_.data(); }
    const T* data() const noexcept { return pixels_.data(); }
    const std::vector<T>& pixels() const noexcept { return pixels_; }
    // Moves the buffer out (e.g. into a tensor) and leaves the image empty.
    std::vector<T> release() noexcept {
        width_ = height_ = channels_ = 0;
        std::vector<T> out = std::move(pixels_);
        pixels_.clear();
        return out;
    }

    T* row(int y) { return const_cast<T*>(static_cast<const Image&>(*this).row(y)); }
    const T* row(int y) const {
        if (y < 0 || y >= height_) detail::throw_bad_index("Image::row", 0, y, 0, width_, height_, channels_);
        return pixels_.data() + static_cast<std::size_t>(y) * static_cast<std::size_t>(stride());
    }
    T& at(int x, int y, int c = 0) { return const_cast<T&>(static_cast<const Image&>(*this).at(x, y, c)); }
    const T& at(int x, int y, int c = 0) const {
        if (x < 0 || x >= width_ || y < 0 || y >= height_ || c < 0 || c >= channels_) {
            detail::throw_bad_index("Image::at", x, y, c, width_, height_, channels_);
        }
        return pixels_[(static_cast<std::size_t>(y) * width_ + x) * channels_ + c];
    }

    ImageView<T> view() {
        return empty() ? ImageView<T>() : ImageView<T>(pixels_.data(), width_, height_, channels_);
    }
    ImageView<const T> view() const {
        return empty() ? ImageView<const T>() : ImageView<const T>(pixels_.data(), width_, height_, channels_);
    }
    operator ImageView<T>() { return view(); }                   // NOLINT(google-explicit-constructor)
    operator ImageView<const T>() const { return view(); }       // NOLINT(google-explicit-constructor)

private:
    int width_ = 0;
    int height_ = 0;
    int channels_ = 0;
    std::vector<T> pixels_;
};

using ImageU8 = Image<std::uint8_t>;
using ImageF32 = Image<float>;
using ViewU8 = ImageView<const std::uint8_t>;
using ViewF32 = ImageView<const float>;

// Every function below throws std::invalid_argument on an empty view, a
// non-positive output size or another bad argument.

// RGB or RGBA (channel order R, G, B[, A]; alpha ignored) -> 1-channel gray with
// BT.601 weights. Uses OpenCV's 14-bit fixed-point weights (4899, 9617, 1868)
// so the result is bit-identical to cv::cvtColor(COLOR_RGB2GRAY / RGBA2GRAY);
// they differ from 0.299/0.587/0.114 by less than 0.02 grey levels in total.
ImageU8 rgb_to_gray(ViewU8 rgb);
// Like rgb_to_gray, but a 1-channel input is copied unchanged.
ImageU8 to_gray(ViewU8 src);

// Exact bilinear interpolation at real (x, y), pixel centres at integers, in
// double precision: at a pixel centre it returns that pixel, halfway between
// two centres their mean. Throws on non-finite coordinates or a bad channel.
float sample_bilinear(ViewU8 src, double x, double y, int channel = 0,
                      Border border = Border::Constant, float border_value = 0.f);
float sample_bilinear(ViewF32 src, double x, double y, int channel = 0,
                      Border border = Border::Constant, float border_value = 0.f);

// Output pixel (x, y) = bilinear sample of `src` at src_to_dst^-1 (x, y).
// `src_to_dst` is the source->destination map (cv::warpAffine without
// WARP_INVERSE_MAP); it is inverted once and throws if singular.
// u8: like cv::warpAffine(INTER_LINEAR), the source position is rounded to
// 1/32 px and the weights are fixed-point, so a u8 warp can differ from
// sample_bilinear by up to a few levels on very sharp edges; border_value is
// rounded and clamped to [0, 255].
// float: exact (double-precision positions, no quantisation).
ImageU8 warp_affine(ViewU8 src, const Affine2D& src_to_dst, int out_width, int out_height,
                    Border border = Border::Constant, float border_value = 0.f);
ImageF32 warp_affine(ViewF32 src, const Affine2D& src_to_dst, int out_width, int out_height,
                     Border border = Border::Constant, float border_value = 0.f);

// The image as displayed: turned `quarter_turns_cw` times 90 degrees
// clockwise (any integer; taken modulo 4), then mirrored left-right when
// `mirror` is set. This is how WebCodecs' VideoFrame states an EXIF
// orientation (rotation, then flip): EXIF 2 = (0, mirror), 3 = (2), 4 = (2,
// mirror), 5 = (1, mirror), 6 = (1), 7 = (3, mirror), 8 = (3). Lossless; a
// quarter or three-quarter turn swaps width and height.
ImageU8 rotate_and_mirror(ViewU8 src, int quarter_turns_cw, bool mirror);

// Resizing that maps the image extent [-0.5, W-0.5] onto [-0.5, W'-0.5].
// resize() picks the method: area averaging when neither side grows
// (cv::INTER_AREA, including non-integer factors), bilinear otherwise
// (cv::INTER_LINEAR, also when one side grows and the other shrinks).
// Same size returns a copy.
ImageU8 resize(ViewU8 src, int out_width, int out_height);
ImageF32 resize(ViewF32 src, int out_width, int out_height);
// The two methods on their own. resize_area requires out <= in on both sides.
ImageU8 resize_bilinear(ViewU8 src, int out_width, int out_height);
ImageF32 resize_bilinear(ViewF32 src, int out_width, int out_height);
ImageU8 resize_area(ViewU8 src, int out_width, int out_height);
ImageF32 resize_area(ViewF32 src, int out_width, int out_height);

// Model input from a 1-channel u8 image: (v / 255 - mean) / std per pixel.
// Multi-channel input is refused because models expect planar (CHW) data,
// which an interleaved image is not. Throws if std <= 0 or mean/std not finite.
ImageF32 to_model_input(ViewU8 gray, float mean = 0.5f, float std = 0.5f);

}  // namespace facekeys
