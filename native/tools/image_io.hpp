// Image files in and out, through OpenCV, as the core's image type (RGB order).
#pragma once

#include <string>

#include "facekeys/image.hpp"

namespace facekeys {

// Decodes any format OpenCV reads, applies EXIF orientation, converts gray,
// 16-bit and CMYK/alpha images to 8-bit RGB. Throws naming the file when it is
// missing, empty or not a decodable image.
ImageU8 load_image_rgb(const std::string& path);

// Writes PNG/JPEG atomically (encoded in memory, then write_file_atomic).
void save_image(const std::string& path, ViewU8 image);

// Why save_image cannot write `path` (its extension names no image type it
// writes: .png, .jpg, .jpeg, .webp, .bmp), or "" when it can. Front ends ask
// before the work, so a bad output name fails at once.
std::string image_output_problem(const std::string& path);

}  // namespace facekeys
