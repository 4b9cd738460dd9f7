// Dataset readers for `facekeys pack`: decode every image once (OpenCV), take
// its annotation through the core's parsers, and build a Pack.
#pragma once

#include <string>

#include "facekeys/pack.hpp"

namespace facekeys {

struct ImmPackOptions {
  int width = 240, height = 180;  // the seed's Part 2 working resolution (640x480 / 8 * 3)
  int last_train_person = 32;     // persons 1..32 train, 33..40 val, as the course did
};

// Reads <dir>/*.asf and their host images. Throws naming the file on a
// missing/corrupt image, a malformed .asf or a wrong point count.
Pack pack_imm(const std::string& dir, const ImmPackOptions& opt);

}  // namespace facekeys
