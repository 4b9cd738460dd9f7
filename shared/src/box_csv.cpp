#include "facekeys/box_csv.hpp"

#include "facekeys/error.hpp"
#include "format_util.hpp"

namespace facekeys {

using namespace format_detail;

namespace {

// Splits one CSV line into trimmed cells, honouring double quotes ("" inside
// quotes is a literal quote). Quoted cells keep their inner spaces.
std::vector<std::string> split_csv_line(std::string_view line, const std::string& name, int line_number) {
  std::vector<std::string> cells;
  std::size_t i = 0;
  for (;;) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    std::string cell;
    if (i < line.size() && line[i] == '"') {
      ++i;
      for (;;) {
        if (i >= line.size())
          throw FormatError(name, line_number, "expected a closing '\"' in a quoted cell, got end of line");
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            cell += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        cell += line[i++];
      }
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      if (i < line.size() && line[i] != ',')
        throw FormatError(name, line_number, "expected ',' after a quoted cell, got " + quote(line.substr(i, 20)));
    } else {
      const std::size_t comma = line.find(',', i);
      const std::size_t end = comma == std::string_view::npos ? line.size() : comma;
      cell = std::string(trim(line.substr(i, end - i)));
      i = end;
    }
    cells.push_back(std::move(cell));
    if (i >= line.size()) break;
    ++i;  // the ','
  }
  return cells;
}

}  // namespace

BoxCsv parse_box_csv(std::string_view text, const std::string& name) {
  const std::vector<Line> lines = split_lines(text);
  BoxCsv out;
  out.source_ = name;
  std::size_t li = 0;
  while (li < lines.size() && trim(lines[li].text).empty()) ++li;
  if (li == lines.size())
    throw FormatError(name, eof_line(lines),
                      std::string("expected a header row with a 'file' column, got ") +
                          (lines.empty() ? "an empty file" : "only blank lines"));

  const Line& header_line = lines[li++];
  const std::vector<std::string> header = split_csv_line(header_line.text, name, header_line.number);
  int file_column = -1;
  std::unordered_map<std::string, int> seen;
  for (std::size_t c = 0; c < header.size(); ++c) {
    const std::string& h = header[c];
    if (h.empty())
      throw FormatError(name, header_line.number,
                        "expected a column name in header cell " + std::to_string(c + 1) + ", got an empty cell");
    if (!seen.emplace(h, static_cast<int>(c)).second)
      throw FormatError(name, header_line.number, "duplicate column " + quote(h) + " in the header");
    if (h == "file") {
      file_column = static_cast<int>(c);
    } else {
      out.column_index_[h] = static_cast<int>(out.columns_.size());
      out.columns_.push_back(h);
    }
  }
  if (file_column < 0)
    throw FormatError(name, header_line.number,
                      "expected a header row with a 'file' column, got " + quote(trim(header_line.text)));

  for (; li < lines.size(); ++li) {
    const Line& l = lines[li];
    if (trim(l.text).empty()) continue;
    const std::vector<std::string> cells = split_csv_line(l.text, name, l.number);
    if (cells.size() != header.size())
      throw FormatError(name, l.number,
                        "expected " + std::to_string(header.size()) + " cells (as in the header), got " +
                            std::to_string(cells.size()));
    BoxCsvRow row;
    row.line = l.number;
    row.file = cells[file_column];
    if (row.file.empty()) throw FormatError(name, l.number, "expected a file name in column 'file', got an empty cell");
    row.values.reserve(out.columns_.size());
    for (std::size_t c = 0; c < cells.size(); ++c) {
      if (static_cast<int>(c) == file_column) continue;
      if (cells[c].empty()) {
        row.values.emplace_back();
      } else {
        row.values.emplace_back(require_float(cells[c], "a number or an empty cell in column " + quote(header[c]),
                                              name, l.number));
      }
    }
    const auto inserted = out.row_index_.emplace(row.file, out.rows_.size());
    if (!inserted.second)
      throw FormatError(name, l.number,
                        "duplicate row for file " + quote(row.file) + " (first at line " +
                            std::to_string(out.rows_[inserted.first->second].line) + ")");
    out.rows_.push_back(std::move(row));
  }
  return out;
}

BoxCsv read_box_csv(const std::string& path) { return parse_box_csv(read_text_file(path), path); }

int BoxCsv::column_index(const std::string& column) const {
  const auto it = column_index_.find(column);
  return it == column_index_.end() ? -1 : it->second;
}

const BoxCsvRow* BoxCsv::find(const std::string& file) const {
  const auto it = row_index_.find(file);
  return it == row_index_.end() ? nullptr : &rows_[it->second];
}

const BoxCsvRow& BoxCsv::row_or_throw(const std::string& file) const {
  const BoxCsvRow* row = find(file);
  if (!row) throw FormatError(source_, 0, "no row for file " + quote(file));
  return *row;
}

std::optional<float> BoxCsv::value(const std::string& file, const std::string& column) const {
  const BoxCsvRow& row = row_or_throw(file);
  const int c = column_index(column);
  if (c < 0) throw FormatError(source_, 0, "no column " + quote(column) + " in the header");
  return row.values[static_cast<std::size_t>(c)];
}

std::optional<FaceBox> BoxCsv::box(const std::string& file, const std::string& prefix) const {
  const BoxCsvRow& row = row_or_throw(file);
  // Corner columns take precedence; left/top/width/height is dlib's layout.
  const char* corner_names[4] = {"_x1", "_y1", "_x2", "_y2"};
  const char* size_names[4] = {"_left", "_top", "_width", "_height"};
  bool corners = true;
  int idx[4];
  for (int k = 0; k < 4; ++k) idx[k] = column_index(prefix + corner_names[k]);
  if (idx[0] < 0 || idx[1] < 0 || idx[2] < 0 || idx[3] < 0) {
    corners = false;
    for (int k = 0; k < 4; ++k) idx[k] = column_index(prefix + size_names[k]);
    if (idx[0] < 0 || idx[1] < 0 || idx[2] < 0 || idx[3] < 0)
      throw FormatError(source_, 0,
                        "no box columns for prefix " + quote(prefix) + ": expected " + prefix + "_x1," + prefix +
                            "_y1," + prefix + "_x2," + prefix + "_y2 or " + prefix + "_left," + prefix + "_top," +
                            prefix + "_width," + prefix + "_height");
  }
  std::optional<float> v[4];
  int present = 0;
  for (int k = 0; k < 4; ++k) {
    v[k] = row.values[static_cast<std::size_t>(idx[k])];
    present += v[k].has_value() ? 1 : 0;
  }
  if (present == 0) return std::nullopt;
  if (present != 4)
    throw FormatError(source_, row.line, "box " + quote(prefix) + " of " + quote(file) + " is partly empty (" +
                                             std::to_string(present) + " of 4 cells filled)");
  FaceBox b;
  if (corners) {
    b = {*v[0], *v[1], *v[2], *v[3]};
  } else {
    // A pixel rectangle: its pixels' outer edges, half a pixel out from their centres.
    b = {*v[0] - 0.5f, *v[1] - 0.5f, *v[0] + *v[2] - 0.5f, *v[1] + *v[3] - 0.5f};
  }
  if (!(b.x2 > b.x1 && b.y2 > b.y1))
    throw FormatError(source_, row.line, "box " + quote(prefix) + " of " + quote(file) +
                                             " has zero or negative width or height");
  return b;
}

}  // namespace facekeys
