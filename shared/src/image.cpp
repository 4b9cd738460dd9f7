#include "facekeys/image.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace facekeys {

namespace detail {

std::size_t checked_element_count(int width, int height, int channels, std::size_t element_size,
                                  const char* what) {
    if (width <= 0 || height <= 0) {
        throw std::invalid_argument(std::string(what) + ": size must be positive, got " +
                                    std::to_string(width) + "x" + std::to_string(height));
    }
    if (width > kMaxImageSide || height > kMaxImageSide) {
        throw std::invalid_argument(std::string(what) + ": " + std::to_string(width) + "x" +
                                    std::to_string(height) + " has a side over " + std::to_string(kMaxImageSide));
    }
    if (channels != 1 && channels != 3 && channels != 4) {
        throw std::invalid_argument(std::string(what) + ": channels must be 1, 3 or 4, got " +
                                    std::to_string(channels));
    }
    const std::uint64_t n = static_cast<std::uint64_t>(width) * static_cast<std::uint64_t>(height) *
                            static_cast<std::uint64_t>(channels);
    const std::uint64_t limit =
        std::min<std::uint64_t>(kMaxImageElements, std::numeric_limits<std::size_t>::max() / element_size);
    if (n > limit) {
        throw std::invalid_argument(std::string(what) + ": " + std::to_string(width) + "x" +
                                    std::to_string(height) + "x" + std::to_string(channels) +
                                    " is too large to address");
    }
    return static_cast<std::size_t>(n);
}

std::ptrdiff_t check_layout(const void* data, int width, int height, int channels, std::ptrdiff_t stride,
                            std::size_t element_size, const char* what) {
    checked_element_count(width, height, channels, element_size, what);
    if (data == nullptr) throw std::invalid_argument(std::string(what) + ": null data pointer");
    const std::uint64_t row = static_cast<std::uint64_t>(width) * static_cast<std::uint64_t>(channels);
    if (stride == 0) return static_cast<std::ptrdiff_t>(row);
    if (stride < 0 || static_cast<std::uint64_t>(stride) < row) {
        throw std::invalid_argument(std::string(what) + ": stride " + std::to_string(stride) +
                                    " is shorter than a row of " + std::to_string(row) + " elements");
    }
    const std::uint64_t limit =
        std::min<std::uint64_t>(std::numeric_limits<std::size_t>::max(),
                                static_cast<std::uint64_t>(std::numeric_limits<std::ptrdiff_t>::max())) /
        element_size;
    const std::uint64_t rows_before_last = static_cast<std::uint64_t>(height) - 1;
    if (rows_before_last > 0 && static_cast<std::uint64_t>(stride) > (limit - row) / rows_before_last) {
        throw std::invalid_argument(std::string(what) + ": stride " + std::to_string(stride) +
                                    " times height is too large to address");
    }
    return stride;
}

void throw_bad_index(const char* what, int x, int y, int c, int width, int height, int channels) {
    throw std::invalid_argument(std::string(what) + ": index (x=" + std::to_string(x) + ", y=" +
                                std::to_string(y) + ", c=" + std::to_string(c) + ") outside " +
                                std::to_string(width) + "x" + std::to_string(height) + "x" +
                                std::to_string(channels));
}

}  // namespace detail

