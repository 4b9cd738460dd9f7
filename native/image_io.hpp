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

}  // namespace facekeys
