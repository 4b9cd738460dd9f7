// dlib "imglab" XML dataset reader (the labels_ibug_300W_*.xml layout):
//
//   <dataset><images>
//     <image file='lfpw/testset/image_0001.png' width='533' height='800'>
//       <box top='260' left='151' width='267' height='255' [ignore='1']>
//         <part name='00' x='156' y='294'/> ...
//       </box>
//     </image> ...
//   </images></dataset>
//
// A small hand-written XML subset reader (the core may not depend on an XML
// library, it is also built with em++): elements, single- or double-quoted
// attributes, self-closing tags, comments, <?xml ...?>, <!DOCTYPE>, CDATA and
// the five predefined entities plus numeric character references. Unknown
// elements and attributes are ignored; the known ones (dataset, images, image,
// box, part) must be nested as above. Part coordinates are 0-based pixels, as
// dlib writes them (docs/CONVENTIONS.md).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "facekeys/geometry.hpp"  // Point2f

namespace facekeys {

struct DlibPart {
  int index = 0;  // parsed from name='NN'
  Point2f point{0.0f, 0.0f};
};

struct DlibBox {
  // dlib writes integers; any number is accepted here.
  float top = 0, left = 0, width = 0, height = 0;
  bool ignore = false;
  std::vector<DlibPart> parts;  // sorted by index, indices unique
  int line = 0;                 // where the <box> tag starts, for later messages
};

struct DlibImage {
  std::string file;  // as written (relative to the XML file's folder in imglab datasets)
  std::optional<int> width, height;
  std::vector<DlibBox> boxes;
  int line = 0;
};

struct DlibDataset {
  std::vector<DlibImage> images;
};

// `name` is used in error messages. num_points > 0 requires every part index to
// be in [0, num_points); 0 allows [0, 10000). Throws FormatError with line numbers.
DlibDataset parse_dlib_xml(std::string_view text, const std::string& name, int num_points = 0);
DlibDataset read_dlib_xml(const std::string& path, int num_points = 0);

// The box's parts as a dense vector indexed 0..num_points-1; throws
// FormatError(name, box.line, ...) naming the first missing index if the box does
// not have exactly those parts.
std::vector<Point2f> dense_points(const DlibBox& box, int num_points, const std::string& name);

}  // namespace facekeys
