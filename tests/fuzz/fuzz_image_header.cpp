// Image headers and the photo check both front ends run before decoding
// (read_image_header: format, size, completeness; jpeg_end's segment walk).
#include "facekeys/image_header.hpp"
#include "fuzz_target.hpp"

namespace {
void check_photo(const std::vector<std::uint8_t>& b) {
  const std::size_t head = b.size() < 4096 ? b.size() : 4096, tail = b.size() < 1024 ? b.size() : 1024;
  facekeys::ImageHeader h =
      facekeys::read_image_header(b.data(), head, b.data() + b.size() - tail, tail, b.size());
  if (h.needs_whole_file) h = facekeys::read_image_header(b.data(), b.size(), b.data() + b.size() - tail, tail, b.size());
  if (h.size) (void)facekeys::image_size_problem(h.size->width, h.size->height);
  (void)facekeys::jpeg_end(b.data(), b.size());
}
}  // namespace

FACEKEYS_FUZZ_TARGET(check_photo(bytes))
