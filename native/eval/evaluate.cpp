#include "eval/evaluate.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>

#include "train/dataset.hpp"
#include "train/device.hpp"
#include "facekeys/geometry.hpp"
#include "facekeys/heatmap.hpp"
#include "facekeys/safetensors.hpp"
#include "facekeys/metrics.hpp"
#include "facekeys/schema.hpp"

namespace facekeys {

std::vector<float> pack_normalized_to_original(const Pack& pack, std::int64_t row, const float* uv, int num_points) {
  const double* m = &pack.image_to_pack[static_cast<std::size_t>(row) * 6];
  const Affine2D pack_to_image = Affine2D{m[0], m[1], m[2], m[3], m[4], m[5]}.inverse();
  std::vector<float> out(static_cast<std::size_t>(num_points) * 2);
  for (int k = 0; k < num_points; ++k) {
    Point2f p = from_normalized(Point2f{uv[2 * k], uv[2 * k + 1]}, pack.width, pack.height);
    p = pack_to_image.apply(p);
    out[2 * k] = p.x;
    out[2 * k + 1] = p.y;
  }
  return out;
}

torch::Tensor decode_heatmaps_normalized(const torch::Tensor& logits) {
  if (logits.dim() != 4) throw std::invalid_argument("decode_heatmaps_normalized: expected [B, K, h, w] maps");
  const int64_t B = logits.size(0), K = logits.size(1), h = logits.size(2), w = logits.size(3);
  const torch::Tensor cpu = logits.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  auto out = torch::empty({B, 2 * K}, torch::kFloat32);
  const std::size_t per_image = static_cast<std::size_t>(K * h * w);
  for (int64_t b = 0; b < B; ++b) {
    const std::vector<float> uv = decode_heatmap_logits_normalized(cpu.data_ptr<float>() + b * per_image,
                                                                   static_cast<std::size_t>(K), static_cast<int>(h),
                                                                   static_cast<int>(w));
    std::copy(uv.begin(), uv.end(), out.data_ptr<float>() + b * 2 * K);
  }
  return out;
}

torch::Tensor flip_test_forward(KeypointNet& model, const torch::Tensor& x, const ModelSpec& spec) {
  const LandmarkSchema& schema = schema_by_name(spec.schema);
  // index_select(perm) is out[i] = in[perm[i]]; the core's relabel is out[perm[i]] = in[i]:
  // the same because a flip table is its own inverse (schema tests check it).
  const torch::Tensor perm = torch::tensor(schema.flip_permutation, torch::kInt64).to(x.device());
  const torch::Tensor out = model.forward(x);
  const torch::Tensor mirrored = model.forward(x.flip({3}));
  if (out.dim() == 4) return (out + mirrored.flip({3}).index_select(1, perm)) * 0.5;
  const int64_t k = out.size(1) / 2;
  torch::Tensor back = mirrored.view({-1, k, 2}).index_select(1, perm).clone();
  back.select(2, 0).mul_(-1).add_(1);  // u -> 1 - u
  return (out + back.view({-1, 2 * k})) * 0.5;
}

Predictions predict_split(KeypointNet& model, const ModelSpec& spec, const Pack& pack, const std::string& pack_path,
                          Split split, DeviceChoice device_choice, int batch, bool flip_test) {
  const torch::Device device = pick_device(device_choice);
  const DeviceSplit data = load_split(pack, pack_path, split, spec, device);
  model.to(device);
  model.eval();
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> outs;
  for (int64_t i = 0; i < data.size(); i += batch) {
    const int64_t n = std::min<int64_t>(batch, data.size() - i);
    const auto x = normalize_input(to_unit_float(data.images.narrow(0, i, n)));
    auto out = flip_test ? flip_test_forward(model, x, spec) : model.forward(x);
    outs.push_back(out.dim() == 4 ? decode_heatmaps_normalized(out) : out.to(torch::kCPU, torch::kFloat32));
  }
  auto pred = torch::cat(outs, 0).contiguous();
  auto gt = data.points.to(torch::kCPU).contiguous();

  Predictions p;
  p.spec = spec;
  p.split = split;
  p.pack_index = data.pack_index;
  p.pred_norm.assign(pred.data_ptr<float>(), pred.data_ptr<float>() + pred.numel());
  p.gt_norm.assign(gt.data_ptr<float>(), gt.data_ptr<float>() + gt.numel());
  const int k = spec.num_points;
  for (std::size_t i = 0; i < p.size(); ++i) {
    auto pp = pack_normalized_to_original(pack, p.pack_index[i], &p.pred_norm[i * k * 2], k);
    auto gp = pack_normalized_to_original(pack, p.pack_index[i], &p.gt_norm[i * k * 2], k);
    p.pred_px.insert(p.pred_px.end(), pp.begin(), pp.end());
    p.gt_px.insert(p.gt_px.end(), gp.begin(), gp.end());
  }
  return p;
}

Json metrics_json(const Predictions& p, const Pack& pack) {
  const std::size_t n = p.size(), k = static_cast<std::size_t>(p.num_points());
  Json j = Json::object();
  j["split"] = split_name(p.split);
  j["n"] = n;
  j["model"] = p.spec.arch;
  j["schema"] = p.spec.schema;
  j["mse"] = mse_normalized(p.pred_norm, p.gt_norm, n, k);
  j["seed_mae"] = seed_mae(p.pred_norm, p.gt_norm, n, k);
  j["kaggle_mae"] = kaggle_mae(p.pred_px, p.gt_px, n, k);
  double px = 0;
  for (std::size_t i = 0; i < n * k; ++i)
    px += std::hypot(p.pred_px[2 * i] - p.gt_px[2 * i], p.pred_px[2 * i + 1] - p.gt_px[2 * i + 1]);
  j["mean_px_error"] = px / static_cast<double>(n * k);
  const LandmarkSchema& schema = schema_by_name(p.spec.schema == "nose_tip" ? pack.schema : p.spec.schema);
  if (p.spec.schema != "nose_tip" && schema.left_eye_outer >= 0) {
    auto s = summarize_metrics(p.pred_norm, p.gt_norm, p.pred_px, p.gt_px, n, k,
                               static_cast<std::size_t>(schema.left_eye_outer),
                               static_cast<std::size_t>(schema.right_eye_outer));
    j["nme"] = s.nme;
    j["fr_010"] = s.fr_010;
    j["auc_010"] = s.auc_010;
  }
  return j;
}

std::vector<double> per_image_nme(const Predictions& p) {
  const LandmarkSchema& schema = schema_by_name(p.spec.schema);
  if (p.spec.schema == "nose_tip" || schema.left_eye_outer < 0 || p.size() == 0) return {};
  return nme_per_image(p.pred_px, p.gt_px, p.size(), static_cast<std::size_t>(p.num_points()),
                       static_cast<std::size_t>(schema.left_eye_outer), static_cast<std::size_t>(schema.right_eye_outer));
}

std::string kaggle_csv(const Predictions& p, const Pack& pack) {
  const std::size_t k = static_cast<std::size_t>(p.num_points());
  std::ostringstream out;
  out << "Id,Predicted\n";
  std::map<std::string, int> seen;
  char buf[64];
  for (std::size_t i = 0; i < p.size(); ++i) {
    std::string stem = std::filesystem::path(pack.names[static_cast<std::size_t>(p.pack_index[i])]).stem().string();
    for (char& c : stem)
      if (c == ',' || c == '"' || c == '\n' || c == '\r' || c == '#') c = '-';
    const int dup = seen[stem]++;
    if (dup > 0) stem += "-" + std::to_string(dup);
    for (std::size_t c = 0; c < k; ++c)
      for (int axis = 0; axis < 2; ++axis) {
        std::snprintf(buf, sizeof buf, "%.3f", p.pred_px[(i * k + c) * 2 + axis]);
        out << stem << '_' << c << '_' << (axis == 0 ? 'x' : 'y') << ',' << buf << '\n';
      }
  }
  return out.str();
}

void write_heatmap_samples(const std::string& path, KeypointNet& model, const Predictions& p, const Pack& pack,
                           const std::string& pack_path, DeviceChoice device_choice, bool flip_test) {
  if (p.spec.output != OutputKind::Heatmaps)
    throw std::runtime_error("heatmap samples: " + p.spec.arch + " regresses coordinates, it has no heatmaps");
  if (p.size() == 0) throw std::runtime_error("heatmap samples: no images to pick from");
  std::vector<double> err = per_image_nme(p);
  if (err.empty()) {
    const std::size_t k2 = 2 * static_cast<std::size_t>(p.num_points());
    for (std::size_t i = 0; i < p.size(); ++i) {
      double se = 0;
      for (std::size_t c = 0; c < k2; ++c) se += std::pow(p.pred_norm[i * k2 + c] - p.gt_norm[i * k2 + c], 2);
      err.push_back(se);
    }
  }
  std::vector<std::size_t> order(p.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return err[a] < err[b]; });
  const std::vector<int64_t> picks = {static_cast<int64_t>(order.front()), static_cast<int64_t>(order[order.size() / 2]),
                                      static_cast<int64_t>(order.back())};
  const torch::Device device = pick_device(device_choice);
  const DeviceSplit data = load_split(pack, pack_path, p.split, p.spec, device);
  model.to(device);
  model.eval();
  torch::NoGradGuard no_grad;
  auto idx = torch::tensor(picks, torch::kInt64).to(device);
  const auto x = normalize_input(to_unit_float(data.images.index_select(0, idx)));
  auto logits = flip_test ? flip_test_forward(model, x, p.spec) : model.forward(x);
  const torch::Tensor cpu = logits.to(torch::kCPU, torch::kFloat32).contiguous();
  // Every map of the three images in one call: spatial_softmax treats each map on its own.
  const std::vector<float> maps = spatial_softmax(cpu.data_ptr<float>(), static_cast<std::size_t>(cpu.size(0) * cpu.size(1)),
                                                  static_cast<int>(cpu.size(2)), static_cast<int>(cpu.size(3)));

