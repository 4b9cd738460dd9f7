// iBUG / 300-W .pts reader.
//
//   version: 1
//   n_points:  68
//   {
//   x y            <- n_points lines
//   }
//
// The values are 1-based (MATLAB) pixels; the reader returns 0-based pixels
// (x = value - 1), the project's convention (docs/CONVENTIONS.md). Tolerated, as
// found in real files: any spacing around ':' and between numbers, trailing
// spaces, CRLF line endings, blank lines, no newline after '}'.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "facekeys/geometry.hpp"  // Point2f

namespace facekeys {

// `name` is used in error messages. expected_points > 0 requires that count
// ("expected 68 points, file has 67"); 0 accepts any count up to 10000.
// Throws FormatError.
std::vector<Point2f> parse_pts(std::string_view text, const std::string& name, int expected_points = 0);
std::vector<Point2f> read_pts(const std::string& path, int expected_points = 0);

}  // namespace facekeys