namespace {

// OpenCV's fixed-point position/weight arithmetic relies on >> of negative
// values rounding towards -infinity (implementation-defined before C++20).
static_assert((-1 >> 1) == -1 && (std::int64_t{-33} >> 5) == -2, "arithmetic right shift required");

template <class T>
void require_image(const ImageView<const T>& v, const char* what) {
    if (v.empty()) throw std::invalid_argument(std::string(what) + ": empty image");
}

// Checked before any per-column table is allocated, so an absurd size is an
// invalid_argument rather than a bad_alloc.
template <class T>
void require_out_size(int w, int h, int channels, const char* what) {
    if (w <= 0 || h <= 0) {
        throw std::invalid_argument(std::string(what) + ": output size must be positive, got " +
                                    std::to_string(w) + "x" + std::to_string(h));
    }
    detail::checked_element_count(w, h, channels, sizeof(T), what);
}

void require_finite_border(float v, const char* what) {
    if (!std::isfinite(v)) throw std::invalid_argument(std::string(what) + ": border_value must be finite");
}

// cv::saturate_cast<uchar>(float/double): round half to even, then clamp.
inline std::uint8_t saturate_u8(double v) {
    if (!(v > -1.0)) return 0;  // also catches NaN
    if (v > 256.0) return 255;
    const long r = std::lrint(v);
    return static_cast<std::uint8_t>(r < 0 ? 0 : (r > 255 ? 255 : r));
}
inline std::uint8_t saturate_u8(float v) {
    if (!(v > -1.f)) return 0;
    if (v > 256.f) return 255;
    const long r = std::lrint(v);
    return static_cast<std::uint8_t>(r < 0 ? 0 : (r > 255 ? 255 : r));
}

inline std::uint8_t cast_out(float v, std::uint8_t*) { return saturate_u8(v); }
inline float cast_out(float v, float*) { return v; }

// ---------------------------------------------------------------- sampling

// Beyond one pixel outside, a bilinear sample no longer depends on how far out
// it is; clamping there keeps every float->int conversion defined (a NaN from a
// degenerate map also lands on the clamp).
inline double clamp_coord(double v, int size) {
    if (!(v >= -2.0)) return -2.0;
    if (v > size + 1.0) return size + 1.0;
    return v;
}

template <class T>
inline double tap(const ImageView<const T>& v, int xi, int yi, int ch, Border border, double border_value) {
    const int W = v.width();
    const int H = v.height();
    if (border == Border::Replicate) {
        xi = std::min(std::max(xi, 0), W - 1);
        yi = std::min(std::max(yi, 0), H - 1);
    } else if (xi < 0 || xi >= W || yi < 0 || yi >= H) {
        return border_value;
    }
    return static_cast<double>(
        v.data()[static_cast<std::ptrdiff_t>(yi) * v.stride() + static_cast<std::ptrdiff_t>(xi) * v.channels() + ch]);
}

template <class T>
float sample_bilinear_impl(const ImageView<const T>& src, double x, double y, int channel, Border border,
                           float border_value) {
    require_image(src, "sample_bilinear");
    if (channel < 0 || channel >= src.channels()) {
        throw std::invalid_argument("sample_bilinear: channel " + std::to_string(channel) + " outside [0, " +
                                    std::to_string(src.channels()) + ")");
    }
    if (!std::isfinite(x) || !std::isfinite(y)) {
        throw std::invalid_argument("sample_bilinear: coordinates must be finite");
    }
    require_finite_border(border_value, "sample_bilinear");
    x = clamp_coord(x, src.width());
    y = clamp_coord(y, src.height());
    const double fx = std::floor(x);
    const double fy = std::floor(y);
    const int x0 = static_cast<int>(fx);
    const int y0 = static_cast<int>(fy);
    const double ax = x - fx;
    const double ay = y - fy;
    const double bv = border_value;
    const double p00 = tap(src, x0, y0, channel, border, bv);
    const double p01 = tap(src, x0 + 1, y0, channel, border, bv);
    const double p10 = tap(src, x0, y0 + 1, channel, border, bv);
    const double p11 = tap(src, x0 + 1, y0 + 1, channel, border, bv);
    return static_cast<float>((1.0 - ay) * ((1.0 - ax) * p00 + ax * p01) + ay * ((1.0 - ax) * p10 + ax * p11));
}

// ---------------------------------------------------------------- warp

// cv::saturate_cast<int>(double) is round-half-even; positions are kept in
// 64 bits with a generous clamp so absurd maps cannot overflow.
inline std::int64_t round_fixed(double v) {
    constexpr double lim = 4503599627370496.0;  // 2^52
    if (!(v > -lim)) return -static_cast<std::int64_t>(lim);
    if (v > lim) return static_cast<std::int64_t>(lim);
    return static_cast<std::int64_t>(std::nearbyint(v));
}

// Mirrors cv::warpAffine(INTER_LINEAR) for 8-bit images: source positions in
// 1/1024 px, rounded to 1/32 px (INTER_BITS = 5), bilinear weights in 1/1024
// (OpenCV's 15-bit table entries are these times 32, an exact rescaling), and
// the final sum rounded half up.
// C is a template parameter so the per-pixel channel loops unroll: this runs
// on 12-megapixel RGBA photos in the browser.
template <int C>
void warp_u8_rows(const ViewU8& src, const Affine2D& inv, ImageU8& out, Border border, float border_value) {
    const int W = src.width();
    const int H = src.height();
    const int out_w = out.width();
    const int out_h = out.height();
    const std::ptrdiff_t stride = src.stride();
    const std::uint8_t* base = src.data();
    const std::uint8_t cval = saturate_u8(static_cast<double>(border_value));
    constexpr double kABScale = 1024.0;  // OpenCV AB_BITS = 10
    constexpr std::int64_t kRoundDelta = 16;  // AB_SCALE / INTER_TAB_SIZE / 2

    std::vector<std::int64_t> adelta(static_cast<std::size_t>(out_w));
    std::vector<std::int64_t> bdelta(static_cast<std::size_t>(out_w));
    for (int x = 0; x < out_w; ++x) {
        adelta[static_cast<std::size_t>(x)] = round_fixed(inv.a * x * kABScale);
        bdelta[static_cast<std::size_t>(x)] = round_fixed(inv.d * x * kABScale);
    }

    for (int y = 0; y < out_h; ++y) {
        const std::int64_t X0 = round_fixed((inv.b * y + inv.c) * kABScale) + kRoundDelta;
        const std::int64_t Y0 = round_fixed((inv.e * y + inv.f) * kABScale) + kRoundDelta;
        std::uint8_t* d = out.data() + static_cast<std::size_t>(y) * static_cast<std::size_t>(out_w) * C;
        for (int x = 0; x < out_w; ++x, d += C) {
            const std::int64_t X = (X0 + adelta[static_cast<std::size_t>(x)]) >> 5;
            const std::int64_t Y = (Y0 + bdelta[static_cast<std::size_t>(x)]) >> 5;
            const std::int64_t ix = X >> 5;
            const std::int64_t iy = Y >> 5;
            const int wx = static_cast<int>(X & 31);
            const int wy = static_cast<int>(Y & 31);
            const int w00 = (32 - wx) * (32 - wy);
            const int w01 = wx * (32 - wy);
            const int w10 = (32 - wx) * wy;
            const int w11 = wx * wy;
            if (ix >= 0 && iy >= 0 && ix < W - 1 && iy < H - 1) {
                const std::uint8_t* p = base + iy * stride + ix * C;
                const std::uint8_t* q = p + stride;
                for (int c = 0; c < C; ++c) {
                    d[c] = static_cast<std::uint8_t>((p[c] * w00 + p[c + C] * w01 + q[c] * w10 + q[c + C] * w11 + 512) >> 10);
                }
                continue;
            }
            if (border == Border::Constant && (ix >= W || ix + 1 < 0 || iy >= H || iy + 1 < 0)) {
                for (int c = 0; c < C; ++c) d[c] = cval;
                continue;
            }
            // Partly outside: resolve each of the four taps to a pixel or the constant.
            const std::uint8_t* t[4];
            const std::int64_t xs[2] = {ix, ix + 1};
            const std::int64_t ys[2] = {iy, iy + 1};
            for (int j = 0; j < 2; ++j) {
                for (int i = 0; i < 2; ++i) {
                    std::int64_t xi = xs[i];
                    std::int64_t yi = ys[j];
                    if (border == Border::Replicate) {
                        xi = std::min<std::int64_t>(std::max<std::int64_t>(xi, 0), W - 1);
                        yi = std::min<std::int64_t>(std::max<std::int64_t>(yi, 0), H - 1);
                    }
                    t[j * 2 + i] = (xi >= 0 && xi < W && yi >= 0 && yi < H) ? base + yi * stride + xi * C : nullptr;
                }
            }
            for (int c = 0; c < C; ++c) {
                const int v00 = t[0] ? t[0][c] : cval;
                const int v01 = t[1] ? t[1][c] : cval;
                const int v10 = t[2] ? t[2][c] : cval;
                const int v11 = t[3] ? t[3][c] : cval;
                d[c] = static_cast<std::uint8_t>((v00 * w00 + v01 * w01 + v10 * w10 + v11 * w11 + 512) >> 10);
            }
        }
    }
}

ImageU8 warp_u8(const ViewU8& src, const Affine2D& inv, int out_w, int out_h, Border border, float border_value) {
    ImageU8 out(out_w, out_h, src.channels());
    switch (src.channels()) {
        case 1: warp_u8_rows<1>(src, inv, out, border, border_value); break;
        case 3: warp_u8_rows<3>(src, inv, out, border, border_value); break;
        default: warp_u8_rows<4>(src, inv, out, border, border_value); break;
    }
    return out;
}

ImageF32 warp_f32(const ViewF32& src, const Affine2D& inv, int out_w, int out_h, Border border, float border_value) {
    const int W = src.width();
    const int H = src.height();
    const int C = src.channels();
    const std::ptrdiff_t stride = src.stride();
    const float* base = src.data();
    const double bv = border_value;
    ImageF32 out(out_w, out_h, C);
    for (int y = 0; y < out_h; ++y) {
        const double row_x = inv.b * y + inv.c;
        const double row_y = inv.e * y + inv.f;
        float* d = out.data() + static_cast<std::size_t>(y) * static_cast<std::size_t>(out_w) * C;
        for (int x = 0; x < out_w; ++x, d += C) {
            const double sx = clamp_coord(inv.a * x + row_x, W);
            const double sy = clamp_coord(inv.d * x + row_y, H);
            const double fx = std::floor(sx);
            const double fy = std::floor(sy);
            const int x0 = static_cast<int>(fx);
            const int y0 = static_cast<int>(fy);
            const double ax = sx - fx;
            const double ay = sy - fy;
            if (x0 >= 0 && y0 >= 0 && x0 < W - 1 && y0 < H - 1) {
                const float* p = base + static_cast<std::ptrdiff_t>(y0) * stride + static_cast<std::ptrdiff_t>(x0) * C;
                const float* q = p + stride;
                for (int c = 0; c < C; ++c) {
                    d[c] = static_cast<float>((1.0 - ay) * ((1.0 - ax) * p[c] + ax * p[c + C]) +
                                              ay * ((1.0 - ax) * q[c] + ax * q[c + C]));
                }
            } else {
                for (int c = 0; c < C; ++c) {
                    const double p00 = tap(src, x0, y0, c, border, bv);
                    const double p01 = tap(src, x0 + 1, y0, c, border, bv);
                    const double p10 = tap(src, x0, y0 + 1, c, border, bv);
                    const double p11 = tap(src, x0 + 1, y0 + 1, c, border, bv);
                    d[c] = static_cast<float>((1.0 - ay) * ((1.0 - ax) * p00 + ax * p01) +
                                              ay * ((1.0 - ax) * p10 + ax * p11));
                }
            }
        }
    }
    return out;
}

template <class T>
void check_warp_args(const ImageView<const T>& src, const Affine2D& m, int out_w, int out_h, float border_value) {
    require_image(src, "warp_affine");
    require_out_size<T>(out_w, out_h, src.channels(), "warp_affine");
    require_finite_border(border_value, "warp_affine");
    if (!m.is_finite()) throw std::invalid_argument("warp_affine: matrix has non-finite coefficients");
}

// ---------------------------------------------------------------- resize

// The scale OpenCV derives from the sizes (1 / (dst / src), not src / dst):
// its rounding decides pixel positions, so it is reproduced exactly.
inline double cv_scale(int src, int dst) { return 1.0 / (static_cast<double>(dst) / src); }

// Taps of cv::resize(INTER_LINEAR) along one axis: half-pixel centres,
// positions in float, edges replicated.
struct LinearTaps {
    std::vector<int> first;     // index of the left/top source pixel
    std::vector<float> w0, w1;  // its weight and that of the next pixel
    std::vector<bool> single;   // past the last pixel: one tap with weight 1
};

LinearTaps linear_taps(int src_size, int dst_size, bool horizontal) {
    const double scale = cv_scale(src_size, dst_size);
    LinearTaps t;
    t.first.resize(static_cast<std::size_t>(dst_size));
    t.w0.resize(static_cast<std::size_t>(dst_size));
    t.w1.resize(static_cast<std::size_t>(dst_size));
    t.single.resize(static_cast<std::size_t>(dst_size));
    for (int i = 0; i < dst_size; ++i) {
        float f = static_cast<float>((i + 0.5) * scale - 0.5);
        int s = static_cast<int>(std::floor(f));
        f -= static_cast<float>(s);
        bool single = false;
        // OpenCV resets the fraction at the borders horizontally but only clamps
        // the row indices vertically; both yield the edge pixel, yet the float
        // path can round differently in the last bit, so both variants are kept.
        if (horizontal) {
            if (s < 0) {
                s = 0;
                f = 0.f;
            }
            if (s >= src_size - 1) {
                s = src_size - 1;
                f = 0.f;
                single = true;
            }
        }
        const std::size_t k = static_cast<std::size_t>(i);
        t.first[k] = s;
        t.w0[k] = 1.f - f;
        t.w1[k] = f;
        t.single[k] = single;
    }
    return t;
}

inline std::int32_t coef_fixed(float w) { return static_cast<std::int32_t>(std::lrint(w * 2048.f)); }

template <class T>
Image<T> resize_linear_impl(const ImageView<const T>& src, int out_w, int out_h) {
    // u8: OpenCV's fixed point (INTER_RESIZE_COEF_BITS = 11 per pass, rounded
    // once at the end); float: plain float weights.
    constexpr bool kFixed = std::is_same<T, std::uint8_t>::value;
    using WT = std::conditional_t<kFixed, std::int64_t, float>;
    const int W = src.width();
    const int H = src.height();
    const int C = src.channels();
    const LinearTaps xt = linear_taps(W, out_w, true);
    const LinearTaps yt = linear_taps(H, out_h, false);
    const std::size_t row_len = static_cast<std::size_t>(out_w) * C;

    std::vector<WT> xa0(static_cast<std::size_t>(out_w)), xa1(static_cast<std::size_t>(out_w));
    for (std::size_t i = 0; i < xa0.size(); ++i) {
        if constexpr (kFixed) {
            xa0[i] = xt.single[i] ? 2048 : coef_fixed(xt.w0[i]);
            xa1[i] = xt.single[i] ? 0 : coef_fixed(xt.w1[i]);
        } else {
            xa0[i] = xt.single[i] ? WT(1) : WT(xt.w0[i]);
            xa1[i] = xt.single[i] ? WT(0) : WT(xt.w1[i]);
        }
    }

    // Two horizontally resampled rows, cached by source row so each source row
    // is resampled once while walking down the output.
    std::vector<WT> rows[2] = {std::vector<WT>(row_len), std::vector<WT>(row_len)};
    int tag[2] = {-1, -1};
    auto hpass = [&](int sy, int slot) {
        const T* s = src.data() + static_cast<std::ptrdiff_t>(sy) * src.stride();
        WT* d = rows[slot].data();
        for (int dx = 0; dx < out_w; ++dx) {
            const std::size_t k = static_cast<std::size_t>(dx);
            const T* p = s + static_cast<std::ptrdiff_t>(xt.first[k]) * C;
            if (xt.single[k]) {
                for (int c = 0; c < C; ++c) d[c] = WT(p[c]) * xa0[k];
            } else {
                for (int c = 0; c < C; ++c) d[c] = WT(p[c]) * xa0[k] + WT(p[c + C]) * xa1[k];
            }
            d += C;
        }
        tag[slot] = sy;
    };
    auto fetch = [&](int sy, int avoid) {
        if (tag[0] == sy) return 0;
        if (tag[1] == sy) return 1;
        const int slot = avoid == 0 ? 1 : 0;
        hpass(sy, slot);
        return slot;
    };

    Image<T> out(out_w, out_h, C);
    for (int dy = 0; dy < out_h; ++dy) {
        const std::size_t k = static_cast<std::size_t>(dy);
        const int r0 = std::min(std::max(yt.first[k], 0), H - 1);
        const int r1 = std::min(std::max(yt.first[k] + 1, 0), H - 1);
        const int s0 = fetch(r0, -1);
        const int s1 = fetch(r1, s0);
        const WT* a = rows[s0].data();
        const WT* b = rows[s1].data();
        T* d = out.data() + k * row_len;
        if constexpr (kFixed) {
            const WT b0 = coef_fixed(yt.w0[k]);
            const WT b1 = coef_fixed(yt.w1[k]);
            for (std::size_t i = 0; i < row_len; ++i) {
                const std::int64_t v = (static_cast<std::int64_t>(a[i] * b0 + b[i] * b1) + (1 << 21)) >> 22;
                d[i] = static_cast<T>(v < 0 ? 0 : (v > 255 ? 255 : v));
            }
        } else {
            const WT b0 = WT(yt.w0[k]);
            const WT b1 = WT(yt.w1[k]);
            for (std::size_t i = 0; i < row_len; ++i) d[i] = static_cast<T>(a[i] * b0 + b[i] * b1);
        }
    }
    return out;
}

// cv::resize(INTER_AREA) when both factors are integers: plain block means.
template <class T>
Image<T> resize_area_integer(const ImageView<const T>& src, int out_w, int out_h, int fx, int fy) {
    using WT = std::conditional_t<std::is_same<T, std::uint8_t>::value, std::int64_t, float>;
    const int W = src.width();
    const int H = src.height();
    const int C = src.channels();
    Image<T> out(out_w, out_h, C);
    T* d = out.data();
    for (int dy = 0; dy < out_h; ++dy) {
        const int y0 = dy * fy;
        const int y1 = std::min(y0 + fy, H);
        for (int dx = 0; dx < out_w; ++dx) {
            const int x0 = dx * fx;
            const int x1 = std::min(x0 + fx, W);
            for (int c = 0; c < C; ++c) {
                WT sum = 0;
                for (int sy = y0; sy < y1; ++sy) {
                    const T* s = src.data() + static_cast<std::ptrdiff_t>(sy) * src.stride() + c;
                    for (int sx = x0; sx < x1; ++sx) sum += s[static_cast<std::ptrdiff_t>(sx) * C];
                }
                const int count = (y1 - y0) * (x1 - x0);
                // OpenCV multiplies by the float reciprocal of the block area.
                *d++ = cast_out(static_cast<float>(sum) * (1.f / static_cast<float>(count)), static_cast<T*>(nullptr));
            }
        }
    }
    return out;
}

struct AreaTap {
    int dst;
    int src;
    float weight;
};

// Port of OpenCV's computeResizeAreaTab: which source pixels overlap each
// destination cell, and by what fraction of the cell.
std::vector<AreaTap> area_taps(int src_size, int dst_size, double scale) {
    std::vector<AreaTap> tab;
    tab.reserve(static_cast<std::size_t>(src_size) * 2 + 2);
    for (int dx = 0; dx < dst_size; ++dx) {
        const double fsx1 = dx * scale;
        const double fsx2 = fsx1 + scale;
        const double cell = std::min(scale, src_size - fsx1);
        int sx1 = static_cast<int>(std::ceil(fsx1));
        int sx2 = static_cast<int>(std::floor(fsx2));
        sx2 = std::min(sx2, src_size - 1);
        sx1 = std::min(sx1, sx2);
        if (sx1 - fsx1 > 1e-3) tab.push_back({dx, sx1 - 1, static_cast<float>((sx1 - fsx1) / cell)});
        for (int sx = sx1; sx < sx2; ++sx) tab.push_back({dx, sx, static_cast<float>(1.0 / cell)});
        if (fsx2 - sx2 > 1e-3) {
            tab.push_back({dx, sx2, static_cast<float>(std::min(std::min(fsx2 - sx2, 1.0), cell) / cell)});
        }
    }
    return tab;
}

template <class T>
Image<T> resize_area_impl(const ImageView<const T>& src, int out_w, int out_h) {
    const int W = src.width();
    const int H = src.height();
    const int C = src.channels();
    const double scale_x = cv_scale(W, out_w);
    const double scale_y = cv_scale(H, out_h);
    const double iscale_x = std::nearbyint(scale_x);
    const double iscale_y = std::nearbyint(scale_y);
    if (std::fabs(scale_x - iscale_x) < DBL_EPSILON && std::fabs(scale_y - iscale_y) < DBL_EPSILON) {
        return resize_area_integer(src, out_w, out_h, static_cast<int>(iscale_x), static_cast<int>(iscale_y));
    }

    const std::vector<AreaTap> xt = area_taps(W, out_w, scale_x);
    const std::vector<AreaTap> yt = area_taps(H, out_h, scale_y);
    const std::size_t row_len = static_cast<std::size_t>(out_w) * C;
    // Float accumulation, row by row, in OpenCV's order, so sums round alike.
    std::vector<float> buf(row_len), sum(row_len);
    Image<T> out(out_w, out_h, C);
    std::size_t j = 0;
    for (int dy = 0; dy < out_h; ++dy) {
        bool first = true;
        std::fill(sum.begin(), sum.end(), 0.f);
        for (; j < yt.size() && yt[j].dst == dy; ++j) {
            const T* s = src.data() + static_cast<std::ptrdiff_t>(yt[j].src) * src.stride();
            std::fill(buf.begin(), buf.end(), 0.f);
            for (const AreaTap& t : xt) {
                float* b = buf.data() + static_cast<std::size_t>(t.dst) * C;
                const T* p = s + static_cast<std::ptrdiff_t>(t.src) * C;
                for (int c = 0; c < C; ++c) b[c] += static_cast<float>(p[c]) * t.weight;
            }
            const float beta = yt[j].weight;
            if (first) {
                for (std::size_t i = 0; i < row_len; ++i) sum[i] = beta * buf[i];
                first = false;
            } else {
                for (std::size_t i = 0; i < row_len; ++i) sum[i] += beta * buf[i];
            }
        }
        T* d = out.data() + static_cast<std::size_t>(dy) * row_len;
        for (std::size_t i = 0; i < row_len; ++i) d[i] = cast_out(sum[i], static_cast<T*>(nullptr));
    }
    return out;
}

template <class T>
Image<T> resize_dispatch(const ImageView<const T>& src, int out_w, int out_h) {
    require_image(src, "resize");
    require_out_size<T>(out_w, out_h, src.channels(), "resize");
    if (out_w == src.width() && out_h == src.height()) return Image<T>::copy_of(src);
    if (out_w <= src.width() && out_h <= src.height()) return resize_area_impl(src, out_w, out_h);
    return resize_linear_impl(src, out_w, out_h);
}

template <class T>
Image<T> resize_bilinear_checked(const ImageView<const T>& src, int out_w, int out_h) {
    require_image(src, "resize_bilinear");
    require_out_size<T>(out_w, out_h, src.channels(), "resize_bilinear");
    return resize_linear_impl(src, out_w, out_h);
}

template <class T>
Image<T> resize_area_checked(const ImageView<const T>& src, int out_w, int out_h) {
    require_image(src, "resize_area");
    require_out_size<T>(out_w, out_h, src.channels(), "resize_area");
    if (out_w > src.width() || out_h > src.height()) {
        throw std::invalid_argument("resize_area: only shrinks (" + std::to_string(src.width()) + "x" +
                                    std::to_string(src.height()) + " -> " + std::to_string(out_w) + "x" +
                                    std::to_string(out_h) + "); use resize or resize_bilinear to enlarge");
    }
    return resize_area_impl(src, out_w, out_h);
}

}  // namespace

