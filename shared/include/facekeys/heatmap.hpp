// Heatmap targets and decoders for heatmap-regression models.
//
// Coordinates: heatmap pixel coordinates follow the core's pixel convention
// (docs/CONVENTIONS.md): heatmap cell (col=j, row=i) has its centre at (x=j, y=i)
// and the map spans [-0.5, W-0.5] x [-0.5, H-0.5]. A point exactly on a cell
// centre gives a Gaussian peaked on that cell.
//
// Layout: K maps of H rows of W columns, row-major, map after map: the value
// of map k at (x=j, y=i) is maps[(k*H + i)*W + j] (an NCHW tensor's C x H x W
// slab for one image). Points are flat arrays of interleaved x,y (2*K floats),
// the layout models output, so this header needs no point type.
//
// Checks throw std::invalid_argument: K == 0, non-positive H or W or sigma,
// and (in the std::vector overloads) array sizes that do not match K, H, W.
// The raw-pointer overloads, for filling or reading tensor storage in place,
// trust the caller for the array sizes.
#pragma once

#include <cstddef>
#include <vector>

namespace facekeys {

// ---- Heatmap <-> input-image coordinates ---------------------------------
//
// A model that maps an input of extent `in` pixels to a heatmap of extent `hm`
// cells covers the same physical span [-0.5, in-0.5] with both, so edges (not
// pixel centres) line up:
//   x_in = (x_hm + 0.5) * in / hm - 0.5        x_hm = (x_in + 0.5) * hm / in - 0.5
// (the same rule as normalised coordinates: (x_in + 0.5)/in == (x_hm + 0.5)/hm).
// Plain scaling x_in = x_hm * in/hm would be off by (in/hm - 1)/2 input pixels:
// 1.5 px for a stride-4 model, a bias as large as a good model's error.
// Apply it per axis: x with widths, y with heights.
float heatmap_to_input(float v_hm, int hm_extent, int in_extent);
float input_to_heatmap(float v_in, int in_extent, int hm_extent);

// The same for flat interleaved point arrays (2*K floats); returns a new array.
std::vector<float> heatmap_points_to_input(const std::vector<float>& points_hm, int hm_width,
                                           int hm_height, int in_width, int in_height);
std::vector<float> input_points_to_heatmap(const std::vector<float>& points_in, int in_width,
                                           int in_height, int hm_width, int hm_height);

// ---- Targets ---------------------------------------------------------------

enum class HeatmapNorm {
  Peak,  // exp(-d^2 / (2 sigma^2)): 1 at the point itself (MSE-style targets)
  Sum,   // the same map divided by its sum, so it is a distribution (KL loss)
};

// Below this fraction of a full Gaussian's mass (2 pi sigma^2) inside the map,
// a HeatmapNorm::Sum target is all zeros (see gaussian_heatmaps).
constexpr float kHeatmapMinVisibleMass = 1e-3f;

// Gaussian targets for K points given in heatmap pixel coordinates
// (points_hm: 2*K floats). Returns K*H*W floats (layout above). sigma is in
// heatmap pixels.
//
// The Gaussian is evaluated exactly at every cell centre (no radius cut-off,
// computed separably as exp(-dx^2/2s^2) * exp(-dy^2/2s^2) so it costs H+W
// exponentials per point, not H*W), which is what lets decode_argmax_refined
// recover the point almost exactly.
//
// Points outside the map: the map holds the part of the Gaussian that falls on
// it, i.e. a truncated tail with its maximum on the border (Peak: below 1); far
// outside, every value underflows to 0. A non-finite point (NaN marks a missing
// landmark) gives an all-zero map.
// HeatmapNorm::Sum rescales what is visible to sum to 1, except when the
// visible mass is below kHeatmapMinVisibleMass of a full Gaussian: then the
// map is left all zeros, because rescaling a vanishing tail would invent a
// sharp, full-weight target on the border (and divide by denormals). So a Sum
// map sums to either 1 or 0; a zero map means "no target for this point" and
// the loss should mask it (a KL term with an all-zero target is 0 anyway).
std::vector<float> gaussian_heatmaps(const std::vector<float>& points_hm, std::size_t n_points,
                                     int height, int width, float sigma,
                                     HeatmapNorm norm = HeatmapNorm::Peak);

// The same, writing into caller-owned storage of K*H*W floats (training loops
// fill a batch tensor in place without allocating per sample).
void gaussian_heatmaps_into(const float* points_hm, std::size_t n_points, int height, int width,
                            float sigma, HeatmapNorm norm, float* out);

// Spatial softmax of each of K maps of h x w logits (K*h*w floats, map after
// map), in double-precision sums: the probabilities a heatmap model's output
// stands for (its training loss is the KL divergence to them). Non-finite
// cells get probability 0; a map with no finite cell comes out all NaN, which
// the decoders below turn into a NaN point.
std::vector<float> spatial_softmax(const float* logits, std::size_t n_points, int height, int width);

// ---- Decoders --------------------------------------------------------------

// Decoded points in heatmap pixel coordinates (2*K floats, interleaved) and one
// confidence per point: the map's maximum value (raw, in the model's output
// units; meaningful for ranking or thresholding within one model).
// A map with no finite value decodes to (NaN, NaN) with confidence NaN.
struct DecodedPoints {
  std::vector<float> points;
  std::vector<float> confidence;
};

// Argmax, then sub-pixel refinement by one Newton step on the log of the map
// (a second-order Taylor expansion around the peak, as in DARK, Zhang et al.
// 2020): offset = -Hess^-1 * grad of log(map), with the derivatives taken by
// central differences. The log of a Gaussian is an exact quadratic and the
// differences are exact on quadratics, so a Gaussian target decodes to its
// point up to float rounding (~1e-4 px), far better than the classic
// quarter-pixel shift toward the higher neighbour (errors up to ~0.25 px).
// - At the map border the 3-cell stencil is shifted inward, which is still
//   exact for a Gaussian (so points just outside the map decode correctly).
// - Values are floored at peak * 1e-10 before the log (network outputs can be
//   0 or negative around the peak). A peak <= 0 gets no refinement.
// - If the 2-D step is unusable (log-map not concave there, e.g. two nearby
//   blobs, or a plateau), each axis falls back to its own 1-D parabola, and an
//   axis without curvature keeps the argmax cell.
// - The refinement is clamped to +-1 cell per axis around the argmax: a true
//   Gaussian peak lies within 0.5 of its argmax cell, so a larger step is
//   noise in the map, not information.
// Ties in the argmax go to the first cell in memory order.
DecodedPoints decode_argmax_refined(const float* maps, std::size_t n_points, int height, int width);
DecodedPoints decode_argmax_refined(const std::vector<float>& maps, std::size_t n_points,
                                    int height, int width);

// A heatmap model's raw output (K maps of h x w logits) -> its points,
// normalised to the model input (u = (x + 0.5) / w, 2*K floats interleaved):
// spatial_softmax, then decode_argmax_refined. The one decoding of heatmap
// models: the trainer's evaluation, `facekeys predict` and the browser call it.
std::vector<float> decode_heatmap_logits_normalized(const float* logits, std::size_t n_points, int height,
                                                    int width);
// Its second half, for maps that are spatial_softmax's output already (the
// photo job keeps them for the heatmap view and the confidence).
std::vector<float> decode_probabilities_normalized(const float* prob, std::size_t n_points, int height, int width);

// Soft-argmax (integral regression): p = softmax(beta * map) over the H*W cells,
// point = sum p * (j, i), the expected cell centre. Differentiable and not
// quantised, but biased toward the map centre by whatever mass lies away from
// the peak (background cells all carry weight exp(beta * background)), and
// pulled inward near the borders because the map cannot hold the part of the
// blob beyond them. beta trades the two: too small and the flat background
// dominates, too large and the distribution collapses onto the argmax cell.
// Measured on Peak Gaussian maps (values in [0, 1]) of 64x64 cells, points at
// least 12 cells from the border: beta = 20 gives worst errors of 0.2 px at
// sigma 1.5, 0.06 px at sigma 2 and 0.01 px at sigma >= 2.5; beta = 10 is
// already dominated by the background (errors of pixels). On log-domain maps
// (logits, as in integral regression, beta = 1) it is unbiased for interior
// points. Use decode_argmax_refined for Gaussian targets where accuracy matters.
// A NaN or inf cell makes that point NaN. Confidence: the raw map maximum.
DecodedPoints decode_soft_argmax(const float* maps, std::size_t n_points, int height, int width,
                                 float beta);
DecodedPoints decode_soft_argmax(const std::vector<float>& maps, std::size_t n_points, int height,
                                 int width, float beta);

}  // namespace facekeys
