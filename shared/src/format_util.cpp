#include "format_util.hpp"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <cstdio>

#include "facekeys/error.hpp"
#include "facekeys/file_io.hpp"

namespace facekeys {
namespace format_detail {

std::string read_text_file(const std::string& path) {
  try {
    return read_file_text(path);
  } catch (const std::runtime_error& e) {
    // Same failure, reported as a format error so parsers throw one type.
    std::string what = e.what();
    const std::string prefix = path + ": ";
    if (what.compare(0, prefix.size(), prefix) == 0) what.erase(0, prefix.size());
    throw FormatError(path, 0, what);
  }
}

void append_utf8(std::string& out, unsigned long cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::string_view strip_bom(std::string_view text) {
  if (starts_with(text, "\xEF\xBB\xBF")) text.remove_prefix(3);
  return text;
}

std::vector<Line> split_lines(std::string_view text) {
  text = strip_bom(text);
  std::vector<Line> lines;
  int number = 1;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back({line, number++});
    pos = end + 1;
  }
  return lines;
}

namespace {
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
}  // namespace

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split_ws(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i])) ++i;
    std::size_t start = i;
    while (i < s.size() && !is_space(s[i])) ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) out += ", ";
    out += shape[i] < 0 ? std::string("N") : std::to_string(shape[i]);
  }
  return out + "]";
}

std::string quote(std::string_view s) {
  constexpr std::size_t kMax = 60;
  std::string out = "'";
  for (std::size_t i = 0; i < s.size() && i < kMax; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
  }
  if (s.size() > kMax) out += "...";
  out += "'";
  return out;
}

const char* parse_float(std::string_view s, float& out) {
  if (s.empty()) return "empty field";
  // Validate the plain decimal grammar first: strtod alone would also accept
  // "inf", "nan", hex floats and leading spaces.
  std::size_t i = 0;
  if (s[i] == '+' || s[i] == '-') ++i;
  std::size_t digits = 0;
  while (i < s.size() && is_digit(s[i])) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && is_digit(s[i])) ++i, ++digits;
  }
  if (digits == 0) {
    std::string_view rest = s.substr(s[0] == '+' || s[0] == '-' ? 1 : 0);
    std::string lower;
    for (char c : rest.substr(0, 3)) lower += static_cast<char>(c | 0x20);
    if (lower == "nan" || lower == "inf") return "not a finite number";
    return "not a number";
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    std::size_t exp_digits = 0;
    while (i < s.size() && is_digit(s[i])) ++i, ++exp_digits;
    if (exp_digits == 0) return "not a number";
  }
  if (i != s.size()) return "trailing characters after the number";
  const std::string copy(s);  // strtod needs a terminated string
  char* end = nullptr;
  const double v = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size()) return "not a number";  // e.g. a comma-decimal locale
  if (!std::isfinite(v)) return "not a finite number";
  if (std::fabs(v) > kMaxAbsValue) return "out of range (magnitude above 1e7)";
  out = static_cast<float>(v);
  return nullptr;
}

const char* parse_int(std::string_view s, long long lo, long long hi, long long& out) {
  if (s.empty()) return "empty field";
  long long v = 0;
  const auto res = std::from_chars(s.data(), s.data() + s.size(), v);
  if (res.ec == std::errc::result_out_of_range) return "out of range";
  if (res.ec != std::errc() || res.ptr == s.data()) return "not an integer";
  if (res.ptr != s.data() + s.size()) return "not an integer";
  if (v < lo || v > hi) return "out of range";
  out = v;
  return nullptr;
}

float require_float(std::string_view s, const std::string& what, const std::string& name, int line) {
  float v = 0;
  if (const char* why = parse_float(s, v))
    throw FormatError(name, line, "expected " + what + ", got " + quote(s) + " (" + why + ")");
  return v;
}

long long require_int(std::string_view s, long long lo, long long hi, const std::string& what,
                      const std::string& name, int line) {
  long long v = 0;
  if (const char* why = parse_int(s, lo, hi, v)) {
    std::string msg = "expected " + what + ", got " + quote(s) + " (" + why;
    if (std::string(why) == "out of range") msg += ": allowed " + std::to_string(lo) + ".." + std::to_string(hi);
    throw FormatError(name, line, msg + ")");
  }
  return v;
}

}  // namespace format_detail
}  // namespace facekeys
