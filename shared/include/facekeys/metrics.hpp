// Landmark accuracy metrics, defined once for the trainer, `facekeys eval` and
// the browser module (definitions: docs/CONVENTIONS.md, "Metrics").
//
// Every batch function takes N images x K points as flat arrays of interleaved
// coordinates, [x0 y0 x1 y1 ...] image after image (2*N*K floats). That is the
// layout models output and packs store, so callers pass tensor storage without
// reshaping, and this header does not depend on the point type.
//
// Arrays are std::vector so their sizes can be checked: a wrong N or K is the
// classic silent metric bug (an average over the wrong count still looks like
// a plausible number), so every size mismatch throws std::invalid_argument,
// as do empty batches (N == 0 or K == 0), whose averages are undefined.
//
// Sums are accumulated in double: a test set has ~10^5 coordinates, and float
// accumulation would already lose digits in the reported values.
#pragma once

#include <cstddef>
#include <vector>

namespace facekeys {

// MSE: mean over all N*K*2 coordinates of the squared error, in normalised
// coordinates (u = (x + 0.5) / W, v = (y + 0.5) / H).
double mse_normalized(const std::vector<float>& pred, const std::vector<float>& gt,
                      std::size_t n_images, std::size_t n_points);

// Seed MAE (the seed report's definition): per image, the sum over points of
// |du| + |dv| in normalised coordinates; then the mean over images. Note it is
// a per-image *sum*, so it grows with K (compare only for the same schema).
double seed_mae(const std::vector<float>& pred, const std::vector<float>& gt,
                std::size_t n_images, std::size_t n_points);

// Kaggle MAE: sum over images and points of |dx| + |dy| in original-image
// pixels, divided by N*K*2 (i.e. the mean absolute coordinate error).
double kaggle_mae(const std::vector<float>& pred_px, const std::vector<float>& gt_px,
                  std::size_t n_images, std::size_t n_points);

// NME per image: mean over points of the Euclidean pixel error, divided by the
// distance between ground-truth points left_idx and right_idx (the outer eye
// corners: iBUG 36 and 45). Pixel coordinates of the original image, so the
// result does not depend on any crop or resize. Throws std::invalid_argument
// when an index is >= K or an image's normalising distance is zero (or not
// finite): such an image has no defined NME, and silently dropping or
// clamping it would change the reported numbers.
std::vector<double> nme_per_image(const std::vector<float>& pred_px,
                                  const std::vector<float>& gt_px, std::size_t n_images,
                                  std::size_t n_points, std::size_t left_idx,
                                  std::size_t right_idx);

// The functions below take per-image NMEs. Negative values throw (an NME is a
// ratio of distances). NaN/inf values are allowed and count as failures: a
// diverged prediction must make the numbers worse, not vanish from them.
// An empty list throws.

// FR: fraction of images with NME > threshold (strictly greater, so an image
// exactly at the threshold is not a failure, matching the CED's "<=").
double failure_rate(const std::vector<double>& nmes, double threshold = 0.10);

// Cumulative error distribution, sampled for plotting: thresholds[i] =
// i * max_error / steps for i = 0..steps (steps + 1 samples, both ends
// included) and fractions[i] = fraction of images with NME <= thresholds[i].
struct CedCurve {
  std::vector<double> thresholds;
  std::vector<double> fractions;
};
CedCurve ced_curve(const std::vector<double>& nmes, double max_error = 0.10,
                   std::size_t steps = 1000);

// AUC@max_error: the area under the CED from 0 to max_error, divided by
// max_error (so 1 = every NME is 0, 0 = every NME >= max_error).
//
// Computed exactly rather than by integrating a sampled curve: the CED is the
// step function F(t) = (1/n) #{e_i <= t}, and each image contributes
// integral_0^max [e_i <= t] dt = max(0, max - e_i), so
//   AUC = (1/n) sum_i max(0, 1 - e_i / max_error).
// (Evaluation scripts that trapezoid-integrate a sampled CED differ from this
// by up to about max_error / steps.)
double auc(const std::vector<double>& nmes, double max_error = 0.10);

// Everything `facekeys eval` reports for one prediction set.
struct MetricSummary {
  std::size_t n = 0;       // images
  double mse = 0;          // mse_normalized
  double seed_mae = 0;     // seed_mae
  double kaggle_mae = 0;   // kaggle_mae (pixels)
  double nme = 0;          // mean of nme_per_image
  double fr_010 = 0;       // failure_rate(nmes, 0.10)
  double auc_010 = 0;      // auc(nmes, 0.10)
};

// Fills a MetricSummary. Takes the predictions twice, in normalised and in
// original-pixel coordinates, because the two live in different frames (the
// model's normalised frame may be a face crop, not the whole image) and only
// the caller knows the mapping between them; recomputing it here would
// duplicate the geometry code. All four arrays hold 2*N*K floats.
MetricSummary summarize_metrics(const std::vector<float>& pred_norm,
                                const std::vector<float>& gt_norm,
                                const std::vector<float>& pred_px,
                                const std::vector<float>& gt_px, std::size_t n_images,
                                std::size_t n_points, std::size_t left_idx,
                                std::size_t right_idx);

}  // namespace facekeys
