#include "facekeys/pts.hpp"

#include "facekeys/error.hpp"
#include "format_util.hpp"

namespace facekeys {

using namespace format_detail;

namespace {

// Splits "key: value" (any spacing); false if there is no ':'.
bool split_key_value(std::string_view line, std::string_view& key, std::string_view& value) {
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return false;
  key = trim(line.substr(0, colon));
  value = trim(line.substr(colon + 1));
  return true;
}

}  // namespace

std::vector<Point2f> parse_pts(std::string_view text, const std::string& name, int expected_points) {
  const std::vector<Line> lines = split_lines(text);
  std::size_t i = 0;
  // Blank lines carry no meaning in .pts; skip them wherever they are.
  auto next_content = [&]() -> const Line* {
    while (i < lines.size() && trim(lines[i].text).empty()) ++i;
    return i < lines.size() ? &lines[i++] : nullptr;
  };
  auto fail_eof = [&](const std::string& expected) {
    throw FormatError(name, eof_line(lines),
                      "expected " + expected + ", got " + (lines.empty() ? "an empty file" : "end of file"));
  };

  std::string_view key, value;
  const Line* l = next_content();
  if (!l) fail_eof("'version: 1'");
  if (!split_key_value(l->text, key, value) || key != "version")
    throw FormatError(name, l->number, "expected 'version: 1', got " + quote(trim(l->text)));
  long long version = 0;
  if (parse_int(value, 0, 1000000, version) || version != 1)
    throw FormatError(name, l->number, "expected 'version: 1' (the only .pts version), got " + quote(trim(l->text)));

  l = next_content();
  if (!l) fail_eof("'n_points: <count>'");
  if (!split_key_value(l->text, key, value) || key != "n_points")
    throw FormatError(name, l->number, "expected 'n_points: <count>', got " + quote(trim(l->text)));
  const int n = static_cast<int>(require_int(value, 1, kMaxPoints, "'n_points: <count>' with a count", name, l->number));
  if (expected_points > 0 && n != expected_points)
    throw FormatError(name, l->number,
                      "expected " + std::to_string(expected_points) + " points, file has " + std::to_string(n));

  l = next_content();
  if (!l) fail_eof("'{'");
  if (trim(l->text) != "{") throw FormatError(name, l->number, "expected '{', got " + quote(trim(l->text)));

  std::vector<Point2f> points;
  points.reserve(static_cast<std::size_t>(n));  // n is capped at kMaxPoints above
  for (int k = 0; k < n; ++k) {
    const std::string expected = "point " + std::to_string(k + 1) + " of " + std::to_string(n) + " ('x y')";
    l = next_content();
    if (!l) fail_eof(expected);
    const std::string_view t = trim(l->text);
    if (t == "}")
      throw FormatError(name, l->number,
                        "expected " + expected + ", got '}' (n_points says " + std::to_string(n) +
                            ", the file has " + std::to_string(k) + ")");
    const auto f = split_ws(t);
    if (f.size() != 2) throw FormatError(name, l->number, "expected " + expected + ", got " + quote(t));
    const float x = require_float(f[0], "x of " + expected, name, l->number);
    const float y = require_float(f[1], "y of " + expected, name, l->number);
    points.push_back({x - 1.0f, y - 1.0f});  // 1-based -> 0-based pixels
  }

  l = next_content();
  if (!l) fail_eof("'}' after " + std::to_string(n) + " points");
  if (trim(l->text) != "}") {
    const auto f = split_ws(l->text);
    float v;
    const bool is_point = f.size() == 2 && !parse_float(f[0], v) && !parse_float(f[1], v);
    throw FormatError(name, l->number,
                      "expected '}' after " + std::to_string(n) + " points, got " + quote(trim(l->text)) +
                          (is_point ? " (more points than n_points says)" : ""));
  }
  if ((l = next_content()))
    throw FormatError(name, l->number, "expected end of file after '}', got " + quote(trim(l->text)));
  return points;
}

std::vector<Point2f> read_pts(const std::string& path, int expected_points) {
  return parse_pts(read_text_file(path), path, expected_points);
}

}  // namespace facekeys