// ---------------------------------------------------------------- public API

ImageU8 rgb_to_gray(ViewU8 rgb) {
    require_image(rgb, "rgb_to_gray");
    const int C = rgb.channels();
    if (C != 3 && C != 4) {
        throw std::invalid_argument("rgb_to_gray: expects 3 or 4 channels, got " + std::to_string(C));
    }
    // OpenCV's yuv_shift = 14 coefficients; they sum to exactly 2^14, so white stays 255.
    constexpr int kR = 4899, kG = 9617, kB = 1868;
    const int W = rgb.width();
    const int H = rgb.height();
    ImageU8 out(W, H, 1);
    for (int y = 0; y < H; ++y) {
        const std::uint8_t* s = rgb.data() + static_cast<std::ptrdiff_t>(y) * rgb.stride();
        std::uint8_t* d = out.data() + static_cast<std::size_t>(y) * W;
        for (int x = 0; x < W; ++x, s += C) {
            d[x] = static_cast<std::uint8_t>((s[0] * kR + s[1] * kG + s[2] * kB + (1 << 13)) >> 14);
        }
    }
    return out;
}

ImageU8 to_gray(ViewU8 src) {
    require_image(src, "to_gray");
    if (src.channels() == 1) return ImageU8::copy_of(src);
    return rgb_to_gray(src);
}

