#include "facekeys/dlib_xml.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <unordered_set>
#include <utility>

#include "facekeys/error.hpp"
#include "format_util.hpp"

namespace facekeys {

using namespace format_detail;

namespace {

struct Attribute {
  std::string name;
  std::string value;
};

struct Tag {
  enum Kind { Start, End, Eof } kind = Eof;
  std::string name;
  std::vector<Attribute> attributes;
  bool self_closing = false;
  int line = 0;

  const std::string* attribute(const std::string& key) const {
    for (const auto& a : attributes)
      if (a.name == key) return &a.value;
    return nullptr;
  }
};

bool is_name_start(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == ':' ||
         static_cast<unsigned char>(c) >= 0x80;
}
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.'; }
bool is_xml_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Pull tokenizer over the XML subset described in the header. Text content is
// skipped: nothing in the imglab format that we use lives in text.
class XmlTokenizer {
 public:
  XmlTokenizer(std::string_view text, const std::string& name) : s_(strip_bom(text)), name_(name) {}

  int line() const { return line_; }

  Tag next() {
    for (;;) {
      const std::size_t lt = s_.find('<', pos_);
      if (lt == std::string_view::npos) {
        advance_to(s_.size());
        Tag eof;
        eof.line = line_;
        return eof;
      }
      advance_to(lt);
      const std::string_view rest = s_.substr(pos_);
      if (starts_with(rest, "<!--")) {
        skip_past("-->", "unterminated comment: expected '-->'");
      } else if (starts_with(rest, "<?")) {
        skip_past("?>", "unterminated processing instruction: expected '?>'");
      } else if (starts_with(rest, "<![CDATA[")) {
        skip_past("]]>", "unterminated CDATA section: expected ']]>'");
      } else if (starts_with(rest, "<!")) {
        skip_declaration();
      } else {
        return read_tag();
      }
    }
  }

  [[noreturn]] void fail(int line, const std::string& message) const { throw FormatError(name_, line, message); }

 private:
  void advance_to(std::size_t target) {
    for (; pos_ < target; ++pos_)
      if (s_[pos_] == '\n') ++line_;
  }

  void skip_past(std::string_view terminator, const char* message) {
    const int start = line_;
    const std::size_t end = s_.find(terminator, pos_);
    if (end == std::string_view::npos) fail(start, message);
    advance_to(end + terminator.size());
  }

  // <!DOCTYPE ...> may hold an internal subset in [...] containing '>'.
  void skip_declaration() {
    const int start = line_;
    int depth = 0;
    for (std::size_t i = pos_ + 2; i < s_.size(); ++i) {
      if (s_[i] == '[') ++depth;
      else if (s_[i] == ']') --depth;
      else if (s_[i] == '>' && depth <= 0) {
        advance_to(i + 1);
        return;
      }
    }
    fail(start, "unterminated '<!' declaration: expected '>'");
  }

  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  bool at_end() const { return pos_ >= s_.size(); }
  void skip_space() {
    while (!at_end() && is_xml_space(s_[pos_])) advance_to(pos_ + 1);
  }

  std::string read_name() {
    const std::size_t start = pos_;
    if (at_end() || !is_name_start(s_[pos_])) return {};
    std::size_t end = pos_;
    while (end < s_.size() && is_name_char(s_[end])) ++end;
    advance_to(end);
    return std::string(s_.substr(start, end - start));
  }

  std::string found_here() const {
    if (at_end()) return "end of file";
    return quote(s_.substr(pos_, std::min<std::size_t>(20, s_.size() - pos_)));
  }

