// Face detection with the UltraFace RFB-320 ONNX model: everything except
// running the network, so the native tool (OpenCV DNN) and the browser
// (ONNX Runtime Web) share one implementation of the pre- and post-processing.
//
// The model (Linzaer/Ultra-Light-Fast-Generic-Face-Detector-1MB,
// version-RFB-320.onnx, MIT; see assets/detectors/ultraface/PROVENANCE.md):
//   input  "input"  float [1, 3, 240, 320]: the whole image resized to 320x240
//                   (aspect not kept), RGB, value = (pixel - 127) / 128, NCHW;
//   output "scores" float [1, 4420, 2]: softmax (background, face);
//          "boxes"  float [1, 4420, 4]: (x1, y1, x2, y2) corners, normalised
//                   to 0..1 of the input (and so of the original image).
// The *_without_postprocessing variants output raw regressions instead of
// corners: decode them with ultraface_priors + decode_ultraface_regressions.
//
// Boxes follow crop.hpp: continuous pixel coordinates of the original image,
// (x, y) the top-left corner, the whole image is {-0.5, -0.5, W, H}.
// Normalised detector coordinates map onto that extent: x = u * W - 0.5.
#pragma once

#include <cstddef>
#include <vector>

#include "facekeys/crop.hpp"
#include "facekeys/image.hpp"

namespace facekeys {

struct UltraFaceConfig {
  int input_width = 320;
  int input_height = 240;
  float mean = 127.f;   // value = (pixel - mean) / scale, per R, G, B channel
  float scale = 128.f;
  // Raw-regression decoding (only for models without box decoding in the graph).
  float center_variance = 0.1f;
  float size_variance = 0.2f;
  std::vector<int> strides = {8, 16, 32, 64};
  std::vector<std::vector<float>> min_sizes = {{10.f, 16.f, 24.f}, {32.f, 48.f}, {64.f, 96.f}, {128.f, 192.f, 256.f}};
};

struct DetectOptions {
  float score_threshold = 0.7f;  // face probability a prior must exceed
  float iou_threshold = 0.3f;    // hard NMS: a box overlapping a better one by more is dropped
  int max_candidates = 1000;     // best-scoring priors considered by NMS
  int max_faces = 100;           // most faces returned
  float min_face_px = 0.f;       // drop boxes whose shorter side is below this (original pixels)
};

struct FaceDetection {
  Box box;  // original-image pixels (crop.hpp convention), clipped to the image extent
  float score = 0.f;
};

// The detector's input tensor, [3, H, W] planar float (R plane, G plane, B
// plane): the whole image resized with the core's resize() (area averaging
// when shrinking), then (pixel - mean) / scale. `image` is RGB, RGBA (alpha
// ignored) or gray (replicated to R, G, B). Throws std::invalid_argument on an
// empty image.
std::vector<float> ultraface_input(ViewU8 image, const UltraFaceConfig& config = UltraFaceConfig{});

// A prior (anchor) box, normalised to the input: centre and size, clamped to 0..1.
struct Prior {
  float cx = 0.f, cy = 0.f, w = 0.f, h = 0.f;
};
// Priors in the model's order: feature map by map (strides in order), rows,
// then columns, then the sizes of that map. Feature map side = ceil(input / stride).
// 4420 for the default 320x240 config.
std::vector<Prior> ultraface_priors(const UltraFaceConfig& config = UltraFaceConfig{});

// Raw regressions (n x 4: dx, dy, dw, dh per prior) -> normalised corners
// (n x 4: x1, y1, x2, y2): centre = prior.c + d * center_variance * prior.wh,
// size = prior.wh * exp(dwh * size_variance). Throws if sizes disagree.
std::vector<float> decode_ultraface_regressions(const std::vector<float>& raw, const std::vector<Prior>& priors,
                                                const UltraFaceConfig& config = UltraFaceConfig{});

// Intersection over union of two boxes (0 when either is empty).
float box_iou(const Box& a, const Box& b);

// Hard NMS: sorts by score (descending, stable), keeps a detection unless it
// overlaps an already kept one by IoU > iou_threshold, stops at max_faces.
std::vector<FaceDetection> non_max_suppression(std::vector<FaceDetection> detections, float iou_threshold,
                                               int max_faces);

// The whole post-processing: scores (n x 2, background/face) and normalised
// corners (n x 4) -> faces in pixels of an image_width x image_height image,
// best first. Non-finite scores or boxes are skipped; corners are ordered and
// clipped to the image. Throws std::invalid_argument on non-positive image size.
std::vector<FaceDetection> ultraface_detections(const float* scores, const float* corners, std::size_t n,
                                                int image_width, int image_height,
                                                const DetectOptions& options = DetectOptions{});

// UltraFace boxes -> the face boxes facekeys' 300-W models are trained on.
// `facekeys pack ibug` crops around the DAN boxes of 300w/boxes_lfpw.csv; an
// UltraFace box of the same face is about as wide, 1.34x as tall and centred
// 0.175 face-heights higher (it takes in the forehead). Measured on 300 LFPW
// training images (box width ratio 0.984 +- 0.08, height ratio 1.342 +- 0.11,
// centre offset x 0.006 +- 0.04, y -0.176 +- 0.05 of the DAN box size).
// Feeding a face-box model the raw UltraFace box would make its crop a third
// larger and shifted up; this puts the crop where training put it.
struct BoxCalibration {
  float scale_w = 1.f, scale_h = 1.f;  // target size = box size * scale
  float shift_x = 0.f, shift_y = 0.f;  // target centre = box centre + shift * target size
};
constexpr BoxCalibration kUltraFaceToDanBox{1.f / 0.984f, 1.f / 1.342f, -0.006f, 0.176f};
Box calibrate_box(const Box& box, const BoxCalibration& calibration);
// calibrate_box(box, kUltraFaceToDanBox).
Box ultraface_to_training_box(const Box& ultraface_box);

}  // namespace facekeys
