// Face-box CSV reader (300w/boxes_lfpw.csv and files like it).
//
//   file,width,height,dan_x1,dan_y1,dan_x2,dan_y2,lm_x1,...,dlib_left,dlib_top,dlib_width,dlib_height
//   lfpw/testset/image_0001.png,533,800,151.029,260.163,417.880,514.884,...,,,,
//
// A header row is required and columns are looked up by name, so files may add,
// drop or reorder columns. The 'file' column is the key (unique per file);
// every other column holds numbers, and a cell may be empty (an optional value,
// e.g. dlib_* exists for a few images only). Fields may be double-quoted
// (RFC 4180, no embedded newlines).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace facekeys {

// A box as corners, in the pixel units of the file (x1 <= x2, y1 <= y2).
struct FaceBox {
  float x1 = 0, y1 = 0, x2 = 0, y2 = 0;
};

struct BoxCsvRow {
  std::string file;
  std::vector<std::optional<float>> values;  // parallel to BoxCsv::columns(); nullopt = empty cell
  int line = 0;
};

class BoxCsv {
 public:
  const std::string& source() const { return source_; }          // the name used in messages
  const std::vector<std::string>& columns() const { return columns_; }  // header minus 'file', in file order
  const std::vector<BoxCsvRow>& rows() const { return rows_; }        // in file order
  std::size_t size() const { return rows_.size(); }

  int column_index(const std::string& column) const;  // index into columns()/values, -1 if absent
  const BoxCsvRow* find(const std::string& file) const;  // nullptr if there is no such row

  // One cell. Throws FormatError if the file has no such row or column;
  // nullopt if the cell is empty.
  std::optional<float> value(const std::string& file, const std::string& column) const;

  // The box stored under a column prefix, in continuous pixel coordinates
  // (crop.hpp's Box convention): either <prefix>_x1/_y1/_x2/_y2 (e.g. "dan",
  // "lm"), taken as they are, or <prefix>_left/_top/_width/_height (e.g.
  // "dlib"), an integer pixel rectangle as dlib and OpenCV write them (columns
  // left .. left+width-1), read as box_from_pixel_rect does: x1 = left - 0.5,
  // x2 = left + width - 0.5, so it frames a face exactly as the same
  // rectangle in a dlib XML <box> does. nullopt if all four cells are empty.
  // Throws FormatError if the row or the columns are missing, only some cells
  // are empty, or x2 < x1 / y2 < y1.
  std::optional<FaceBox> box(const std::string& file, const std::string& prefix) const;

 private:
  friend BoxCsv parse_box_csv(std::string_view text, const std::string& name);
  const BoxCsvRow& row_or_throw(const std::string& file) const;
  std::string source_;
  std::vector<std::string> columns_;
  std::vector<BoxCsvRow> rows_;
  std::unordered_map<std::string, std::size_t> row_index_;
  std::unordered_map<std::string, int> column_index_;
};

// `name` is used in error messages. Throws FormatError.
BoxCsv parse_box_csv(std::string_view text, const std::string& name);
BoxCsv read_box_csv(const std::string& path);

}  // namespace facekeys