  Tag read_tag() {
    Tag tag;
    tag.line = line_;
    advance_to(pos_ + 1);  // '<'
    if (peek() == '/') {
      advance_to(pos_ + 1);
      tag.kind = Tag::End;
      tag.name = read_name();
      if (tag.name.empty()) fail(line_, "expected an element name after '</', got " + found_here());
      skip_space();
      if (peek() != '>') fail(line_, "expected '>' to close '</" + tag.name + "', got " + found_here());
      advance_to(pos_ + 1);
      return tag;
    }
    tag.kind = Tag::Start;
    tag.name = read_name();
    if (tag.name.empty()) fail(line_, "expected an element name after '<', got " + found_here());
    std::unordered_set<std::string> seen;  // duplicate check in linear time, however many attributes
    for (;;) {
      const bool had_space = !at_end() && is_xml_space(peek());
      skip_space();
      if (at_end())
        fail(tag.line, "unterminated tag '<" + tag.name + "': expected '>' or '/>', got end of file");
      if (peek() == '>') {
        advance_to(pos_ + 1);
        return tag;
      }
      if (peek() == '/') {
        advance_to(pos_ + 1);
        if (peek() != '>') fail(line_, "expected '/>' in '<" + tag.name + "', got " + found_here());
        advance_to(pos_ + 1);
        tag.self_closing = true;
        return tag;
      }
      if (!had_space)
        fail(line_, "expected whitespace, '>' or '/>' in '<" + tag.name + "', got " + found_here());
      Attribute attr;
      const int attr_line = line_;
      attr.name = read_name();
      if (attr.name.empty())
        fail(line_, "expected an attribute name, '>' or '/>' in '<" + tag.name + "', got " + found_here());
      skip_space();
      if (peek() != '=')
        fail(line_, "expected '=' after attribute '" + attr.name + "' in '<" + tag.name + "', got " + found_here());
      advance_to(pos_ + 1);
      skip_space();
      const char q = peek();
      if (q != '\'' && q != '"')
        fail(line_, "expected a quoted value for attribute '" + attr.name + "' in '<" + tag.name + "', got " +
                        found_here());
      const std::size_t close = s_.find(q, pos_ + 1);
      if (close == std::string_view::npos)
        fail(attr_line, "unterminated value of attribute '" + attr.name + "' in '<" + tag.name + "'");
      const std::string_view raw = s_.substr(pos_ + 1, close - pos_ - 1);
      if (raw.find('<') != std::string_view::npos)
        fail(attr_line, "'<' inside the value of attribute '" + attr.name + "' (missing closing quote?)");
      attr.value = decode_entities(raw, attr_line);
      advance_to(close + 1);
      if (!seen.insert(attr.name).second)
        fail(attr_line, "duplicate attribute '" + attr.name + "' in '<" + tag.name + "'");
      tag.attributes.push_back(std::move(attr));
    }
  }

  std::string decode_entities(std::string_view raw, int line) const {
    std::string out;
    out.reserve(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '&') {
        out += raw[i];
        continue;
      }
      const std::size_t semi = raw.find(';', i);
      if (semi == std::string_view::npos || semi - i > 12)
        fail(line, "expected an entity like '&amp;' after '&', got " + quote(raw.substr(i, 12)));
      const std::string_view ent = raw.substr(i + 1, semi - i - 1);
      if (ent == "amp") out += '&';
      else if (ent == "lt") out += '<';
      else if (ent == "gt") out += '>';
      else if (ent == "quot") out += '"';
      else if (ent == "apos") out += '\'';
      else if (starts_with(ent, "#")) {
        const bool hex = starts_with(ent, "#x") || starts_with(ent, "#X");
        const std::string_view digits = ent.substr(hex ? 2 : 1);
        unsigned long cp = 0;
        bool ok = !digits.empty();
        for (char c : digits) {
          int d = (c >= '0' && c <= '9') ? c - '0'
                  : hex && (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10
                                                                  : -1;
          if (d < 0) ok = false;
          else cp = cp * (hex ? 16 : 10) + static_cast<unsigned long>(d);
          if (cp > 0x10FFFF) ok = false;
          if (!ok) break;
        }
        if (!ok || cp == 0) fail(line, "invalid character reference " + quote(raw.substr(i, semi - i + 1)));
        append_utf8(out, cp);
      } else {
        fail(line, "unknown entity " + quote(raw.substr(i, semi - i + 1)));
      }
      i = semi;
    }
    return out;
  }

  std::string_view s_;
  const std::string& name_;
  std::size_t pos_ = 0;
  int line_ = 1;
};

class DlibParser {
 public:
  DlibParser(std::string_view text, const std::string& name, int num_points)
      : tok_(text, name), name_(name), max_index_(num_points > 0 ? num_points - 1 : kMaxPoints - 1) {}

  DlibDataset run() {
    bool seen_root = false;
    for (;;) {
      Tag tag = tok_.next();
      if (tag.kind == Tag::Eof) {
        if (!seen_root) fail(tag.line, "expected the root element '<dataset>', got end of file");
        if (!stack_.empty())
          fail(tag.line, "expected '</" + stack_.back().first + ">' (opened at line " +
                             std::to_string(stack_.back().second) + "), got end of file");
        return std::move(out_);
      }
      if (tag.kind == Tag::End) {
        if (stack_.empty()) fail(tag.line, "unexpected '</" + tag.name + ">' with no open element");
        if (stack_.back().first != tag.name)
          fail(tag.line, "expected '</" + stack_.back().first + ">' (opened at line " +
                             std::to_string(stack_.back().second) + "), got '</" + tag.name + ">'");
        close(tag.name);
        stack_.pop_back();
        continue;
      }
      // Start tag.
      if (stack_.empty()) {
        if (seen_root) fail(tag.line, "expected end of file after '</dataset>', got '<" + tag.name + ">'");
        if (tag.name != "dataset") fail(tag.line, "expected the root element '<dataset>', got '<" + tag.name + ">'");
        seen_root = true;
      } else {
        open(tag);
      }
      if (tag.self_closing) close(tag.name);
      else stack_.emplace_back(tag.name, tag.line);
    }
  }

 private:
  [[noreturn]] void fail(int line, const std::string& message) const { throw FormatError(name_, line, message); }

  const std::string& parent() const { return stack_.back().first; }

