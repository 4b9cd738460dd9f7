// The resolution a photo is decoded at before detection and keypoints.
//
// A JPEG can be decoded at 1/2, 1/4 or 1/8 of its size directly in the DCT
// domain (libjpeg's scaled IDCT; in the browser, ImageDecoder with
// desiredWidth/desiredHeight), several times faster than a full decode and
// with far fewer pixels to read back, convert and resize afterwards. Nothing
// downstream needs many pixels: detection runs at 320x240 and keypoint crops
// are at most 240 px wide, so a photo keeps at least kMinWorkPixels (a face a
// fifth of the photo's width still gets a crop sampled at about 1:1).
// Photos under 4 * kMinWorkPixels (8 MP) are decoded at full size, so every
// dataset image is processed exactly as `facekeys predict` does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

namespace facekeys {

constexpr long long kMinWorkPixels = 2'000'000;

struct JpegSize {
  int width = 0, height = 0;  // as coded, before any EXIF orientation
};

// The frame size from a JPEG's SOFn marker, scanning the marker segments of
// `data` (the file's first bytes: the SOF comes before the scan data, after
// any EXIF/ICC segments, so 256 KB is plenty). nullopt when `data` is not a
// JPEG or the header is cut before the SOF or malformed.
std::optional<JpegSize> jpeg_size(const std::uint8_t* data, std::size_t size);

// The DCT scale divisor (1, 2, 4 or 8) to decode a width x height JPEG at: the
// largest that leaves at least kMinWorkPixels. The decoded image is
// ceil(width / s) x ceil(height / s).
int jpeg_decode_divisor(int width, int height);

}  // namespace facekeys
