#include "train/dataset.hpp"

#include <stdexcept>

#include "facekeys/schema.hpp"

namespace facekeys {

DeviceSplit load_split(const Pack& pack, const std::string& pack_path, Split split, const ModelSpec& spec,
                       const torch::Device& device) {
  if (pack.channels != spec.channels)
    throw std::runtime_error(pack_path + ": pack has " + std::to_string(pack.channels) + " channel(s), model " +
                             spec.arch + " expects " + std::to_string(spec.channels));
  const LandmarkSchema& schema = schema_by_name(pack.schema);
  // Which pack points the model predicts: all of them, or the nose tip alone.
  const std::vector<int> points = pack_points_for_model(schema, spec.schema);
  if (points.empty())
    throw std::runtime_error(pack_path + ": a pack of " + pack.schema + " points has none for model " + spec.arch +
                             " (" + spec.schema + " points)");
  const std::vector<int64_t> keep(points.begin(), points.end());

  DeviceSplit out;
  for (std::size_t i = 0; i < pack.size(); ++i)
    if (pack.split[i] == static_cast<std::uint8_t>(split)) out.pack_index.push_back(static_cast<int64_t>(i));
  if (out.pack_index.empty())
    throw std::runtime_error(pack_path + ": the " + std::string(split_name(split)) + " split is empty");

  const auto n = static_cast<int64_t>(pack.size());
  auto all_pixels = torch::from_blob(const_cast<std::uint8_t*>(pack.pixels.data()),
                                     {n, pack.height, pack.width, pack.channels}, torch::kUInt8);
  auto all_points = torch::from_blob(const_cast<float*>(pack.points.data()), {n, pack.num_points, 2}, torch::kFloat32);
  auto rows = torch::tensor(out.pack_index, torch::kInt64);
  auto keep_t = torch::tensor(keep, torch::kInt64);

  auto images = all_pixels.index_select(0, rows).permute({0, 3, 1, 2}).contiguous();
  if (images.size(2) != spec.input_h || images.size(3) != spec.input_w) {
    // Resize once at load time (area averaging when shrinking), not per step.
    auto f = images.to(torch::kFloat32);
    f = torch::nn::functional::interpolate(
        f, torch::nn::functional::InterpolateFuncOptions()
               .size(std::vector<int64_t>{spec.input_h, spec.input_w})
               .mode(torch::kArea));
    images = f.round().clamp(0, 255).to(torch::kUInt8);
  }
  out.images = images.to(device);
  out.points = all_points.index_select(0, rows).index_select(1, keep_t).contiguous().to(device);

  // Flip relabelling restricted to the kept points.
  std::vector<int64_t> perm;
  if (keep.size() == 1) {
    perm.push_back(0);
  } else {
    for (int i = 0; i < pack.num_points; ++i) perm.push_back(schema.flip_permutation.at(i));
  }
  out.flip_permutation = torch::tensor(perm, torch::kInt64).to(device);
  return out;
}

DeviceSplit concat_splits(const DeviceSplit& a, const DeviceSplit& b) {
  DeviceSplit out;
  out.images = torch::cat({a.images, b.images});
  out.points = torch::cat({a.points, b.points});
  out.flip_permutation = a.flip_permutation;
  out.pack_index = a.pack_index;
  out.pack_index.insert(out.pack_index.end(), b.pack_index.begin(), b.pack_index.end());
  return out;
}

torch::Tensor to_unit_float(const torch::Tensor& images_u8) { return images_u8.to(torch::kFloat32) / 255.0; }

torch::Tensor normalize_input(const torch::Tensor& unit_images) { return (unit_images - 0.5) / 0.5; }

}  // namespace facekeys