ImageU8 rotate_and_mirror(ViewU8 src, int quarter_turns_cw, bool mirror) {
    require_image(src, "rotate_and_mirror");
    const int turns = ((quarter_turns_cw % 4) + 4) % 4;
    const int W = src.width(), H = src.height(), C = src.channels();
    const bool swap = turns % 2 == 1;
    ImageU8 out(swap ? H : W, swap ? W : H, C);
    const int ow = out.width(), oh = out.height();
    // Output pixel (x, y) before the mirror, i.e. at x' = mirror ? ow-1-x : x,
    // comes from the source pixel that the turn carries there.
    for (int y = 0; y < oh; ++y) {
        std::uint8_t* dst = out.view().row(y);
        for (int x = 0; x < ow; ++x) {
            const int u = mirror ? ow - 1 - x : x;
            int sx = u, sy = y;
            if (turns == 1) sx = y, sy = H - 1 - u;
            else if (turns == 2) sx = W - 1 - u, sy = H - 1 - y;
            else if (turns == 3) sx = W - 1 - y, sy = u;
            const std::uint8_t* s = src.row(sy) + static_cast<std::ptrdiff_t>(sx) * C;
            for (int c = 0; c < C; ++c) dst[x * C + c] = s[c];
        }
    }
    return out;
}