  SafeTensorsFile st;
  st.metadata["format"] = "facekeys-heatmaps";
  st.metadata["model"] = p.spec.arch;
  st.metadata["schema"] = p.spec.schema;
  st.metadata["split"] = split_name(p.split);
  st.metadata["which"] = "best,median,worst";
  st.metadata["flip_test"] = flip_test ? "true" : "false";
  TensorRecord m;
  m.name = "heatmaps";
  m.dtype = DType::F32;
  m.shape.assign(cpu.sizes().begin(), cpu.sizes().end());
  m.bytes.resize(maps.size() * sizeof(float));
  std::memcpy(m.bytes.data(), maps.data(), m.bytes.size());
  TensorRecord r;
  r.name = "pack_index";
  r.dtype = DType::I64;
  r.shape = {3};
  std::vector<int64_t> rows;
  for (int64_t i : picks) rows.push_back(p.pack_index[static_cast<std::size_t>(i)]);
  r.bytes.resize(rows.size() * sizeof(int64_t));
  std::memcpy(r.bytes.data(), rows.data(), r.bytes.size());
  st.tensors = {m, r};
  write_safetensors(path, st);
}

Json predictions_json(const Predictions& p, const Pack& pack) {
  const std::size_t k = static_cast<std::size_t>(p.num_points());
  const std::vector<double> nmes = per_image_nme(p);
  Json images = Json::array();
  for (std::size_t i = 0; i < p.size(); ++i) {
    Json img = Json::object();
    img["name"] = pack.names[static_cast<std::size_t>(p.pack_index[i])];
    img["pack_index"] = static_cast<double>(p.pack_index[i]);
    double se = 0;
    for (std::size_t c = 0; c < 2 * k; ++c) {
      const double d = p.pred_norm[i * 2 * k + c] - p.gt_norm[i * 2 * k + c];
      se += d * d;
    }
    img["mse"] = se / static_cast<double>(2 * k);
    if (!nmes.empty()) img["nme"] = nmes[i];
    Json pred = Json::array(), gt = Json::array();
    for (std::size_t c = 0; c < k; ++c) {
      pred.push_back(Json(Json::Array{Json(p.pred_px[i * 2 * k + 2 * c]), Json(p.pred_px[i * 2 * k + 2 * c + 1])}));
      gt.push_back(Json(Json::Array{Json(p.gt_px[i * 2 * k + 2 * c]), Json(p.gt_px[i * 2 * k + 2 * c + 1])}));
    }
    img["pred"] = pred;
    img["gt"] = gt;
    images.push_back(img);
  }
  Json j = Json::object();
  j["model"] = p.spec.arch;
  j["schema"] = p.spec.schema;
  j["split"] = split_name(p.split);
  j["images"] = images;
  return j;
}

}  // namespace facekeys
