// Image sizes from file headers, and the JPEG DCT decode divisor (image_header.hpp).
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "facekeys/image_header.hpp"

#include "support/catch.hpp"

using namespace facekeys;

namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes segment(std::uint8_t marker, const Bytes& body) {
  const std::size_t len = body.size() + 2;
  Bytes s(len + 2);
  s[0] = 0xFF;
  s[1] = marker;
  s[2] = static_cast<std::uint8_t>(len >> 8);
  s[3] = static_cast<std::uint8_t>(len & 0xFF);
  std::copy(body.begin(), body.end(), s.begin() + 4);
  return s;
}
Bytes sof(std::uint8_t marker, int w, int h) {
  return segment(marker, {8, static_cast<std::uint8_t>(h >> 8), static_cast<std::uint8_t>(h), static_cast<std::uint8_t>(w >> 8),
                          static_cast<std::uint8_t>(w), 1, 1, 0x11, 0});
}
Bytes jpeg(std::initializer_list<Bytes> parts) {
  Bytes out = {0xFF, 0xD8};
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}
std::optional<ImageSize> size_of(const Bytes& b) { return jpeg_size(b.data(), b.size()); }

}  // namespace

TEST_CASE("jpeg_size reads the SOF after other segments", "[image_header]") {
  const Bytes exif = segment(0xE1, Bytes(300, 7));  // APP1, e.g. EXIF
  const Bytes dqt = segment(0xDB, Bytes(65, 1));
  const Bytes dht = segment(0xC4, Bytes(30, 2));    // DHT: 0xC4 is not a SOF
  auto s = size_of(jpeg({exif, dqt, dht, sof(0xC0, 4000, 3000), segment(0xDA, Bytes(10, 0))}));
  REQUIRE(s);
  CHECK(s->width == 4000);
  CHECK(s->height == 3000);
  s = size_of(jpeg({sof(0xC2, 641, 479)}));  // progressive
  REQUIRE(s);
  CHECK(s->width == 641);
  CHECK(s->height == 479);
  Bytes filled = jpeg({exif});
  filled.push_back(0xFF);  // a fill byte before the next marker
  const Bytes f = sof(0xC1, 10, 20);
  filled.insert(filled.end(), f.begin(), f.end());
  s = size_of(filled);
  REQUIRE(s);
  CHECK(s->width == 10);
}

TEST_CASE("jpeg_size refuses what is not a complete JPEG header", "[image_header]") {
  CHECK_FALSE(size_of({}));
  CHECK_FALSE(size_of({0x89, 'P', 'N', 'G', 13, 10, 26, 10}));
  CHECK_FALSE(jpeg_size(nullptr, 100));
  Bytes cut = jpeg({segment(0xE1, Bytes(300, 7)), sof(0xC0, 4000, 3000)});
  cut.resize(cut.size() - 6);  // SOF cut before its width
  CHECK_FALSE(size_of(cut));
  CHECK_FALSE(size_of(jpeg({segment(0xDA, Bytes(4, 0)), sof(0xC0, 8, 8)})));  // scan before the SOF
  const auto zero = size_of(jpeg({sof(0xC0, 0, 3000)}));  // read as stored: callers refuse 0
  REQUIRE(zero);
  CHECK(zero->width == 0);
  Bytes garbage = {0xFF, 0xD8};
  garbage.insert(garbage.end(), {0x12, 0x34, 0x56, 0x78});  // not a marker
  CHECK_FALSE(size_of(garbage));
  Bytes zero_len = {0xFF, 0xD8};
  zero_len.insert(zero_len.end(), {0xFF, 0xE0, 0, 0, 0, 0});
  CHECK_FALSE(size_of(zero_len));
}

TEST_CASE("png_size reads IHDR; image_size takes either", "[image_header]") {
  Bytes png = {0x89, 'P', 'N', 'G', 13, 10, 26, 10, 0, 0, 0, 13, 'I', 'H', 'D', 'R', 0, 0, 0x0F, 0xA0, 0x80, 0, 0, 1, 8, 2};
  auto s = png_size(png.data(), png.size());
  REQUIRE(s);
  CHECK(s->width == 4000);
  CHECK(s->height == 0x80000001LL);  // unsigned 32-bit: a corrupt height is not negative
  s = image_size(png.data(), png.size());
  REQUIRE(s);
  CHECK(s->width == 4000);
  CHECK_FALSE(png_size(png.data(), 20));
  png[12] = 'X';
  CHECK_FALSE(png_size(png.data(), png.size()));
  const Bytes j = jpeg({sof(0xC0, 33, 44)});
  s = image_size(j.data(), j.size());
  REQUIRE(s);
  CHECK(s->height == 44);
}

