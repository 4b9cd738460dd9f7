// The core's JPEG scan validator (jpeg_scan.hpp, what the page runs) against
// libjpeg's verdict (native/jpeg_check.cpp, what `facekeys predict` runs): the
// same answer on every photo of the datasets, on progressive and
// restart-interval copies of them (transcoded losslessly with libjpeg), and on
// mutated copies of all of these (bits flipped, bytes overwritten, runs zeroed
// or cut out).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <jpeglib.h>

#include "facekeys/file_io.hpp"
#include "facekeys/jpeg_scan.hpp"
#include "tools/jpeg_check.hpp"

#include "support/catch.hpp"

using namespace facekeys;
namespace fs = std::filesystem;

namespace {

const std::string kData = FACEKEYS_DATA_DIR;

std::vector<std::string> dataset_jpegs() {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(kData)) {
    if (!e.is_regular_file()) continue;
    std::string ext = e.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (ext == ".jpg" || ext == ".jpeg") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string libjpeg_verdict(const std::vector<std::uint8_t>& b) {
  try {
    check_jpeg_data(b.data(), b.size(), "f");
    return "";
  } catch (const std::exception& e) {
    return e.what();
  }
}

// The same coefficients written progressive (libjpeg's standard script)
// and/or with a restart interval of `restart` MCUs: no decoding error added.
std::vector<std::uint8_t> transcode(const std::vector<std::uint8_t>& in, bool progressive, unsigned restart) {
  jpeg_decompress_struct src{};
  jpeg_compress_struct dst{};
  jpeg_error_mgr jerr{};
  src.err = jpeg_std_error(&jerr);
  dst.err = jpeg_std_error(&jerr);
  jpeg_create_decompress(&src);
  jpeg_create_compress(&dst);
  jpeg_mem_src(&src, in.data(), static_cast<unsigned long>(in.size()));
  jpeg_read_header(&src, TRUE);
  jvirt_barray_ptr* coefs = jpeg_read_coefficients(&src);
  unsigned char* out = nullptr;
  unsigned long out_size = 0;
  jpeg_mem_dest(&dst, &out, &out_size);
  jpeg_copy_critical_parameters(&src, &dst);
  if (progressive) jpeg_simple_progression(&dst);
  dst.restart_interval = restart;
  jpeg_write_coefficients(&dst, coefs);
  jpeg_finish_compress(&dst);
  jpeg_destroy_compress(&dst);
  jpeg_finish_decompress(&src);
  jpeg_destroy_decompress(&src);
  std::vector<std::uint8_t> result(out, out + out_size);
  std::free(out);
  return result;
}

// Damage in the middle 3/4 of the file, of one of five kinds.
std::vector<std::uint8_t> mutate(std::vector<std::uint8_t> b, int kind, std::mt19937& rng) {
  const std::size_t n = b.size();
  const std::size_t a = n / 8 + rng() % (n * 3 / 4);
  const std::size_t stop = n - 2;  // the end marker stays: the header check sees a whole file
  switch (kind) {
    case 0: b[a] ^= static_cast<std::uint8_t>(1u << (rng() % 8)); break;
    case 1:
      for (std::size_t k = a, e = std::min(stop, a + 1 + rng() % 64); k < e; ++k) b[k] = static_cast<std::uint8_t>(rng());
      break;
    case 2:
      for (std::size_t k = a, e = std::min(stop, a + 100 + rng() % 4000); k < e; ++k) b[k] = 0;
      break;
    case 3: b.erase(b.begin() + static_cast<long>(a), b.begin() + static_cast<long>(std::min(stop, a + 1 + rng() % 200))); break;
    default: b[a] = static_cast<std::uint8_t>(rng()); break;
  }
  return b;
}

}  // namespace

TEST_CASE("jpeg_scan: the damaged JPEGs check_jpeg_data refuses, refused in the same cases", "[predict][jpeg_scan]") {
  const std::vector<std::uint8_t> good = read_file_bytes(kData + "/imm_face_db/01-1m.jpg");
  CHECK(jpeg_scan_problem(good.data(), good.size()).empty());
  std::vector<std::uint8_t> zeroed = good;
  std::fill(zeroed.begin() + 3000, zeroed.begin() + 9000, std::uint8_t{0});
  CHECK_THROWS_WITH(check_jpeg_scan(zeroed.data(), zeroed.size(), "zeroed.jpg"),
                    Catch::Matchers::StartsWith("zeroed.jpg: corrupt JPEG data: "));
  std::vector<std::uint8_t> noisy = good;
  std::mt19937 rng(3);
  for (std::size_t i = 5000; i < 5400; ++i) noisy[i] = static_cast<std::uint8_t>(rng());
  CHECK_THROWS_WITH(check_jpeg_scan(noisy.data(), noisy.size(), "noisy.jpg"), Catch::Matchers::ContainsSubstring("corrupt JPEG data"));
  const std::string text = "\xff\xd8\xff but then nothing a decoder can use";
  CHECK_THROWS_WITH(check_jpeg_scan(reinterpret_cast<const std::uint8_t*>(text.data()), text.size(), "text.jpg"),
                    Catch::Matchers::StartsWith("text.jpg: corrupt JPEG data: "));
  // A scan cut short before an intact end marker: fewer MCUs than the frame needs.
  std::vector<std::uint8_t> cut(good.begin(), good.begin() + static_cast<long>(good.size() / 2));
  cut.push_back(0xFF);
  cut.push_back(0xD9);
  CHECK_THAT(jpeg_scan_problem(cut.data(), cut.size()), Catch::Matchers::ContainsSubstring("premature end of data segment"));
  CHECK_FALSE(libjpeg_verdict(cut).empty());
  // A restart marker out of sequence.
  std::vector<std::uint8_t> rst = transcode(good, false, 4);
  CHECK(jpeg_scan_problem(rst.data(), rst.size()).empty());
  const std::uint8_t rst3[] = {0xFF, 0xD3};
  const auto at = std::search(rst.begin() + 1000, rst.end(), std::begin(rst3), std::end(rst3));
  REQUIRE(at != rst.end());
  at[1] = 0xD5;
  CHECK_THAT(jpeg_scan_problem(rst.data(), rst.size()), Catch::Matchers::ContainsSubstring("found marker 0xd5 instead of RST3"));
  CHECK_FALSE(libjpeg_verdict(rst).empty());
}

TEST_CASE("jpeg_scan agrees with libjpeg on every dataset photo, progressive and restart copies, and mutants",
          "[predict][jpeg_scan]") {
  const std::vector<std::string> files = dataset_jpegs();
  REQUIRE(files.size() >= 1000);  // IMM 240, LFPW's training JPEGs, dlib's examples
  std::mt19937 rng(24);
  std::size_t checked = 0, damaged = 0, progressive = 0;
  auto compare = [&](const std::vector<std::uint8_t>& b, const std::string& what) {
    const std::string ours = jpeg_scan_problem(b.data(), b.size());
    const std::string theirs = libjpeg_verdict(b);
    INFO(what << "\n  core:    " << ours << "\n  libjpeg: " << theirs);
    CHECK(ours.empty() == theirs.empty());
    ++checked;
    damaged += !theirs.empty();
  };
  for (std::size_t i = 0; i < files.size(); ++i) {
    const std::vector<std::uint8_t> photo = read_file_bytes(files[i]);
    // Every photo, as it is: both accept it.
    const std::string ours = jpeg_scan_problem(photo.data(), photo.size());
    INFO(files[i]);
    CHECK(ours.empty());
    CHECK(libjpeg_verdict(photo).empty());
    std::vector<std::vector<std::uint8_t>> variants = {photo};
    if (i % 10 == 0) {  // every tenth photo also progressive, with restarts, and both
      variants.push_back(transcode(photo, true, 0));
      variants.push_back(transcode(photo, false, 1 + rng() % 8));
      variants.push_back(transcode(photo, true, 1 + rng() % 8));
      progressive += 2;
    }
    for (std::size_t v = 0; v < variants.size(); ++v) {
      if (v > 0) compare(variants[v], files[i] + " variant " + std::to_string(v));
      for (int m = 0; m < (v == 0 ? 3 : 10); ++m)
        compare(mutate(variants[v], static_cast<int>(rng() % 5), rng), files[i] + " variant " + std::to_string(v) + " mutant " + std::to_string(m));
    }
  }
  std::printf("jpeg_scan vs libjpeg: %zu files compared (%zu progressive), %zu of them damaged by libjpeg's verdict\n", checked,
              progressive, damaged);
  CHECK(damaged > checked / 4);  // the mutants do damage (a check that cannot fail proves nothing)
}
