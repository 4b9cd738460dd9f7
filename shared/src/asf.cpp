#include "facekeys/asf.hpp"

#include "facekeys/error.hpp"
#include "format_util.hpp"

namespace facekeys {

using namespace format_detail;

namespace {

constexpr const char* kPointLineShape =
    "'<path#> <type> <x rel> <y rel> <point#> <from> <to> [<user1> <user2> <user3>]'";

// The AAM-API writes 7 fields per point, or 10 when the optional user fields
// are saved (41 of the 240 IMM files carry them, all "0.00").
bool is_point_field_count(std::size_t n) { return n == 7 || n == 10; }

bool is_content(const Line& l) {
  const std::string_view t = trim(l.text);
  return !t.empty() && t.front() != '#';
}

// True if the line has the 7 numeric fields of a point line: used to tell
// "more point lines than the count says" from a host image name.
bool looks_like_point_line(std::string_view text) {
  const auto f = split_ws(text);
  if (!is_point_field_count(f.size())) return false;
  float v;
  for (auto tok : f)
    if (parse_float(tok, v)) return false;
  return true;
}

}  // namespace

AsfShape parse_asf(std::string_view text, const std::string& name, int expected_points) {
  const std::vector<Line> lines = split_lines(text);
  std::size_t i = 0;
  auto next_content = [&]() -> const Line* {
    while (i < lines.size() && !is_content(lines[i])) ++i;
    return i < lines.size() ? &lines[i++] : nullptr;
  };

  const Line* count_line = next_content();
  if (!count_line)
    throw FormatError(name, eof_line(lines),
                      std::string("expected the point count line, got ") +
                          (lines.empty() ? "an empty file" : "end of file (only comments)"));
  const auto count_fields = split_ws(count_line->text);
  if (count_fields.size() != 1)
    throw FormatError(name, count_line->number,
                      "expected the point count (one integer), got " + quote(trim(count_line->text)));
  const int n = static_cast<int>(
      require_int(count_fields[0], 1, kMaxPoints, "the point count (one integer)", name, count_line->number));
  if (expected_points > 0 && n != expected_points)
    throw FormatError(name, count_line->number,
                      "expected " + std::to_string(expected_points) + " points, file has " + std::to_string(n));

  AsfShape shape;
  shape.points.reserve(static_cast<std::size_t>(n));  // n is capped at kMaxPoints above
  shape.info.reserve(static_cast<std::size_t>(n));
  for (int k = 0; k < n; ++k) {
    const Line* l = next_content();
    const std::string expected = "point line " + std::to_string(k + 1) + " of " + std::to_string(n) + " " +
                                 kPointLineShape;
    if (!l)
      throw FormatError(name, eof_line(lines),
                        "expected " + expected + ", got end of file (the count line says " + std::to_string(n) +
                            " points, the file has " + std::to_string(k) + ")");
    const auto f = split_ws(l->text);
    if (!is_point_field_count(f.size())) {
      std::string msg = "expected " + expected + ", got " + quote(trim(l->text));
      if (f.size() == 1) msg += " (the count line says " + std::to_string(n) + " points, the file has " +
                                std::to_string(k) + ")";
      throw FormatError(name, l->number, msg);
    }
    AsfPointInfo info;
    info.path = static_cast<int>(require_int(f[0], 0, kMaxPoints, "<path#> (an integer)", name, l->number));
    info.type = static_cast<int>(require_int(f[1], 0, 0x7fffffff, "<type> (an integer)", name, l->number));
    Point2f p;
    p.x = require_float(f[2], "<x rel> (a number)", name, l->number);
    p.y = require_float(f[3], "<y rel> (a number)", name, l->number);
    long long index = 0;
    if (parse_int(f[4], 0, kMaxPoints, index) || index != k)
      throw FormatError(name, l->number,
                        "expected <point#> " + std::to_string(k) + " (points must be numbered 0.." +
                            std::to_string(n - 1) + " in order), got " + quote(f[4]));
    info.connects_from =
        static_cast<int>(require_int(f[5], 0, n - 1, "<connects from> (a point index)", name, l->number));
    info.connects_to =
        static_cast<int>(require_int(f[6], 0, n - 1, "<connects to> (a point index)", name, l->number));
    for (std::size_t u = 7; u < f.size(); ++u)  // user fields: unused, but must be numbers
      require_float(f[u], "<user" + std::to_string(u - 6) + "> (a number)", name, l->number);
    shape.points.push_back(p);
    shape.info.push_back(info);
  }

  const Line* host = next_content();
  if (!host)
    throw FormatError(name, eof_line(lines),
                      "expected the host image file name after " + std::to_string(n) + " points, got end of file");
  if (looks_like_point_line(host->text))
    throw FormatError(name, host->number,
                      "expected the host image file name, got another point line (the count line says " +
                          std::to_string(n) + " points)");
  shape.host_image = std::string(trim(host->text));

  if (const Line* extra = next_content())
    throw FormatError(name, extra->number,
                      "expected end of file after the host image name, got " + quote(trim(extra->text)));
  return shape;
}

AsfShape read_asf(const std::string& path, int expected_points) {
  return parse_asf(read_text_file(path), path, expected_points);
}

std::vector<Point2f> asf_to_pixels(const AsfShape& shape, int width, int height) {
  std::vector<Point2f> out;
  out.reserve(shape.points.size());
  for (const auto& p : shape.points)
    out.push_back({p.x * static_cast<float>(width), p.y * static_cast<float>(height)});
  return out;
}

}  // namespace facekeys
