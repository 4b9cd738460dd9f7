#include "pack_datasets.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include "facekeys/asf.hpp"
#include "facekeys/geometry.hpp"
#include "facekeys/image.hpp"
#include "facekeys/schema.hpp"
#include "image_io.hpp"

namespace facekeys {
namespace {

namespace fs = std::filesystem;

// Whole-image resize as an affine map under the pixel-centre convention:
// the image extent [-0.5, w-0.5] maps onto [-0.5, W-0.5].
Affine2D resize_transform(int w, int h, int out_w, int out_h) {
  const double sx = static_cast<double>(out_w) / w, sy = static_cast<double>(out_h) / h;
  return Affine2D{sx, 0.0, 0.5 * sx - 0.5, 0.0, sy, 0.5 * sy - 0.5};
}

// IMM file names are "<person>-<type><gender>.asf", e.g. "07-3m.asf".
int imm_person(const fs::path& asf) {
  const std::string stem = asf.stem().string();
  int person = 0;
  char dash = 0;
  if (std::sscanf(stem.c_str(), "%d%c", &person, &dash) != 2 || dash != '-' || person < 1)
    throw std::runtime_error(asf.string() + ": file name does not start with '<person>-' (IMM naming, e.g. 01-1m.asf)");
  return person;
}

}  // namespace

Pack pack_imm(const std::string& dir, const ImmPackOptions& opt) {
  if (!fs::is_directory(dir)) throw std::runtime_error(dir + ": not a directory");
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".asf") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  if (files.empty()) throw std::runtime_error(dir + ": no .asf files (expected the IMM face database folder)");

  const LandmarkSchema& schema = imm58();
  Pack pack;
  pack.schema = schema.name;
  pack.source = "IMM face database, whole 640x480 frames resized to " + std::to_string(opt.width) + "x" +
                std::to_string(opt.height) + " (area averaging), gray BT.601";
  pack.width = opt.width;
  pack.height = opt.height;
  pack.channels = 1;
  pack.num_points = schema.num_points;

  for (const auto& asf_path : files) {
    const int person = imm_person(asf_path);
    const AsfShape shape = read_asf(asf_path.string(), schema.num_points);
    fs::path image_path = asf_path.parent_path() / (shape.host_image.empty() ? asf_path.stem().string() + ".jpg"
                                                                             : shape.host_image);
    const ImageU8 rgb = load_image_rgb(image_path.string());
    const ImageU8 gray = to_gray(rgb.view());
    const ImageU8 small = resize(gray.view(), opt.width, opt.height);
    const Affine2D to_pack = resize_transform(gray.width(), gray.height(), opt.width, opt.height);

    std::vector<float> uv;
    for (const Point2f& p : asf_to_pixels(shape, gray.width(), gray.height())) {
      const Point2f n = to_normalized(to_pack.apply(p), opt.width, opt.height);
      uv.push_back(n.x);
      uv.push_back(n.y);
    }
    const Split split = person <= opt.last_train_person ? Split::Train : Split::Val;
    pack.add(image_path.filename().string(), small.data(), uv, person, split,
             {to_pack.a, to_pack.b, to_pack.c, to_pack.d, to_pack.e, to_pack.f}, gray.width(), gray.height());
  }
  if (pack.count(Split::Train) == 0 || pack.count(Split::Val) == 0)
    throw std::runtime_error(dir + ": the person split left the train or val split empty (" +
                             std::to_string(pack.count(Split::Train)) + " train, " +
                             std::to_string(pack.count(Split::Val)) + " val)");
  return pack;
}

}  // namespace facekeys
