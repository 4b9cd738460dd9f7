#include "evaluate.hpp"

#include <cmath>

#include "dataset.hpp"
#include "device.hpp"
#include "facekeys/geometry.hpp"
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

Predictions predict_split(KeypointNet& model, const ModelSpec& spec, const Pack& pack, const std::string& pack_path,
                          Split split, const std::string& device_name, int batch) {
  const torch::Device device = pick_device(device_name);
  const DeviceSplit data = load_split(pack, pack_path, split, spec, device);
  model.to(device);
  model.eval();
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> outs;
  for (int64_t i = 0; i < data.size(); i += batch) {
    const int64_t n = std::min<int64_t>(batch, data.size() - i);
    outs.push_back(model.forward(normalize_input(to_unit_float(data.images.narrow(0, i, n)))).to(torch::kCPU));
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

Json predictions_json(const Predictions& p, const Pack& pack) {
  const std::size_t k = static_cast<std::size_t>(p.num_points());
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
