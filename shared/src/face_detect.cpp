#include "facekeys/face_detect.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

namespace facekeys {

std::vector<float> ultraface_input(ViewU8 image, const UltraFaceConfig& config) {
  if (image.empty()) throw std::invalid_argument("ultraface_input: empty image");
  if (!(config.scale > 0.f)) throw std::invalid_argument("ultraface_input: scale must be > 0");
  const int W = config.input_width, H = config.input_height;
  const ImageU8 small = resize(image, W, H);
  const int c = small.channels();
  std::vector<float> out(static_cast<std::size_t>(3) * W * H);
  const float inv = 1.f / config.scale;
  const std::size_t plane = static_cast<std::size_t>(W) * H;
  for (int y = 0; y < H; ++y) {
    const std::uint8_t* row = small.row(y);
    for (int x = 0; x < W; ++x) {
      const std::size_t i = static_cast<std::size_t>(y) * W + x;
      for (int ch = 0; ch < 3; ++ch) {
        const std::uint8_t v = c == 1 ? row[x] : row[x * c + ch];
        out[ch * plane + i] = (static_cast<float>(v) - config.mean) * inv;
      }
    }
  }
  return out;
}

std::vector<Prior> ultraface_priors(const UltraFaceConfig& config) {
  if (config.strides.size() != config.min_sizes.size())
    throw std::invalid_argument("ultraface_priors: strides and min_sizes differ in length");
  const float W = static_cast<float>(config.input_width), H = static_cast<float>(config.input_height);
  auto clamp01 = [](float v) { return std::min(1.f, std::max(0.f, v)); };
  std::vector<Prior> priors;
  for (std::size_t m = 0; m < config.strides.size(); ++m) {
    const int s = config.strides[m];
    if (s <= 0) throw std::invalid_argument("ultraface_priors: stride must be > 0");
    const int fw = (config.input_width + s - 1) / s, fh = (config.input_height + s - 1) / s;
    for (int row = 0; row < fh; ++row)
      for (int col = 0; col < fw; ++col)
        for (float size : config.min_sizes[m]) {
          Prior p;
          p.cx = clamp01((col + 0.5f) / static_cast<float>(fw));
          p.cy = clamp01((row + 0.5f) / static_cast<float>(fh));
          p.w = clamp01(size / W);
          p.h = clamp01(size / H);
          priors.push_back(p);
        }
  }
  return priors;
}

std::vector<float> decode_ultraface_regressions(const std::vector<float>& raw, const std::vector<Prior>& priors,
                                                const UltraFaceConfig& config) {
  if (raw.size() != priors.size() * 4)
    throw std::invalid_argument("decode_ultraface_regressions: " + std::to_string(raw.size()) + " values for " +
                                std::to_string(priors.size()) + " priors (need 4 each)");
  std::vector<float> out(raw.size());
  for (std::size_t i = 0; i < priors.size(); ++i) {
    const Prior& p = priors[i];
    const float* l = &raw[4 * i];
    const float cx = p.cx + l[0] * config.center_variance * p.w;
    const float cy = p.cy + l[1] * config.center_variance * p.h;
    const float w = p.w * std::exp(l[2] * config.size_variance);
    const float h = p.h * std::exp(l[3] * config.size_variance);
    out[4 * i + 0] = cx - 0.5f * w;
    out[4 * i + 1] = cy - 0.5f * h;
    out[4 * i + 2] = cx + 0.5f * w;
    out[4 * i + 3] = cy + 0.5f * h;
  }
  return out;
}

float box_iou(const Box& a, const Box& b) {
  if (!(a.w > 0.f && a.h > 0.f && b.w > 0.f && b.h > 0.f)) return 0.f;
  const float x1 = std::max(a.x, b.x), y1 = std::max(a.y, b.y);
  const float x2 = std::min(a.x + a.w, b.x + b.w), y2 = std::min(a.y + a.h, b.y + b.h);
  const float inter = std::max(0.f, x2 - x1) * std::max(0.f, y2 - y1);
  const float uni = a.w * a.h + b.w * b.h - inter;
  return uni > 0.f ? inter / uni : 0.f;
}

std::vector<FaceDetection> non_max_suppression(std::vector<FaceDetection> dets, float iou_threshold, int max_faces) {
  std::stable_sort(dets.begin(), dets.end(),
                   [](const FaceDetection& a, const FaceDetection& b) { return a.score > b.score; });
  std::vector<FaceDetection> kept;
  for (const FaceDetection& d : dets) {
    if (max_faces >= 0 && static_cast<int>(kept.size()) >= max_faces) break;
    bool keep = true;
    for (const FaceDetection& k : kept)
      if (box_iou(d.box, k.box) > iou_threshold) {
        keep = false;
        break;
      }
    if (keep) kept.push_back(d);
  }
  return kept;
}

std::vector<FaceDetection> ultraface_detections(const float* scores, const float* corners, std::size_t n,
                                                int image_width, int image_height, const DetectOptions& options) {
  if (image_width <= 0 || image_height <= 0)
    throw std::invalid_argument("ultraface_detections: image size must be positive, got " +
                                std::to_string(image_width) + "x" + std::to_string(image_height));
  if (n > 0 && (scores == nullptr || corners == nullptr))
    throw std::invalid_argument("ultraface_detections: null output arrays");
  const float W = static_cast<float>(image_width), H = static_cast<float>(image_height);
  std::vector<FaceDetection> cand;
  for (std::size_t i = 0; i < n; ++i) {
    const float s = scores[2 * i + 1];
    if (!std::isfinite(s) || !(s > options.score_threshold)) continue;
    const float* c = &corners[4 * i];
    if (!std::isfinite(c[0]) || !std::isfinite(c[1]) || !std::isfinite(c[2]) || !std::isfinite(c[3])) continue;
    // Normalised 0..1 spans the image extent [-0.5, W-0.5]; clip to it.
    auto px = [](float u, float size) { return std::min(size - 0.5f, std::max(-0.5f, u * size - 0.5f)); };
    const float x1 = px(std::min(c[0], c[2]), W), x2 = px(std::max(c[0], c[2]), W);
    const float y1 = px(std::min(c[1], c[3]), H), y2 = px(std::max(c[1], c[3]), H);
    const Box b{x1, y1, x2 - x1, y2 - y1};
    if (!(b.w > 0.f && b.h > 0.f) || std::min(b.w, b.h) < options.min_face_px) continue;
    cand.push_back({b, s});
  }
  std::stable_sort(cand.begin(), cand.end(),
                   [](const FaceDetection& a, const FaceDetection& b) { return a.score > b.score; });
  if (options.max_candidates >= 0 && cand.size() > static_cast<std::size_t>(options.max_candidates))
    cand.resize(static_cast<std::size_t>(options.max_candidates));
  return non_max_suppression(std::move(cand), options.iou_threshold, options.max_faces);
}

Box calibrate_box(const Box& box, const BoxCalibration& k) {
  const float w = box.w * k.scale_w, h = box.h * k.scale_h;
  const Point2f c = box.center();
  const float cx = c.x + k.shift_x * w, cy = c.y + k.shift_y * h;
  return Box{cx - 0.5f * w, cy - 0.5f * h, w, h};
}

Box ultraface_to_training_box(const Box& ultraface_box) { return calibrate_box(ultraface_box, kUltraFaceToDanBox); }

}  // namespace facekeys
