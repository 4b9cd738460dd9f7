#include "tools/pack_datasets.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <stdexcept>

#include "facekeys/asf.hpp"
#include "facekeys/box_csv.hpp"
#include "facekeys/crop.hpp"
#include "facekeys/dlib_xml.hpp"
#include "facekeys/error.hpp"
#include "facekeys/file_io.hpp"
#include "facekeys/pts.hpp"
#include "facekeys/geometry.hpp"
#include "facekeys/image.hpp"
#include "facekeys/schema.hpp"
#include "tools/image_io.hpp"

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

Pack pack_imm(const std::string& dir, const ImmPackOptions& opt, ImmPackStats* stats) {
  ImmPackStats local;
  ImmPackStats& st = stats ? *stats : local;
  int first_w = 0, first_h = 0;
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
  pack.framing = Framing{};  // the whole image
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
    if (first_w == 0) first_w = gray.width(), first_h = gray.height();
    if (gray.width() != first_w || gray.height() != first_h)
      st.odd_sized.push_back(image_path.filename().string() + " (" + std::to_string(gray.width()) + "x" +
                             std::to_string(gray.height()) + ")");
    std::size_t outside = 0;
    for (const Point2f& p : shape.points) outside += !(p.x >= 0 && p.x <= 1 && p.y >= 0 && p.y <= 1);
    if (outside > 0) st.files_with_points_outside.push_back(asf_path.filename().string());
    st.points_outside += outside;
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

namespace {

// One face to pack, before decoding its image.
struct IbugItem {
  std::string name;        // pack name: image path relative to the dataset root
  fs::path image;          // where to read it
  std::vector<Point2f> points;  // 0-based original pixels
  Box face;                // face box, original pixels (continuous, crop.hpp's convention)
  std::string where;       // "file:line" of the annotation, for messages
  bool test = false;
};

std::string at(const std::string& file, int line) { return line > 0 ? file + ":" + std::to_string(line) : file; }

// A row of the box CSV for an image: the path relative to the CSV's folder,
// else a unique row with the same file name.
const BoxCsvRow* find_box_row(const BoxCsv& csv, const fs::path& csv_dir, const fs::path& image) {
  std::error_code ec;
  const fs::path rel = fs::relative(image, csv_dir, ec);
  if (!ec && !rel.empty()) {
    if (const BoxCsvRow* r = csv.find(rel.generic_string())) return r;
  }
  const BoxCsvRow* found = nullptr;
  for (const auto& r : csv.rows()) {
    if (fs::path(r.file).filename() == image.filename()) {
      if (found) return nullptr;  // ambiguous
      found = &r;
    }
  }
  return found;
}

Box box_from_csv(const BoxCsv& csv, const BoxCsvRow& row, const std::string& column) {
  std::optional<FaceBox> fb;
  try {
    fb = csv.box(row.file, column);
  } catch (const FormatError&) {
    throw;
  } catch (const std::exception& e) {
    throw FormatError(csv.source(), row.line, e.what());
  }
  if (!fb) throw FormatError(csv.source(), row.line, "no '" + column + "' box for " + row.file + " (empty cells)");
  return Box{fb->x1, fb->y1, fb->x2 - fb->x1, fb->y2 - fb->y1};
}

std::vector<IbugItem> ibug_items_from_xml(const std::string& xml_path, const BoxCsv* csv, const std::string& column,
                                          bool test) {
  const int K = ibug68().num_points;
  const DlibDataset ds = read_dlib_xml(xml_path, K);  // FormatError with file:line on malformed XML
  const fs::path root = fs::path(xml_path).parent_path();
  const fs::path csv_dir = csv ? fs::path(csv->source()).parent_path() : fs::path();
  std::vector<IbugItem> items;
  for (const DlibImage& img : ds.images) {
    int face = 0;
    for (const DlibBox& b : img.boxes) {
      if (b.ignore) continue;
      IbugItem it;
      it.name = img.boxes.size() > 1 ? img.file + "#" + std::to_string(face) : img.file;
      it.image = root / img.file;
      it.points = dense_points(b, K, xml_path);
      it.where = at(xml_path, b.line);
      it.test = test;
      if (csv) {
        const BoxCsvRow* row = find_box_row(*csv, csv_dir, it.image);
        if (!row)
          throw FormatError(xml_path, img.line, "image '" + img.file + "' has no row in " + csv->source());
        it.face = box_from_csv(*csv, *row, column);
        it.where = at(csv->source(), row->line);
      } else {
        // dlib boxes are integer pixel rectangles: columns left .. left+width-1.
        if (!(b.width > 0 && b.height > 0))
          throw FormatError(xml_path, b.line, "box of non-positive size (" + std::to_string(b.width) + " x " +
                                                  std::to_string(b.height) + ")");
        it.face = Box{b.left - 0.5f, b.top - 0.5f, b.width, b.height};  // box_from_pixel_rect, for any number
      }
      items.push_back(std::move(it));
      ++face;
    }
  }
  if (items.empty()) throw std::runtime_error(xml_path + ": no faces (no <box> without ignore='1')");
  return items;
}

std::vector<IbugItem> ibug_items_from_dir(const std::string& dir, const BoxCsv* csv, const std::string& column,
                                          bool test) {
  const int K = ibug68().num_points;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".pts") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  if (files.empty()) throw std::runtime_error(dir + ": no .pts files");
  const fs::path csv_dir = csv ? fs::path(csv->source()).parent_path() : fs::path();
  std::vector<IbugItem> items;
  for (const auto& pts : files) {
    IbugItem it;
    for (const char* ext : {".png", ".jpg", ".jpeg", ".PNG", ".JPG", ".JPEG"}) {
      fs::path candidate = pts;
      candidate.replace_extension(ext);
      if (fs::exists(candidate)) {
        it.image = candidate;
        break;
      }
    }
    if (it.image.empty())
      throw std::runtime_error(pts.string() + ": no image next to it (looked for " + pts.stem().string() +
                               ".png, .jpg, .jpeg)");
    it.points = read_pts(pts.string(), K);  // FormatError naming file and line ("expected 68 points, file has 67")
    it.test = test;
    if (!csv) {  // the tight box around the points, what the CSV's 'lm' columns hold
      it.face = points_box(it.points);
      if (!(it.face.w > 0 && it.face.h > 0))
        throw FormatError(pts.string(), 0, "the points' bounding box has zero size");
      it.name = (fs::path(dir).lexically_normal().filename() / it.image.filename()).generic_string();
      it.where = pts.string();
      items.push_back(std::move(it));
      continue;
    }
    const BoxCsvRow* row = find_box_row(*csv, csv_dir, it.image);
    if (!row) throw std::runtime_error(csv->source() + ": no row for image " + it.image.string());
    it.face = box_from_csv(*csv, *row, column);
    it.name = row->file;
    it.where = at(csv->source(), row->line);
    items.push_back(std::move(it));
  }
  return items;
}

}  // namespace

