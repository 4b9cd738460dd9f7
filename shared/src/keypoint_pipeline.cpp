#include "facekeys/keypoint_pipeline.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "facekeys/face_detect.hpp"
#include "facekeys/head_pose.hpp"
#include "facekeys/heatmap.hpp"
#include "facekeys/schema.hpp"

namespace facekeys {

CropPolicy card_crop_policy(const ModelCard& card) {
  CropPolicy p;
  p.margin = static_cast<float>(card.crop.margin);
  p.square = card.crop.square;
  p.center_shift_y = static_cast<float>(card.crop.center_shift_y);
  return p;
}

bool card_is_whole_image(const ModelCard& card) { return card.crop.source == "whole-image"; }

long long keypoint_min_work_pixels(const ModelCard* card) {
  const UltraFaceConfig detector;
  long long need = static_cast<long long>(detector.input_width) * detector.input_height;
  if (card && card_is_whole_image(*card))
    need = std::max(need, static_cast<long long>(card->input.width) * card->input.height);
  return 4 * need;
}

long long keypoint_crop_work_pixels(const ModelCard& card, const Box& crop, int width, int height) {
  const double all = static_cast<double>(width) * height;
  if (!(crop.w > 0.f && crop.h > 0.f)) return static_cast<long long>(all);
  // Decoded pixels per original pixel the crop needs, in each direction.
  const double s = std::max(card.input.width / static_cast<double>(crop.w), card.input.height / static_cast<double>(crop.h));
  return static_cast<long long>(std::ceil(std::min(all, all * s * s)));
}

Box keypoint_crop_box(const ModelCard& card, int image_width, int image_height, const Box* face_box) {
  if (image_width <= 0 || image_height <= 0)
    throw std::invalid_argument("keypoint_crop_box: image size must be positive, got " + std::to_string(image_width) +
                                "x" + std::to_string(image_height));
  if (card_is_whole_image(card))
    return Box{-0.5f, -0.5f, static_cast<float>(image_width), static_cast<float>(image_height)};
  if (card.crop.source != "face-box")
    throw std::invalid_argument("keypoint_crop_box: unknown crop source '" + card.crop.source + "'");
  if (face_box == nullptr) throw std::invalid_argument("keypoint_crop_box: a face-box model needs a face box");
  return crop_box_from_box(*face_box, card_crop_policy(card));
}

namespace {

// Gray view of `image` without a copy when it is gray already.
struct GrayRef {
  ImageU8 owned;
  ViewU8 view;
};
GrayRef gray_of(ViewU8 image) {
  GrayRef g;
  if (image.channels() == 1) {
    g.view = image;
  } else {
    g.owned = to_gray(image);
    g.view = g.owned.view();
  }
  return g;
}

}  // namespace

ImageU8 keypoint_crop_pixels(ViewU8 image, const ModelCard& card, const Box& crop_box) {
  if (image.empty()) throw std::invalid_argument("keypoint_crop_pixels: empty image");
  const int W = image.width(), H = image.height();
  const int S_w = card.input.width, S_h = card.input.height;
  if (S_w <= 0 || S_h <= 0) throw std::invalid_argument("keypoint_crop_pixels: card input size must be positive");
  const GrayRef g = gray_of(image);
  const Box whole{-0.5f, -0.5f, static_cast<float>(W), static_cast<float>(H)};
  if (crop_box.x == whole.x && crop_box.y == whole.y && crop_box.w == whole.w && crop_box.h == whole.h)
    return resize(g.view, S_w, S_h);
  if (!(crop_box.w > 0.f && crop_box.h > 0.f) || !std::isfinite(crop_box.x) || !std::isfinite(crop_box.y))
    throw std::invalid_argument("keypoint_crop_pixels: degenerate crop box");
  return crop_image_prefiltered(g.view, crop_box, S_w, S_h);  // as `facekeys pack ibug`
}

std::vector<float> keypoint_input_from_crop(ViewU8 gray_crop, const ModelCard& card) {
  if (gray_crop.empty() || gray_crop.channels() != 1 || gray_crop.width() != card.input.width ||
      gray_crop.height() != card.input.height)
    throw std::invalid_argument("keypoint_input_from_crop: need a 1-channel " + std::to_string(card.input.width) + "x" +
                                std::to_string(card.input.height) + " crop");
  ImageF32 in = to_model_input(gray_crop, static_cast<float>(card.input.mean), static_cast<float>(card.input.std));
  return in.release();
}

std::vector<float> keypoint_model_input(ViewU8 image, const ModelCard& card, const Box& crop_box) {
  const ImageU8 crop = keypoint_crop_pixels(image, card, crop_box);
  return keypoint_input_from_crop(crop.view(), card);
}

std::size_t keypoint_output_size(const ModelCard& card) {
  const std::size_t K = static_cast<std::size_t>(card.num_points);
  if (card.output.kind == "heatmaps")
    return K * static_cast<std::size_t>(card.output.width) * static_cast<std::size_t>(card.output.height);
  return 2 * K;
}

namespace {
// One image's output must hold what the card promises.
void check_output_size(const ModelCard& card, const float* output, std::size_t n, const char* who) {
  const std::size_t want = keypoint_output_size(card);
  if (n != want || output == nullptr)
    throw std::invalid_argument(std::string(who) + ": model output has " + std::to_string(n) +
                                " values, the card (" + card.name + ") promises " + std::to_string(want));
}
}  // namespace

std::vector<float> keypoint_output_to_normalized(const ModelCard& card, const float* output, std::size_t n) {
  check_output_size(card, output, n, "keypoint_output_to_normalized");
  const std::size_t K = static_cast<std::size_t>(card.num_points);
  if (card.output.kind != "heatmaps") return std::vector<float>(output, output + n);
  return decode_heatmap_logits_normalized(output, K, card.output.height, card.output.width);
}

bool card_wants_flip_test(const ModelCard& card, std::optional<bool> asked) {
  return !card.onnx.flip_test && asked.value_or(card.output.flip_test);
}

std::vector<float> mirror_model_input(const std::vector<float>& input, const ModelCard& card) {
  const std::size_t w = static_cast<std::size_t>(card.input.width);
  const std::size_t rows = static_cast<std::size_t>(card.input.channels) * static_cast<std::size_t>(card.input.height);
  if (input.size() != rows * w)
    throw std::invalid_argument("mirror_model_input: " + std::to_string(input.size()) + " values, the card (" +
                                card.name + ") takes " + std::to_string(rows * w));
  std::vector<float> out(input.size());
  for (std::size_t r = 0; r < rows; ++r)
    std::reverse_copy(input.begin() + static_cast<std::ptrdiff_t>(r * w),
                      input.begin() + static_cast<std::ptrdiff_t>((r + 1) * w),
                      out.begin() + static_cast<std::ptrdiff_t>(r * w));
  return out;
}

void average_mirrored_output(const ModelCard& card, float* out, const float* mirrored, std::size_t n) {
  check_output_size(card, out, n, "average_mirrored_output");
  const std::vector<int>& flip = schema_by_name(card.schema).flip_permutation;
  const std::size_t K = static_cast<std::size_t>(card.num_points);
  if (card.output.kind != "heatmaps") {
    for (std::size_t j = 0; j < K; ++j) {
      const std::size_t i = static_cast<std::size_t>(flip[j]);
      out[2 * j] = 0.5f * (out[2 * j] + (1.f - mirrored[2 * i]));  // u -> 1 - u (CONVENTIONS.md)
      out[2 * j + 1] = 0.5f * (out[2 * j + 1] + mirrored[2 * i + 1]);
    }
    return;
  }
  // Cell (x, y) of the mirrored run is cell (w - 1 - x, y) of the crop.
  const std::size_t w = static_cast<std::size_t>(card.output.width);
  const std::size_t hw = w * static_cast<std::size_t>(card.output.height);
  for (std::size_t j = 0; j < K; ++j) {
    float* map = out + j * hw;
    const float* from = mirrored + static_cast<std::size_t>(flip[j]) * hw;
    for (std::size_t row = 0; row < hw; row += w)
      for (std::size_t x = 0; x < w; ++x) map[row + x] = 0.5f * (map[row + x] + from[row + w - 1 - x]);
  }
}

void append_keypoint_input(std::vector<float>& batch, const std::vector<float>& input, const ModelCard& card,
                           bool flip_test) {
  batch.insert(batch.end(), input.begin(), input.end());
  if (!flip_test) return;
  const std::vector<float> mirrored = mirror_model_input(input, card);
  batch.insert(batch.end(), mirrored.begin(), mirrored.end());
}

float* keypoint_batch_output(std::vector<float>& outputs, std::size_t j, const ModelCard& card, bool flip_test) {
  const std::size_t per = keypoint_output_size(card), inputs = flip_test ? 2 : 1;
  if (outputs.size() < (j + 1) * inputs * per)
    throw std::invalid_argument("keypoint_batch_output: " + std::to_string(outputs.size()) +
                                " values hold no output for image " + std::to_string(j) + " of the card (" +
                                card.name + ")");
  float* out = outputs.data() + j * inputs * per;
  if (flip_test) average_mirrored_output(card, out, out + per, per);
  return out;
}

namespace {
std::vector<Point2f> uv_to_image(const std::vector<float>& uv, const Box& crop_box) {
  std::vector<Point2f> pts(uv.size() / 2);
  for (std::size_t k = 0; k < pts.size(); ++k) pts[k] = Point2f{uv[2 * k], uv[2 * k + 1]};
  return crop_normalized_to_image(pts, crop_box);
}
}  // namespace

std::vector<Point2f> keypoint_output_to_image(const ModelCard& card, const float* output, std::size_t n,
                                              const Box& crop_box) {
  return uv_to_image(keypoint_output_to_normalized(card, output, n), crop_box);
}

KeypointDecode decode_keypoint_output(const ModelCard& card, const float* output, std::size_t n, const Box& crop_box) {
  KeypointDecode d;
  std::vector<float> uv;
  if (card.output.kind == "heatmaps") {
    check_output_size(card, output, n, "keypoint_output_to_normalized");
    d.probabilities = spatial_softmax(output, static_cast<std::size_t>(card.num_points), card.output.height,
                                      card.output.width);
    uv = decode_probabilities_normalized(d.probabilities.data(), static_cast<std::size_t>(card.num_points),
                                         card.output.height, card.output.width);
  } else {
    uv = keypoint_output_to_normalized(card, output, n);
  }
  d.confidence = keypoint_confidence(card, d.probabilities, uv);
  d.points = uv_to_image(uv, crop_box);
  return d;
}

float keypoint_confidence(const ModelCard& card, const std::vector<float>& probabilities,
                          const std::vector<float>& points_uv) {
  const std::size_t K = static_cast<std::size_t>(card.num_points);
  if (card.output.kind == "heatmaps") {
    const std::size_t cells = static_cast<std::size_t>(card.output.width) * static_cast<std::size_t>(card.output.height);
    if (K == 0 || cells == 0 || probabilities.size() != K * cells) return 0.f;
    const double sigma = card.output.sigma > 0 ? card.output.sigma : 2.0;
    const double target_peak = 1.0 / (2.0 * 3.14159265358979323846 * sigma * sigma);
    double sum = 0;
    for (std::size_t k = 0; k < K; ++k) {
      const float* p = probabilities.data() + k * cells;
      float peak = 0.f;
      for (std::size_t i = 0; i < cells; ++i)
        if (p[i] > peak) peak = p[i];  // NaN maps add 0
      sum += peak;
    }
    return static_cast<float>(std::clamp(sum / K / target_peak, 0.0, 1.0));
  }
  if (card.schema != "ibug68" || points_uv.size() != 2 * K) return 1.f;
  // The crop as a camera image of the model's input size.
  std::vector<Point2f> pts(K);
  for (std::size_t k = 0; k < K; ++k)
    pts[k] = Point2f{points_uv[2 * k] * card.input.width - 0.5f, points_uv[2 * k + 1] * card.input.height - 0.5f};
  HeadPose pose;
  if (!head_pose(pts, default_camera(card.input.width, card.input.height), pose)) return 0.f;
  const double eyes = std::hypot(pts[45].x - pts[36].x, pts[45].y - pts[36].y);
  if (!(eyes > 0)) return 0.f;
  return static_cast<float>(std::clamp(1.0 - pose.rms_px / (0.1 * eyes), 0.0, 1.0));
}

}  // namespace facekeys
