#include "facekeys/pack.hpp"

#include <cmath>
#include <cstring>
#include <stdexcept>

#include "facekeys/file_io.hpp"
#include "facekeys/json.hpp"
#include "facekeys/safetensors.hpp"
#include "format_util.hpp"

namespace facekeys {
namespace {

constexpr const char* kFormatName = "facekeys-pack";

template <class T>
std::vector<T> values(const SafeTensorsFile& st, const std::string& name, DType dtype,
                      const std::vector<std::int64_t>& shape, const std::string& file) {
  const TensorRecord& t = st.get(name, file);
  if (t.dtype != dtype)
    throw std::runtime_error(file + ": tensor '" + name + "' has dtype " + dtype_name(t.dtype) + ", expected " +
                             dtype_name(dtype));
  if (t.shape != shape)
    throw std::runtime_error(file + ": tensor '" + name + "' has shape " + format_detail::shape_text(t.shape) +
                             ", expected " + format_detail::shape_text(shape));
  std::vector<T> out(t.bytes.size() / sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), t.bytes.data(), t.bytes.size());
  return out;
}

int parse_positive(const std::string& text, const std::string& key, const std::string& file) {
  try {
    std::size_t used = 0;
    long v = std::stol(text, &used);
    if (used == text.size() && v > 0 && v < 100000) return static_cast<int>(v);
  } catch (const std::exception&) {
  }
  throw std::runtime_error(file + ": metadata '" + key + "' = '" + text + "' is not a positive integer");
}

// A keypoint may lie outside its crop (a face cut by the crop's edge), but not
// further than a whole image away: normalised coordinates within [-1, 2].
bool point_in_sane_range(float v) { return v >= -1.0f && v <= 2.0f; }

}  // namespace

const char* split_name(Split s) {
  switch (s) {
    case Split::Train: return "train";
    case Split::Val: return "val";
    case Split::Test: return "test";
  }
  return "?";
}

Split split_from_name(const std::string& name) {
  if (name == "train") return Split::Train;
  if (name == "val") return Split::Val;
  if (name == "test") return Split::Test;
  throw std::invalid_argument("unknown split '" + name + "' (expected train, val or test)");
}

std::size_t Pack::count(Split s) const {
  std::size_t n = 0;
  for (auto v : split) n += v == static_cast<std::uint8_t>(s);
  return n;
}

void Pack::add(const std::string& name, const std::uint8_t* image, const std::vector<float>& normalized_points,
               int person_id, Split s, const std::array<double, 6>& to_pack, int original_w, int original_h) {
  if (normalized_points.size() != static_cast<std::size_t>(num_points) * 2)
    throw std::invalid_argument(name + ": " + std::to_string(normalized_points.size() / 2) + " points, pack expects " +
                                std::to_string(num_points));
  for (std::size_t i = 0; i < normalized_points.size(); ++i)
    if (!point_in_sane_range(normalized_points[i]))
      throw std::invalid_argument(name + ": keypoint " + std::to_string(i / 2) + " " + (i % 2 ? "y" : "x") + " = " +
                                  std::to_string(normalized_points[i]) + " (normalised) is " +
                                  (std::isfinite(normalized_points[i]) ? "far outside the image" : "not finite"));
  names.push_back(name);
  pixels.insert(pixels.end(), image, image + image_bytes());
  points.insert(points.end(), normalized_points.begin(), normalized_points.end());
  person.push_back(person_id);
  split.push_back(static_cast<std::uint8_t>(s));
  image_to_pack.insert(image_to_pack.end(), to_pack.begin(), to_pack.end());
  original_size.push_back(original_w);
  original_size.push_back(original_h);
}

