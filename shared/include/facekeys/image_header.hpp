// What a photo's first and last bytes say: its format, whether the file is
// whole, its size (PNG, JPEG), and the scale to decode a JPEG at before
// detection and keypoints.
//
// Both front ends check a photo with these before decoding it: decoders
// (OpenCV's, the browser's) draw a truncated JPEG or PNG with the missing part
// grey and no error, and a prediction on half a photo is worse than a clear
// message.
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
#include <string>

namespace facekeys {

constexpr long long kScaledDecodeMinPixels = 8'000'000;

// How many of a file's first bytes image_size needs: the JPEG frame header
// comes after any EXIF, ICC and XMP segments (each at most 64 KB, usually
// far less: read kImageHeaderFirstBytes first, and the rest only when the
// size is not in them).
constexpr std::size_t kImageHeaderBytes = 1 << 20;
constexpr std::size_t kImageHeaderFirstBytes = 1 << 16;
// How many of a file's last bytes image_is_complete needs.
constexpr std::size_t kImageTailBytes = 4096;

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

enum class ImageFormat { Unknown = 0, Jpeg = 1, Png = 2, Webp = 3 };

// The format the file's first bytes (12 are enough) name by their signature.
ImageFormat image_format(const std::uint8_t* head, std::size_t size);
// "JPEG", "PNG", "WebP" or "unknown".
const char* image_format_name(ImageFormat format);

// Largest image the front ends decode, in pixels (`facekeys predict` and the
// browser alike). Larger ones are refused before decoding when the header
// says the size (PNG, JPEG), else after.
constexpr long long kMaxImagePixels = 100'000'000;
// Why an image of this size cannot be used ("image is 0x0, nothing to
// predict", "image is 20000x20000 (400 megapixels), over the limit of 100
// megapixels: downscale it first"), or "" when it can. Safe for any stored
// size (a PNG's 32-bit fields multiply past 2^63).
std::string image_size_problem(long long width, long long height);

// Where a JPEG's end-of-image marker (FF D9) ends, walking its segments and
// the entropy-coded data of each scan from the start of `data`; nullopt when
// `data` ends (or stops being a JPEG) before it.
std::optional<std::size_t> jpeg_end(const std::uint8_t* data, std::size_t size);

// Whether a file of `file_size` bytes is whole, from its first bytes `head`
// and its last bytes `tail` (up to kImageTailBytes; both may be the whole
// file): a JPEG's end-of-image marker (FF D9) or a PNG's IEND chunk lies in
// the tail (a little trailing data after it is allowed), a WebP's RIFF size
// fits in the file. True for ImageFormat::Unknown (nothing to check).
// A JPEG can carry megabytes after its end (a phone's "motion photo" appends
// its video there): when the marker is not in the tail, the JPEG is walked
// from the start with jpeg_end, which can only succeed when `head` reaches
// that far. A caller that got `false` for a JPEG from a shorter head checks
// again with the whole file as `head` (read_image_header says so in
// ImageHeader::needs_whole_file).
bool image_is_complete(ImageFormat format, const std::uint8_t* head, std::size_t head_size, const std::uint8_t* tail,
                       std::size_t tail_size, unsigned long long file_size);

// All of the above for one file, as both front ends check a photo before
// decoding it (`facekeys predict`: sniff_image; the browser: fk_image_check).
struct ImageHeader {
  ImageFormat format = ImageFormat::Unknown;
  std::optional<ImageSize> size;  // JPEG, PNG: as stored; nullopt when the header does not say
  bool complete = true;           // image_is_complete
  // A JPEG not found complete from a head shorter than the file: check again
  // with the whole file as head before calling it truncated.
  bool needs_whole_file = false;
};
ImageHeader read_image_header(const std::uint8_t* head, std::size_t head_size, const std::uint8_t* tail,
                              std::size_t tail_size, unsigned long long file_size);
// What both front ends say about a file that is not complete, e.g. "the JPEG
// file is truncated (incomplete download?)".
std::string truncated_image_message(ImageFormat format);

// The DCT scale divisor (1, 2, 4 or 8) to decode a width x height JPEG at: 1
// under kScaledDecodeMinPixels, else the largest that leaves at least
// min_work_pixels. The decoded image is ceil(width / s) x ceil(height / s).
int jpeg_decode_divisor(long long width, long long height, long long min_work_pixels);

}  // namespace facekeys