  void require_parent(const Tag& tag, const char* want) const {
    if (parent() != want)
      fail(tag.line, "expected '<" + tag.name + ">' inside '<" + want + ">', found it inside '<" + parent() + ">'");
  }

  const std::string& required(const Tag& tag, const char* key) const {
    const std::string* v = tag.attribute(key);
    if (!v) fail(tag.line, std::string("expected attribute '") + key + "' on '<" + tag.name + ">', it is missing");
    return *v;
  }

  float number(const Tag& tag, const char* key) const {
    return require_float(required(tag, key), std::string("a number for '") + key + "' of '<" + tag.name + ">'",
                         name_, tag.line);
  }

  void open(const Tag& tag) {
    if (tag.name == "dataset") {
      fail(tag.line, "unexpected nested '<dataset>'");
    } else if (tag.name == "images") {
      require_parent(tag, "dataset");
    } else if (tag.name == "image") {
      require_parent(tag, "images");
      DlibImage img;
      img.line = tag.line;
      img.file = required(tag, "file");
      if (img.file.empty()) fail(tag.line, "expected a file name in 'file' of '<image>', got ''");
      for (const char* key : {"width", "height"})
        if (const std::string* v = tag.attribute(key)) {
          const int value = static_cast<int>(require_int(
              *v, 1, 1000000, std::string("a positive integer for '") + key + "' of '<image>'", name_, tag.line));
          (key[0] == 'w' ? img.width : img.height) = value;
        }
      out_.images.push_back(std::move(img));
    } else if (tag.name == "box") {
      require_parent(tag, "image");
      DlibBox box;
      box.line = tag.line;
      box.top = number(tag, "top");
      box.left = number(tag, "left");
      box.width = number(tag, "width");
      box.height = number(tag, "height");
      if (box.width < 0 || box.height < 0)
        fail(tag.line, "expected a non-negative 'width' and 'height' on '<box>'");
      if (const std::string* v = tag.attribute("ignore")) {
        if (*v == "1" || *v == "true") box.ignore = true;
        else if (*v == "0" || *v == "false") box.ignore = false;
        else fail(tag.line, "expected '0' or '1' for 'ignore' of '<box>', got " + quote(*v));
      }
      out_.images.back().boxes.push_back(std::move(box));
      part_lines_.clear();
    } else if (tag.name == "part") {
      require_parent(tag, "box");
      const std::string& part_name = required(tag, "name");
      const int index = static_cast<int>(require_int(
          part_name, 0, max_index_,
          "a part index 0.." + std::to_string(max_index_) + " in 'name' of '<part>'", name_, tag.line));
      const auto seen = part_lines_.find(index);
      if (seen != part_lines_.end())
        fail(tag.line, "duplicate part " + quote(part_name) + " in this box (first at line " +
                           std::to_string(seen->second) + ")");
      part_lines_[index] = tag.line;
      DlibPart part;
      part.index = index;
      part.point.x = number(tag, "x");
      part.point.y = number(tag, "y");
      out_.images.back().boxes.back().parts.push_back(part);
    }
    // Any other element (name, comment, label, ...) is ignored.
  }

  void close(const std::string& tag_name) {
    if (tag_name == "box") {
      auto& parts = out_.images.back().boxes.back().parts;
      std::sort(parts.begin(), parts.end(), [](const DlibPart& a, const DlibPart& b) { return a.index < b.index; });
    }
  }

  XmlTokenizer tok_;
  const std::string& name_;
  const int max_index_;
  std::vector<std::pair<std::string, int>> stack_;  // open elements and their lines
  std::map<int, int> part_lines_;                   // part index -> line, in the current box
  DlibDataset out_;
};

}  // namespace

DlibDataset parse_dlib_xml(std::string_view text, const std::string& name, int num_points) {
  if (num_points > kMaxPoints)
    throw FormatError(name, 0, "num_points " + std::to_string(num_points) + " exceeds the limit of " +
                                   std::to_string(kMaxPoints));
  return DlibParser(text, name, num_points).run();
}

DlibDataset read_dlib_xml(const std::string& path, int num_points) {
  return parse_dlib_xml(read_text_file(path), path, num_points);
}

std::vector<Point2f> dense_points(const DlibBox& box, int num_points, const std::string& name) {
  std::vector<Point2f> out;
  for (int k = 0; k < num_points; ++k) {
    if (static_cast<std::size_t>(k) >= box.parts.size() || box.parts[k].index != k)
      throw FormatError(name, box.line, "expected " + std::to_string(num_points) + " parts (00.." +
                                            std::to_string(num_points - 1) + ") in '<box>', part " +
                                            std::to_string(k) + " is missing");
    out.push_back(box.parts[k].point);
  }
  if (box.parts.size() != static_cast<std::size_t>(num_points))
    throw FormatError(name, box.line, "expected " + std::to_string(num_points) + " parts in '<box>', got " +
                                          std::to_string(box.parts.size()));
  return out;
}

}  // namespace facekeys
