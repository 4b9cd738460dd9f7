// IMM Face Database .asf (AAM shape file) reader.
//
// Layout (see the IMM technical note and 300w/imm PROVENANCE.md): '#' comment
// lines, a line with the point count, one line per point
//   <path#> <type> <x rel> <y rel> <point#> <connects from> <connects to>
// optionally followed by three <user1> <user2> <user3> numbers (41 of the 240
// IMM files have them, all 0), separated by any whitespace (the originals use
// " \t" and "\t"), then the host image
// file name. Coordinates are relative: pixel x = x_rel * W, y = y_rel * H with
// (0,0) the top-left (docs/CONVENTIONS.md).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "facekeys/geometry.hpp"  // Point2f

namespace facekeys {

struct AsfPointInfo {
  int path = 0;           // contour id (0 = jaw, 1 = left eye, ... in IMM)
  int type = 0;           // bit field; IMM uses 4 = open path, 0 = closed path
  int connects_from = 0;  // neighbouring point indices along the contour
  int connects_to = 0;
};

struct AsfShape {
  std::vector<Point2f> points;     // relative coordinates (x/W, y/H), not range-checked
  std::vector<AsfPointInfo> info;  // parallel to points
  std::string host_image;          // e.g. "01-1m.jpg"
};

// Parses .asf text; `name` is used in error messages (a path or an upload's
// file name). expected_points > 0 (default 58, the IMM markup) requires that
// count; pass 0 to accept any count up to 10000. Also checks that the count line
// equals the number of point lines and that point# runs 0..n-1 in order.
// Throws FormatError.
AsfShape parse_asf(std::string_view text, const std::string& name, int expected_points = 58);
AsfShape read_asf(const std::string& path, int expected_points = 58);

// Pixel coordinates for an image of width x height: x = x_rel * W, y = y_rel * H.
std::vector<Point2f> asf_to_pixels(const AsfShape& shape, int width, int height);

}  // namespace facekeys
