// Whether a JPEG's compressed image data decodes without damage.
//
// A JPEG whose entropy-coded scan is damaged (bytes overwritten, a scan that
// stops early before an intact end marker) is not an error for OpenCV's
// imread: libjpeg only warns ("Corrupt JPEG data: ...") on stderr, and the
// picture comes back with smeared or grey blocks. A prediction on it is
// noise, so the tools refuse such files instead. The truncation check of
// image_header.hpp cannot see this: the file ends where a JPEG should.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace facekeys {

// Decodes the JPEG in `data` with libjpeg at 1/8 scale (the entropy decoding,
// where damage shows, is complete; the IDCT and colour work are cheap) and
// throws std::runtime_error("<name>: corrupt JPEG data (libjpeg: ...)") at the
// first warning that means damaged image data, or on a libjpeg error. Warnings
// about metadata only (an unknown JFIF revision, a bad ICC marker) pass.
void check_jpeg_data(const std::uint8_t* data, std::size_t size, const std::string& name);

}  // namespace facekeys
