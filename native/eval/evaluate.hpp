// Scoring a model on a pack split: predictions in both the model's
// normalised frame and original-image pixels, and the field's metrics.
#pragma once

#include <string>
#include <vector>

#include "facekeys/json.hpp"
#include "facekeys/pack.hpp"
#include "models/models.hpp"
#include "train/device.hpp"

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

// The flip test of face-alignment papers: the model's output on the image
// averaged with its output on the mirrored image, mapped back. Coordinates: u
// -> 1 - u, then the points relabelled by the schema's flip table (the core's
// relabel_for_flip convention). Heatmap logits: each map mirrored along its
// width (cell j -> w - 1 - j is exactly u -> 1 - u in heatmap.hpp's cells),
// relabelled, and the logits averaged. The result is flip-equivariant by
// construction; `facekeys export --flip-test` builds the same average into the
// ONNX graph (tested for parity).
torch::Tensor flip_test_forward(KeypointNet& model, const torch::Tensor& x, const ModelSpec& spec);

// Runs the model over a split. flip_test: flip_test_forward instead of forward.
Predictions predict_split(KeypointNet& model, const ModelSpec& spec, const Pack& pack, const std::string& pack_path,
                          Split split, DeviceChoice device, int batch = 64, bool flip_test = false);

// {"split", "n", "model", "mse", "seed_mae", "kaggle_mae", "mean_px_error",
//  and for schemas with eye corners "nme", "fr_010", "auc_010"}.
Json metrics_json(const Predictions& p, const Pack& pack);

// Per image: name, per-point squared error, predicted and true points in
// original pixels; read by `facekeys report` for best/worst overlays.
Json predictions_json(const Predictions& p, const Pack& pack);

// Heatmap model output -> normalised coordinates of the model input: logits
// [B, K, h, w] -> spatial softmax -> facekeys::decode_argmax_refined (the
// shared core's sub-pixel decoder, on the CPU) -> u = (x_hm + 0.5) / w,
// v = (y_hm + 0.5) / h. Returns [B, 2K] float on the CPU, the layout
// coordinate models output, so everything downstream is shared.
torch::Tensor decode_heatmaps_normalized(const torch::Tensor& logits);

// Per-image NME (inter-ocular, original pixels), or empty when the schema has
// no eye corners.
std::vector<double> per_image_nme(const Predictions& p);

// Kaggle-style submission: "Id,Predicted", one row per coordinate, images in
// split order, points 0..K-1, x before y. Id = <image>_<point>_<x|y> with
// <image> the file stem of the pack name (image_0001 for
// lfpw/testset/image_0001.png; a second face of one image gets "-1", ...);
// Predicted = original-image pixels, 0-based (pixel centres at integers;
// iBUG .pts files are 1-based: add 1 to compare with them).
std::string kaggle_csv(const Predictions& p, const Pack& pack);

// Heatmap models: runs the model again on the best, median and worst images
// (by NME, else MSE) and writes their softmax maps to a safetensors file:
// "heatmaps" F32 [3, K, h, w], "pack_index" I64 [3], metadata which =
// "best,median,worst". `facekeys report --heatmaps` draws them. Throws for
// coordinate models (a message naming the architecture), and for no images.
void write_heatmap_samples(const std::string& path, KeypointNet& model, const Predictions& p, const Pack& pack,
                           const std::string& pack_path, DeviceChoice device, bool flip_test = false);

// Pack-normalised (u, v) -> original-image pixels via the pack's stored transform.
std::vector<float> pack_normalized_to_original(const Pack& pack, std::int64_t row, const float* uv, int num_points);

}  // namespace facekeys
