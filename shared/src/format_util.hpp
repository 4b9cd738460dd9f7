// Internal helpers shared by the annotation parsers (asf, pts, dlib_xml,
// box_csv). Not installed: the public API is in include/facekeys/.
//
// The parsers see hand-edited files and browser uploads, so every number is
// checked (full consumption, finite, bounded) and every count is capped before
// anything is reserved.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace facekeys {
namespace format_detail {

// Point counts above this are rejected before any allocation: no landmark
// schema is anywhere near it, and a corrupt count must not reserve gigabytes.
constexpr int kMaxPoints = 10000;
// Coordinates and box values beyond this magnitude are rejected as garbage
// (no image is 10 megapixels wide).
constexpr double kMaxAbsValue = 1e7;

// Reads a whole file; throws FormatError(path, 0, "cannot open file ...").
std::string read_text_file(const std::string& path);

struct Line {
  std::string_view text;  // without the line terminator ("\n" or "\r\n")
  int number;             // 1-based
};

// Splits on '\n' and drops a trailing '\r' from each line (CRLF files) and a
// UTF-8 byte-order mark at the very start (Windows editors add one). A final
// line without '\n' is kept; an empty text gives no lines.
std::vector<Line> split_lines(std::string_view text);
// The line number to report for "got end of file": one past the last line.
inline int eof_line(const std::vector<Line>& lines) { return static_cast<int>(lines.size()) + 1; }

std::string_view strip_bom(std::string_view text);
// Appends a Unicode code point as UTF-8 (character references in XML, \u escapes in JSON).
void append_utf8(std::string& out, unsigned long code_point);
std::string_view trim(std::string_view s);  // spaces, tabs, CR, LF, VT, FF
std::vector<std::string_view> split_ws(std::string_view s);
bool starts_with(std::string_view s, std::string_view prefix);

// "[2, 3, N]" for messages: a tensor shape, a negative (dynamic) size as N.
std::string shape_text(const std::vector<std::int64_t>& shape);

// "'text'" for messages: long text is cut (with "...") and control bytes are
// shown as '?', so a binary upload cannot flood or garble an error message.
std::string quote(std::string_view s);

// Strict number parsing. They return nullptr on success, otherwise the reason
// to put in a message. Floats: optional sign, digits with an optional '.', an
// optional exponent; no hex, "inf", "nan", spaces or trailing text; finite and
// |v| <= kMaxAbsValue. std::strtod does the conversion (correctly rounded; it
// honours LC_NUMERIC, so a host that sets a comma-decimal locale gets an
// error, never a silently wrong value). Ints: optional '-', digits, in [lo, hi].
const char* parse_float(std::string_view s, float& out);
const char* parse_int(std::string_view s, long long lo, long long hi, long long& out);

// The same, throwing FormatError(name, line, "expected <what>, got '<s>' (<reason>)").
float require_float(std::string_view s, const std::string& what, const std::string& name, int line);
long long require_int(std::string_view s, long long lo, long long hi, const std::string& what,
                      const std::string& name, int line);

}  // namespace format_detail
}  // namespace facekeys