void Pack::validate(const std::string& file) const {
  const std::size_t n = size();
  auto check = [&](bool ok, const char* what) {
    if (!ok) throw std::runtime_error(file + ": inconsistent pack: " + what);
  };
  check(width > 0 && height > 0 && (channels == 1 || channels == 3), "bad image shape");
  check(num_points > 0, "no keypoints");
  check(pixels.size() == n * image_bytes(), "pixel count");
  check(points.size() == n * num_points * 2, "point count");
  check(person.size() == n && split.size() == n, "person/split count");
  check(image_to_pack.size() == n * 6 && original_size.size() == n * 2, "transform count");
  check(width <= 8192 && height <= 8192, "image side over 8192 pixels");
  for (auto s : split) check(s <= 2, "split value out of range");
  for (std::size_t i = 0; i < points.size(); ++i)
    if (!point_in_sane_range(points[i]))
      throw std::runtime_error(file + ": image '" + names[i / (2 * static_cast<std::size_t>(num_points))] + "' keypoint " +
                               std::to_string(i / 2 % static_cast<std::size_t>(num_points)) + " " + (i % 2 ? "y" : "x") +
                               " = " + std::to_string(points[i]) +
                               " (normalised) is not finite or far outside its image (the pack is damaged: re-create "
                               "it with `facekeys pack`)");
  for (double v : image_to_pack) check(std::isfinite(v), "non-finite image transform");
  for (auto v : original_size) check(v > 0, "original image size not positive");
}

void write_pack(const std::string& path, const Pack& pack) {
  pack.validate(path);
  const auto n = static_cast<std::int64_t>(pack.size());
  SafeTensorsFile st;
  st.metadata["format"] = kFormatName;
  st.metadata["version"] = std::to_string(Pack::kFormatVersion);
  st.metadata["schema"] = pack.schema;
  st.metadata["source"] = pack.source;
  st.metadata["width"] = std::to_string(pack.width);
  st.metadata["height"] = std::to_string(pack.height);
  st.metadata["channels"] = std::to_string(pack.channels);
  st.metadata["num_points"] = std::to_string(pack.num_points);
  Json names = Json::array();
  for (const auto& s : pack.names) names.push_back(Json(s));
  st.metadata["names"] = names.dump();
  if (pack.framing) write_framing(*pack.framing, st.metadata);
  st.tensors.push_back(make_tensor_record("pixels", DType::U8, {n, pack.height, pack.width, pack.channels}, pack.pixels));
  st.tensors.push_back(make_tensor_record("points", DType::F32, {n, pack.num_points, 2}, pack.points));
  st.tensors.push_back(make_tensor_record("person", DType::I32, {n}, pack.person));
  st.tensors.push_back(make_tensor_record("split", DType::U8, {n}, pack.split));
  st.tensors.push_back(make_tensor_record("image_to_pack", DType::F64, {n, 2, 3}, pack.image_to_pack));
  st.tensors.push_back(make_tensor_record("original_size", DType::I32, {n, 2}, pack.original_size));
  write_safetensors(path, st);
}

Pack read_pack(const std::string& path) {
  return decode_pack(read_file_bytes(path), path);  // a missing file is named as such
}

Pack decode_pack(const std::vector<std::uint8_t>& bytes, const std::string& path) {
  SafeTensorsFile st;
  try {
    st = decode_safetensors(bytes, path);
    st.require_format(path, kFormatName, Pack::kFormatVersion, "pack");
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(std::string(e.what()) + ": re-create it with `facekeys pack`");
  }
  Pack p;
  p.schema = st.meta("schema", path);
  p.source = st.meta("source", path);
  p.framing = read_framing(st.metadata, path);
  p.width = parse_positive(st.meta("width", path), "width", path);
  p.height = parse_positive(st.meta("height", path), "height", path);
  p.channels = parse_positive(st.meta("channels", path), "channels", path);
  p.num_points = parse_positive(st.meta("num_points", path), "num_points", path);
  Json names = Json::parse(st.meta("names", path), path + " (names)");
  try {
    for (const auto& s : names.as_array()) p.names.push_back(s.as_string());
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + ": metadata 'names' is not a JSON array of strings (" + e.what() + ")");
  }
  const auto n = static_cast<std::int64_t>(p.names.size());
  p.pixels = values<std::uint8_t>(st, "pixels", DType::U8, {n, p.height, p.width, p.channels}, path);
  p.points = values<float>(st, "points", DType::F32, {n, p.num_points, 2}, path);
  p.person = values<std::int32_t>(st, "person", DType::I32, {n}, path);
  p.split = values<std::uint8_t>(st, "split", DType::U8, {n}, path);
  p.image_to_pack = values<double>(st, "image_to_pack", DType::F64, {n, 2, 3}, path);
  p.original_size = values<std::int32_t>(st, "original_size", DType::I32, {n, 2}, path);
  p.validate(path);
  return p;
}

}  // namespace facekeys
