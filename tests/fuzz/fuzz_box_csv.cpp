// Face-box CSVs: the table, then every row's cells and its boxes under the
// prefixes facekeys reads (corner and dlib-rectangle layouts).
#include "facekeys/box_csv.hpp"
#include "fuzz_target.hpp"

namespace {
void parse_and_read_boxes(std::string_view text) {
  const facekeys::BoxCsv csv = facekeys::parse_box_csv(text, "fuzz.csv");
  for (const facekeys::BoxCsvRow& row : csv.rows()) {
    for (const std::string& column : csv.columns()) (void)csv.value(row.file, column);
    for (const char* prefix : {"dan", "dlib", "lm"}) {
      try {
        (void)csv.box(row.file, prefix);
      } catch (const std::exception&) {  // a bad box: the answer to bad input
      }
    }
  }
}
}  // namespace

FACEKEYS_FUZZ_TARGET(parse_and_read_boxes(text))
