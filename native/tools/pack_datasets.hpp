// Dataset readers for `facekeys pack`: decode every image once (OpenCV), take
// its annotation through the core's parsers, and build a Pack.
#pragma once

#include <string>

#include <vector>

#include "facekeys/crop.hpp"
#include "facekeys/pack.hpp"

namespace facekeys {

struct ImmPackOptions {
  int width = 240, height = 180;  // the seed's Part 2 working resolution (640x480 / 8 * 3)
  int last_train_person = 32;     // persons 1..32 train, 33..40 val, as the course did
};

// What a pack of IMM saw that is odd but not wrong (the command warns).
struct ImmPackStats {
  std::size_t points_outside = 0;       // .asf relative coordinates outside [0, 1] (kept)
  std::vector<std::string> files_with_points_outside;
  std::vector<std::string> odd_sized;   // photos whose size differs from the first one's (IMM's are 640x480)
};

// Reads <dir>/*.asf and their host images. Throws naming the file on a
// missing/corrupt image, a malformed .asf or a wrong point count.
Pack pack_imm(const std::string& dir, const ImmPackOptions& opt, ImmPackStats* stats = nullptr);

// ---- iBUG / 300-W 68-point data --------------------------------------------

// One annotation source: a dlib imglab XML file, or a folder of .pts files
// (each next to its image: same stem, .png/.jpg/.jpeg). `test` puts every image
// in Split::Test; otherwise images go to Split::Train, except every
// val_every-th one (the 10th, 20th, ... in file order), which goes to Split::Val.
struct IbugSource {
  std::string path;
  bool test = false;
};

struct IbugPackOptions {
  int size = 224;  // working resolution: square size x size gray crops
  // Crop box = face box enlarged by `margin` (and made square) around its
  // centre. DAN boxes are about as tight as the landmarks, so 1.3 leaves ~15 %
  // of the face size on each side: room for jaw points and for augmentation.
  CropPolicy crop{1.3f, true, 0.0f};
  // Face boxes from a CSV (300w/boxes_lfpw.csv): rows keyed by the image path
  // relative to the CSV's folder; box_column picks the box ("dan", "dlib",
  // "lm", ...). Required for .pts folders; for XML it overrides the <box>.
  std::string boxes_csv;
  std::string box_column = "dan";
  int val_every = 10;  // 0: no validation split
};

struct IbugPackStats {
  std::size_t images = 0;
  std::size_t images_with_points_outside = 0;  // any point outside the crop (kept)
  std::size_t points_outside = 0;
};

// Decodes every image (OpenCV), converts to gray, crops around its face box
// and stores size x size crops with points normalised to the crop and
// image_to_pack = crop_transform(crop box). Throws FormatError / runtime_error
// naming the file (and line) on malformed XML, a missing or corrupt image, a
// face box outside its image, a .pts without exactly 68 points, or an image
// without a box in the CSV.
Pack pack_ibug(const std::vector<IbugSource>& sources, const IbugPackOptions& opt, IbugPackStats* stats = nullptr);
// One source, all in one split (test) or train/val.
Pack pack_ibug(const std::string& xml_or_dir, const IbugPackOptions& opt, bool test = false,
               IbugPackStats* stats = nullptr);

}  // namespace facekeys
