#include "facekeys/image_header.hpp"

#include <cstring>

namespace facekeys {

std::optional<ImageSize> jpeg_size(const std::uint8_t* d, std::size_t n) {
  if (!d || n < 4 || d[0] != 0xFF || d[1] != 0xD8) return std::nullopt;
  std::size_t i = 2;
  while (i + 4 <= n) {
    if (d[i] != 0xFF) return std::nullopt;  // segments follow each other back to back
    const std::uint8_t marker = d[i + 1];
    if (marker == 0xFF) {  // fill byte
      ++i;
      continue;
    }
    if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {  // no length
      i += 2;
      continue;
    }
    if (marker == 0xD9 || marker == 0xDA) return std::nullopt;  // end of image / scan before any SOF
    const std::size_t len = (std::size_t{d[i + 2]} << 8) | d[i + 3];
    if (len < 2) return std::nullopt;
    // SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC): precision, height, width.
    const bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof) {
      if (len < 7 || i + 9 > n) return std::nullopt;
      ImageSize s;
      s.height = (d[i + 5] << 8) | d[i + 6];  // 0 would mean "see the DNL marker": callers refuse it
      s.width = (d[i + 7] << 8) | d[i + 8];
      return s;
    }
    i += 2 + len;
  }
  return std::nullopt;
}

std::optional<ImageSize> png_size(const std::uint8_t* d, std::size_t n) {
  static const std::uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (!d || n < 24 || std::memcmp(d, kSignature, 8) != 0 || std::memcmp(d + 12, "IHDR", 4) != 0) return std::nullopt;
  auto be32 = [](const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
  };
  return ImageSize{be32(d + 16), be32(d + 20)};
}

std::optional<ImageSize> image_size(const std::uint8_t* d, std::size_t n) {
  if (auto s = png_size(d, n)) return s;
  return jpeg_size(d, n);
}

int jpeg_decode_divisor(long long width, long long height, long long min_work_pixels) {
  if (width <= 0 || height <= 0 || width * height < kScaledDecodeMinPixels) return 1;
  int best = 1;
  for (int s = 2; s <= 8; s *= 2) {
    const long long w = (width + s - 1) / s, h = (height + s - 1) / s;
    if (w * h >= min_work_pixels) best = s;
  }
  return best;
}

}  // namespace facekeys