float sample_bilinear(ViewU8 src, double x, double y, int channel, Border border, float border_value) {
    return sample_bilinear_impl(src, x, y, channel, border, border_value);
}

float sample_bilinear(ViewF32 src, double x, double y, int channel, Border border, float border_value) {
    return sample_bilinear_impl(src, x, y, channel, border, border_value);
}

ImageU8 warp_affine(ViewU8 src, const Affine2D& src_to_dst, int out_width, int out_height, Border border,
                    float border_value) {
    check_warp_args(src, src_to_dst, out_width, out_height, border_value);
    return warp_u8(src, src_to_dst.inverse(), out_width, out_height, border, border_value);
}

ImageF32 warp_affine(ViewF32 src, const Affine2D& src_to_dst, int out_width, int out_height, Border border,
                     float border_value) {
    check_warp_args(src, src_to_dst, out_width, out_height, border_value);
    return warp_f32(src, src_to_dst.inverse(), out_width, out_height, border, border_value);
}

ImageU8 resize(ViewU8 src, int out_width, int out_height) { return resize_dispatch(src, out_width, out_height); }
ImageF32 resize(ViewF32 src, int out_width, int out_height) { return resize_dispatch(src, out_width, out_height); }

ImageU8 resize_bilinear(ViewU8 src, int out_width, int out_height) {
    return resize_bilinear_checked(src, out_width, out_height);
}
ImageF32 resize_bilinear(ViewF32 src, int out_width, int out_height) {
    return resize_bilinear_checked(src, out_width, out_height);
}
ImageU8 resize_area(ViewU8 src, int out_width, int out_height) {
    return resize_area_checked(src, out_width, out_height);
}
ImageF32 resize_area(ViewF32 src, int out_width, int out_height) {
    return resize_area_checked(src, out_width, out_height);
}

ImageF32 to_model_input(ViewU8 gray, float mean, float std) {
    require_image(gray, "to_model_input");
    if (gray.channels() != 1) {
        throw std::invalid_argument("to_model_input: expects a 1-channel image, got " +
                                    std::to_string(gray.channels()) + " channels");
    }
    if (!std::isfinite(mean) || !std::isfinite(std) || !(std > 0.f)) {
        throw std::invalid_argument("to_model_input: mean must be finite and std finite and > 0");
    }
    // A table gives bit-for-bit the per-pixel formula at a fraction of the cost.
    float lut[256];
    for (int v = 0; v < 256; ++v) lut[v] = (static_cast<float>(v) / 255.f - mean) / std;
    const int W = gray.width();
    const int H = gray.height();
    ImageF32 out(W, H, 1);
    for (int y = 0; y < H; ++y) {
        const std::uint8_t* s = gray.data() + static_cast<std::ptrdiff_t>(y) * gray.stride();
        float* d = out.data() + static_cast<std::size_t>(y) * W;
        for (int x = 0; x < W; ++x) d[x] = lut[s[x]];
    }
    return out;
}

}  // namespace facekeys