TEST_CASE("jpeg_decode_divisor: full size under 8 MP, else the smallest decode that keeps enough pixels", "[image_header]") {
  const long long two_mp = 2'000'000;
  CHECK(jpeg_decode_divisor(640, 480, two_mp) == 1);      // IMM
  CHECK(jpeg_decode_divisor(2000, 3000, 1000) == 1);      // 6 MP: under kScaledDecodeMinPixels
  CHECK(jpeg_decode_divisor(2828, 2828, 1000) == 1);      // 7.997 MP
  CHECK(jpeg_decode_divisor(2829, 2829, two_mp) == 2);    // 8.003 MP -> 1415x1415
  CHECK(jpeg_decode_divisor(4000, 3000, two_mp) == 2);    // 12 MP -> 2000x1500
  CHECK(jpeg_decode_divisor(4000, 3000, 307'200) == 4);   // -> 1000x750 (whole-image models)
  CHECK(jpeg_decode_divisor(4000, 3000, 100) == 8);
  CHECK(jpeg_decode_divisor(4000, 3000, 13'000'000) == 1);  // nothing smaller is enough
  CHECK(jpeg_decode_divisor(8660, 5774, two_mp) == 4);    // 50 MP -> 2165x1444
  CHECK(jpeg_decode_divisor(20000, 15000, two_mp) == 8);
  CHECK(jpeg_decode_divisor(0, 100, two_mp) == 1);
  for (int w : {3000, 4000, 6000, 9000, 30000})
    for (int h : {2000, 3000, 4500})
      for (long long need : {300'000LL, two_mp}) {
        const int s = jpeg_decode_divisor(w, h, need);
        const long long ww = (w + s - 1) / s, hh = (h + s - 1) / s;
        CHECK((ww * hh >= need || s == 1));
        if (s < 8 && static_cast<long long>(w) * h >= kScaledDecodeMinPixels) {  // and it is the smallest such
          const long long w2 = (w + 2 * s - 1) / (2 * s), h2 = (h + 2 * s - 1) / (2 * s);
          CHECK(w2 * h2 < need);
        }
      }
}

TEST_CASE("image_format names JPEG, PNG and WebP by their signatures", "[image_header]") {
  const Bytes j = {0xFF, 0xD8, 0xFF, 0xE0}, p = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  const Bytes w = {'R', 'I', 'F', 'F', 4, 0, 0, 0, 'W', 'E', 'B', 'P'}, t = {'h', 'e', 'l', 'l', 'o'};
  CHECK(image_format(j.data(), j.size()) == ImageFormat::Jpeg);
  CHECK(image_format(p.data(), p.size()) == ImageFormat::Png);
  CHECK(image_format(w.data(), w.size()) == ImageFormat::Webp);
  CHECK(image_format(t.data(), t.size()) == ImageFormat::Unknown);
  CHECK(image_format(j.data(), 2) == ImageFormat::Unknown);
  CHECK(image_format(nullptr, 10) == ImageFormat::Unknown);
  CHECK(std::string(image_format_name(ImageFormat::Webp)) == "WebP");
}

TEST_CASE("image_is_complete finds the end of a JPEG or PNG and checks a WebP's size", "[image_header]") {
  auto complete = [](ImageFormat f, const Bytes& b) {
    const std::size_t tail = std::min(b.size(), kImageTailBytes);
    return image_is_complete(f, b.data(), b.size(), b.data() + b.size() - tail, tail, b.size());
  };
  Bytes j = jpeg({segment(0xE1, Bytes(300, 7)), sof(0xC0, 64, 48), Bytes(9000, 0x55)});
  CHECK_FALSE(complete(ImageFormat::Jpeg, j));  // cut inside the scan
  j.push_back(0xFF);
  j.push_back(0xD9);
  CHECK(complete(ImageFormat::Jpeg, j));
  j.insert(j.end(), 200, 0);  // trailing bytes after the end marker, as some cameras write
  CHECK(complete(ImageFormat::Jpeg, j));
  j.insert(j.end(), kImageTailBytes, 0);  // kilobytes of them: the end is not in the tail, nor found from the
  CHECK_FALSE(complete(ImageFormat::Jpeg, j));  // head (this test file has no scan header: not walkable)

  Bytes p = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  p.insert(p.end(), 5000, 1);
  CHECK_FALSE(complete(ImageFormat::Png, p));
  for (char c : std::string("\0\0\0\0IEND\xae\x42\x60\x82", 12)) p.push_back(static_cast<std::uint8_t>(c));
  CHECK(complete(ImageFormat::Png, p));

  Bytes w = {'R', 'I', 'F', 'F', 100, 0, 0, 0, 'W', 'E', 'B', 'P'};
  w.resize(108, 0);
  CHECK(complete(ImageFormat::Webp, w));
  w.resize(107);
  CHECK_FALSE(complete(ImageFormat::Webp, w));
  CHECK(image_is_complete(ImageFormat::Unknown, nullptr, 0, nullptr, 0, 0));
  CHECK_FALSE(image_is_complete(ImageFormat::Jpeg, j.data(), j.size(), nullptr, 0, j.size()));
}

namespace {
// A JPEG with a scan whose entropy-coded data holds a stuffed FF 00, a restart
// marker and fill bytes, then a second (progressive-style) scan, then the end.
Bytes walkable_jpeg() {
  Bytes scan_data = {0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0xFF, 0xFF};
  Bytes j = jpeg({segment(0xE1, Bytes(300, 7)), sof(0xC2, 64, 48), segment(0xC4, Bytes(20, 1)),
                  segment(0xDA, {1, 1, 0, 0, 63, 0}), scan_data, segment(0xC4, Bytes(20, 2)),
                  segment(0xDA, {1, 1, 0, 0, 63, 0}), Bytes(5000, 0x55)});
  j.push_back(0xFF);
  j.push_back(0xD9);
  return j;
}
}  // namespace

TEST_CASE("jpeg_end walks segments and scans to the end-of-image marker", "[image_header]") {
  const Bytes j = walkable_jpeg();
  REQUIRE(jpeg_end(j.data(), j.size()) == j.size());
  Bytes motion = j;  // a motion photo: a video after the JPEG's end
  motion.insert(motion.end(), 100000, 0xFF);
  motion[j.size() + 500] = 0xD9;
  CHECK(jpeg_end(motion.data(), motion.size()) == j.size());
  // Cut anywhere before the end: not found. Inside the scan data an FF D9 only
  // counts as a marker, never inside a segment's payload.
  for (std::size_t cut : {std::size_t{1}, std::size_t{3}, std::size_t{200}, std::size_t{340}, j.size() - 1000,
                          j.size() - 1})
    CHECK_FALSE(jpeg_end(j.data(), cut).has_value());
  Bytes payload_d9 = jpeg({segment(0xE1, {0xFF, 0xD9, 0xFF, 0xD9})});
  CHECK_FALSE(jpeg_end(payload_d9.data(), payload_d9.size()).has_value());
  CHECK_FALSE(jpeg_end(nullptr, 10).has_value());
  const Bytes not_jpeg = {0x89, 'P', 'N', 'G'};
  CHECK_FALSE(jpeg_end(not_jpeg.data(), not_jpeg.size()).has_value());
}

TEST_CASE("a JPEG with megabytes after its end is whole when walked from the start", "[image_header]") {
  const Bytes j = walkable_jpeg();
  Bytes motion = j;
  motion.insert(motion.end(), 3 * kImageTailBytes, 0x20);
  const std::uint8_t* tail = motion.data() + motion.size() - kImageTailBytes;
  // From the first bytes only: not found, and the header asks for the whole file.
  ImageHeader h = read_image_header(motion.data(), 1000, tail, kImageTailBytes, motion.size());
  CHECK_FALSE(h.complete);
  CHECK(h.needs_whole_file);
  h = read_image_header(motion.data(), motion.size(), tail, kImageTailBytes, motion.size());
  CHECK(h.complete);
  CHECK_FALSE(h.needs_whole_file);
  REQUIRE(h.size);
  CHECK(h.size->width == 64);
  // Truncated inside the scan, the whole file given: truncated, nothing more to ask.
  Bytes cut(j.begin(), j.end() - 2000);
  // (the tail is the last kImageTailBytes, or the whole file when it is shorter: found by ASan, the
  // test pointed before the file)
  const std::size_t cut_tail = std::min(cut.size(), kImageTailBytes);
  h = read_image_header(cut.data(), cut.size(), cut.data() + cut.size() - cut_tail, cut_tail, cut.size());
  CHECK_FALSE(h.complete);
  CHECK_FALSE(h.needs_whole_file);
  CHECK(truncated_image_message(h.format) == "the JPEG file is truncated (incomplete download?)");
  // A PNG never needs more than its tail.
  Bytes p = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  p.insert(p.end(), 5000, 1);
  h = read_image_header(p.data(), 100, p.data() + p.size() - 100, 100, p.size());
  CHECK_FALSE(h.complete);
  CHECK_FALSE(h.needs_whole_file);
}

TEST_CASE("image_size_problem refuses empty and gigantic sizes without overflow", "[image_header]") {
  CHECK(image_size_problem(4000, 3000).empty());
  CHECK(image_size_problem(10000, 10000).empty());  // exactly the limit
  CHECK(image_size_problem(0, 480) == "image is 0x480, nothing to predict");
  CHECK(image_size_problem(640, -1) == "image is 640x-1, nothing to predict");
  CHECK(image_size_problem(20000, 20000) ==
        "image is 20000x20000 (400 megapixels), over the limit of 100 megapixels: downscale it first");
  CHECK(image_size_problem(10001, 10000).find("over the limit") != std::string::npos);
  // A PNG's IHDR can say 2^32-1 by 2^32-1: the product does not fit in 64 bits.
  const long long big = 0xFFFFFFFFLL;
  CHECK(image_size_problem(big, big).find("over the limit of 100 megapixels") != std::string::npos);
  CHECK(image_size_problem(big, 1).find("over the limit") != std::string::npos);
}
