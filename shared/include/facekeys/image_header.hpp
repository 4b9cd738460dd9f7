// What a photo's first bytes say: its size (PNG, JPEG), and the scale to
// decode a JPEG at before detection and keypoints.
//
// Sizes let tools refuse a 0x0 or gigantic image before decoding it. A JPEG
// can be decoded at 1/2, 1/4 or 1/8 of its size directly in the DCT domain
// (libjpeg's scaled IDCT; in the browser, ImageDecoder with desiredWidth /
// desiredHeight), several times faster than a full decode and with far fewer
// pixels to read back, convert and resize afterwards. How many pixels a photo
// must keep depends on the model (keypoint_min_work_pixels in
// keypoint_pipeline.hpp). Photos under kScaledDecodeMinPixels are always
// decoded at full size, so ordinary photos (every dataset image among them)
// are processed exactly as `facekeys predict` does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

namespace facekeys {

constexpr long long kScaledDecodeMinPixels = 8'000'000;

// How many of a file's first bytes image_size needs: the JPEG frame header
// comes after any EXIF, ICC and XMP segments (each at most 64 KB).
constexpr std::size_t kImageHeaderBytes = 1 << 20;

struct ImageSize {
  long long width = 0, height = 0;  // as stored (before any EXIF orientation; PNG: the raw 32-bit fields)
};

// The frame size from a JPEG's SOFn marker, scanning the marker segments of
// `data` (the file's first bytes). nullopt when `data` is not a JPEG or the
// header is cut before the SOF or malformed. A size of 0 is returned as read.
std::optional<ImageSize> jpeg_size(const std::uint8_t* data, std::size_t size);
// The size in a PNG's IHDR chunk; nullopt when `data` is not a PNG header.
std::optional<ImageSize> png_size(const std::uint8_t* data, std::size_t size);
// Either of the two.
std::optional<ImageSize> image_size(const std::uint8_t* data, std::size_t size);

// The DCT scale divisor (1, 2, 4 or 8) to decode a width x height JPEG at: 1
// under kScaledDecodeMinPixels, else the largest that leaves at least
// min_work_pixels. The decoded image is ceil(width / s) x ceil(height / s).
int jpeg_decode_divisor(long long width, long long height, long long min_work_pixels);

}  // namespace facekeys
