// Scoring a model on a pack split: predictions in both the model's
// normalised frame and original-image pixels, and the field's metrics.
#pragma once

#include <string>
#include <vector>

#include "facekeys/json.hpp"
#include "facekeys/pack.hpp"
#include "models.hpp"

namespace facekeys {

struct Predictions {
  ModelSpec spec;
  Split split = Split::Val;
  std::vector<std::int64_t> pack_index;  // row in the pack per image
  std::vector<float> pred_norm, gt_norm;  // N*K*2, normalised pack-image coordinates
  std::vector<float> pred_px, gt_px;      // N*K*2, original-image pixels
  std::size_t size() const { return pack_index.size(); }
  int num_points() const { return spec.num_points; }
};

Predictions predict_split(KeypointNet& model, const ModelSpec& spec, const Pack& pack, const std::string& pack_path,
                          Split split, const std::string& device, int batch = 64);

// {"split", "n", "model", "mse", "seed_mae", "kaggle_mae", "mean_px_error",
//  and for schemas with eye corners "nme", "fr_010", "auc_010"}.
Json metrics_json(const Predictions& p, const Pack& pack);

// Per image: name, per-point squared error, predicted and true points in
// original pixels; read by `facekeys report` for best/worst overlays.
Json predictions_json(const Predictions& p, const Pack& pack);

// Pack-normalised (u, v) -> original-image pixels via the pack's stored transform.
std::vector<float> pack_normalized_to_original(const Pack& pack, std::int64_t row, const float* uv, int num_points);

}  // namespace facekeys
