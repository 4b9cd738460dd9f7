#include "facekeys/image_header.hpp"

#include <cstring>

namespace facekeys {

namespace {
const std::uint8_t kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

// Walks a JPEG's marker segments from its start (SOI), skipping the
// entropy-coded data after each scan header (SOS), and calls
// on_segment(marker, i, length) for every segment that has a length (i: the
// offset of its FF). Returns the offset just past the end-of-image marker
// (EOI), or nullopt when the data is not a JPEG, is malformed, ends first, or
// on_segment returned false (stop).
template <class OnSegment>
std::optional<std::size_t> walk_jpeg(const std::uint8_t* d, std::size_t n, OnSegment&& on_segment) {
  if (!d || n < 4 || d[0] != 0xFF || d[1] != 0xD8) return std::nullopt;
  std::size_t i = 2;
  while (i + 2 <= n) {
    if (d[i] != 0xFF) return std::nullopt;  // segments follow each other back to back
    const std::uint8_t marker = d[i + 1];
    if (marker == 0xFF) {  // fill byte before a marker
      ++i;
      continue;
    }
    if (marker == 0xD9) return i + 2;
    if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {  // no length
      i += 2;
      continue;
    }
    if (i + 4 > n) return std::nullopt;
    const std::size_t len = (std::size_t{d[i + 2]} << 8) | d[i + 3];
    if (len < 2) return std::nullopt;
    if (!on_segment(marker, i, len)) return std::nullopt;
    i += 2 + len;
    if (marker != 0xDA) continue;
    // After a scan header, entropy-coded data up to the next marker: FF 00 is a
    // stuffed FF, FF D0..D7 a restart marker inside the scan, FF FF fill.
    while (i + 1 < n) {
      if (d[i] != 0xFF) {
        ++i;
        continue;
      }
      const std::uint8_t next = d[i + 1];
      if (next == 0x00 || (next >= 0xD0 && next <= 0xD7)) {
        i += 2;
        continue;
      }
      if (next == 0xFF) {
        ++i;
        continue;
      }
      break;  // a marker: back to the segment walk (DHT, SOS of the next progressive scan, EOI)
    }
    if (i + 1 >= n) return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

std::optional<ImageSize> jpeg_size(const std::uint8_t* d, std::size_t n) {
  std::optional<ImageSize> size;
  walk_jpeg(d, n, [&](std::uint8_t marker, std::size_t i, std::size_t len) {
    if (marker == 0xDA) return false;  // a scan before any SOF
    // SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC): precision, height, width.
    const bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (!sof) return true;
    if (len >= 7 && i + 9 <= n) {
      ImageSize s;
      s.height = (d[i + 5] << 8) | d[i + 6];  // 0 would mean "see the DNL marker": callers refuse it
      s.width = (d[i + 7] << 8) | d[i + 8];
      size = s;
    }
    return false;  // found (or cut): nothing more to read
  });
  return size;
}

std::optional<std::size_t> jpeg_end(const std::uint8_t* d, std::size_t n) {
  return walk_jpeg(d, n, [](std::uint8_t, std::size_t, std::size_t) { return true; });
}


std::optional<ImageSize> png_size(const std::uint8_t* d, std::size_t n) {
  if (!d || n < 24 || std::memcmp(d, kPngSignature, 8) != 0 || std::memcmp(d + 12, "IHDR", 4) != 0) return std::nullopt;
  auto be32 = [](const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
  };
  return ImageSize{be32(d + 16), be32(d + 20)};
}

std::optional<ImageSize> image_size(const std::uint8_t* d, std::size_t n) {
  if (auto s = png_size(d, n)) return s;
  return jpeg_size(d, n);
}

ImageFormat image_format(const std::uint8_t* d, std::size_t n) {
  if (!d) return ImageFormat::Unknown;
  if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) return ImageFormat::Jpeg;
  if (n >= 8 && std::memcmp(d, kPngSignature, 8) == 0) return ImageFormat::Png;
  if (n >= 12 && std::memcmp(d, "RIFF", 4) == 0 && std::memcmp(d + 8, "WEBP", 4) == 0) return ImageFormat::Webp;
  return ImageFormat::Unknown;
}

const char* image_format_name(ImageFormat f) {
  switch (f) {
    case ImageFormat::Jpeg: return "JPEG";
    case ImageFormat::Png: return "PNG";
    case ImageFormat::Webp: return "WebP";
    default: return "unknown";
  }
}

std::string image_size_problem(long long width, long long height) {
  const std::string size = std::to_string(width) + "x" + std::to_string(height);
  if (width <= 0 || height <= 0) return "image is " + size + ", nothing to predict";
  // Either side over the limit is enough, and keeps the product below 10^16.
  if (width > kMaxImagePixels || height > kMaxImagePixels || width * height > kMaxImagePixels) {
    const long double mp = static_cast<long double>(width) * static_cast<long double>(height) / 1e6L;
    return "image is " + size + " (" + std::to_string(static_cast<unsigned long long>(mp)) +
           " megapixels), over the limit of " + std::to_string(kMaxImagePixels / 1'000'000) +
           " megapixels: downscale it first";
  }
  return "";
}

bool image_is_complete(ImageFormat f, const std::uint8_t* head, std::size_t head_size, const std::uint8_t* tail,
                       std::size_t tail_size, unsigned long long file_size) {
  if (!tail) tail_size = 0;
  auto tail_has = [&](const char* what, std::size_t len) {
    for (std::size_t i = tail_size; i >= len; --i)  // from the end: the marker is usually in the last bytes
      if (std::memcmp(tail + i - len, what, len) == 0) return true;
    return false;
  };
  switch (f) {
    case ImageFormat::Jpeg: return tail_has("\xFF\xD9", 2) || jpeg_end(head, head ? head_size : 0).has_value();
    case ImageFormat::Png: return tail_has("IEND", 4);
    case ImageFormat::Webp: {
      if (!head || head_size < 8) return false;
      const unsigned long long riff = std::uint32_t{head[4]} | (std::uint32_t{head[5]} << 8) |
                                      (std::uint32_t{head[6]} << 16) | (std::uint32_t{head[7]} << 24);
      return riff + 8 <= file_size;
    }
    default: return true;
  }
}

ImageHeader read_image_header(const std::uint8_t* head, std::size_t head_size, const std::uint8_t* tail,
                              std::size_t tail_size, unsigned long long file_size) {
  ImageHeader h;
  h.format = image_format(head, head_size);
  h.size = image_size(head, head_size);
  h.complete = image_is_complete(h.format, head, head_size, tail, tail_size, file_size);
  h.needs_whole_file = !h.complete && h.format == ImageFormat::Jpeg && head_size < file_size;
  return h;
}

std::string truncated_image_message(ImageFormat format) {
  return std::string("the ") + image_format_name(format) + " file is truncated (incomplete download?)";
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