Pack pack_ibug(const std::vector<IbugSource>& sources, const IbugPackOptions& opt, IbugPackStats* stats) {
  if (sources.empty()) throw std::invalid_argument("pack_ibug: no sources");
  if (opt.size < 8) throw std::invalid_argument("pack_ibug: working size must be >= 8");
  std::optional<BoxCsv> csv;
  if (!opt.boxes_csv.empty()) csv = read_box_csv(opt.boxes_csv);

  std::vector<IbugItem> items;
  std::string source_names;
  for (const auto& src : sources) {
    // The two easy mix-ups of the three inputs, named before any parsing error could hide them.
    const std::string ext = extension_lower(src.path);
    if (ext == ".csv")
      throw std::runtime_error(src.path + ": a CSV file, not a dlib XML file or a folder of .pts files (a face-box "
                               "CSV goes to --boxes)");
    if (ext == ".pts")
      throw std::runtime_error(src.path + ": one .pts file: give the folder that holds the .pts files and images");
    std::vector<IbugItem> more = fs::is_directory(src.path)
                                     ? ibug_items_from_dir(src.path, csv ? &*csv : nullptr, opt.box_column, src.test)
                                     : ibug_items_from_xml(src.path, csv ? &*csv : nullptr, opt.box_column, src.test);
    for (auto& it : more) items.push_back(std::move(it));
    source_names += (source_names.empty() ? "" : ", ") + src.path + (src.test ? " (test)" : " (train/val)");
  }

  const LandmarkSchema& schema = ibug68();
  const int S = opt.size;
  Pack pack;
  pack.schema = schema.name;
  char margin[32];
  std::snprintf(margin, sizeof margin, "%.3g", opt.crop.margin);
  pack.source = "iBUG 68-point faces from " + source_names + "; face boxes: " +
                (csv ? "'" + opt.box_column + "' columns of " + opt.boxes_csv
                     : std::string("the XML <box>, or for .pts folders the tight box around the points")) +
                "; crop = box x " + margin + (opt.crop.square ? ", square" : "") + ", " + std::to_string(S) + "x" +
                std::to_string(S) + " gray BT.601 (area pre-shrink, then bilinear)";
  pack.framing = Framing{Framing::Source::FaceBox, opt.crop};  // what train copies into checkpoints, export into cards
  pack.width = S;
  pack.height = S;
  pack.channels = 1;
  pack.num_points = schema.num_points;

  IbugPackStats st;
  std::size_t train_seen = 0;
  for (const IbugItem& it : items) {
    ImageU8 gray;
    try {
      gray = to_gray(load_image_rgb(it.image.string()).view());
    } catch (const std::exception& e) {
      throw std::runtime_error(it.where + ": " + e.what());
    }
    const int W = gray.width(), H = gray.height();
    const Box& f = it.face;
    if (!(f.w > 0 && f.h > 0) || !std::isfinite(f.x) || !std::isfinite(f.y))
      throw std::runtime_error(it.where + ": face box of " + it.name + " is empty or not finite");
    if (f.x >= W - 0.5f || f.y >= H - 0.5f || f.x + f.w <= -0.5f || f.y + f.h <= -0.5f) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "face box (x %.1f, y %.1f, %.1f x %.1f) lies outside the %dx%d image ", f.x, f.y,
                    f.w, f.h, W, H);
      throw std::runtime_error(it.where + ": " + buf + it.image.string());
    }
    const Box crop = crop_box_from_box(f, opt.crop);
    // The pixels may pass through a shrunk copy of the image; the stored
    // transform is exactly crop_transform(crop) of the original image.
    const ImageU8 crop_pixels = crop_image_prefiltered(gray.view(), crop, S, S);
    const Affine2D to_pack = crop_transform(crop, S, S);
    std::vector<float> uv;
    bool outside = false;
    for (const Point2f& p : image_to_crop_normalized(it.points, crop)) {
      uv.push_back(p.x);
      uv.push_back(p.y);
      if (p.x < 0.f || p.x > 1.f || p.y < 0.f || p.y > 1.f) {
        outside = true;
        ++st.points_outside;
      }
    }
    if (outside) ++st.images_with_points_outside;
    Split split = Split::Test;
    if (!it.test) {
      split = opt.val_every > 0 && train_seen % opt.val_every == static_cast<std::size_t>(opt.val_every - 1)
                  ? Split::Val
                  : Split::Train;
      ++train_seen;
    }
    pack.add(it.name, crop_pixels.data(), uv, -1, split,
             {to_pack.a, to_pack.b, to_pack.c, to_pack.d, to_pack.e, to_pack.f}, W, H);
    ++st.images;
  }
  if (stats) *stats = st;
  return pack;
}

Pack pack_ibug(const std::string& xml_or_dir, const IbugPackOptions& opt, bool test, IbugPackStats* stats) {
  return pack_ibug(std::vector<IbugSource>{{xml_or_dir, test}}, opt, stats);
}

}  // namespace facekeys
