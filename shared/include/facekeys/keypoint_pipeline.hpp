// Running an exported keypoint model on a photo, minus the network itself:
// which part of the image the model sees (from the model card), the input
// tensor, and how its output maps back to original-image pixels.
//
// One implementation for every consumer: the photo job (photo_job.hpp), which
// `facekeys predict` (OpenCV DNN) and the browser module (ONNX Runtime Web)
// drive, and `facekeys eval MODEL_DIR` all call these functions, so a point
// means the same thing everywhere.
//
//   crop box   keypoint_crop_box(card, W, H, face)   "whole-image" cards: the whole
//              image {-0.5, -0.5, W, H}; "face-box" cards: crop_box_from_box(face,
//              card_crop_policy(card)) (crop.hpp), as the training packs were made
//   input      keypoint_model_input(image, card, crop) -> [1, 1, h, w] floats:
//              gray (BT.601), crop resized to the card's input size (area-shrink
//              first, like `facekeys pack`), (pixel/255 - mean) / std
//   output     keypoint_output_to_normalized(card, out, n): coords models pass
//              through; heatmap models: spatial softmax per map,
//              decode_argmax_refined, u = (x_hm + 0.5) / w_hm
//              keypoint_output_to_image(...): then crop_normalized_to_image
//   flip test  card_wants_flip_test: the mirrored crop too (mirror_model_input),
//              its output mapped back and averaged in (average_mirrored_output)
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "facekeys/crop.hpp"
#include "facekeys/geometry.hpp"
#include "facekeys/image.hpp"
#include "facekeys/model_card.hpp"

namespace facekeys {

// The card's face-box crop policy (margin, square, center_shift_y).
CropPolicy card_crop_policy(const ModelCard& card);

// True for cards whose model sees the whole image ("whole-image" crop source).
bool card_is_whole_image(const ModelCard& card);

// How many pixels a first decode of a photo must keep for face detection plus
// this model (card null: detection alone), when it may be decoded at reduced
// scale (image_header.hpp: jpeg_decode_divisor): 4x the larger of the
// detector's 320x240 input and a whole-image model's input, so their area
// resizes still average at least 2x2 photo pixels per input pixel. A face-box
// model needs what its faces' crops need, known only after detection: the
// photo job asks for a finer decode then (keypoint_crop_work_pixels,
// PhotoJob::pixels_wanted).
long long keypoint_min_work_pixels(const ModelCard* card);

// How many pixels a decode of a width x height photo must keep so that the
// face-box crop `crop` (original pixels) is sampled at one decoded pixel or
// more per model input pixel, as a full decode would give (at most
// width * height).
long long keypoint_crop_work_pixels(const ModelCard& card, const Box& crop, int width, int height);

// The crop box in original-image pixels. face_box is ignored (may be null) for
// whole-image cards and required for face-box cards. Throws
// std::invalid_argument on a non-positive image size, a missing or degenerate
// face box, or an unknown crop source.
Box keypoint_crop_box(const ModelCard& card, int image_width, int image_height, const Box* face_box);

// The gray crop at the card's input size (input.width x input.height).
// `image` is gray, RGB or RGBA (converted with to_gray). The whole-image box is
// a plain resize() (as `facekeys pack imm`); other boxes first shrink the whole
// image with resize() when the crop is larger than the input, then
// crop_image() with a zero border outside the image (as `facekeys pack ibug`).
ImageU8 keypoint_crop_pixels(ViewU8 image, const ModelCard& card, const Box& crop_box);

// The model input tensor, [1, 1, h, w] row-major: (pixel/255 - mean) / std of
// a gray crop of exactly the card's input size (throws otherwise).
std::vector<float> keypoint_input_from_crop(ViewU8 gray_crop, const ModelCard& card);

// keypoint_input_from_crop(keypoint_crop_pixels(image, card, crop_box), card).
std::vector<float> keypoint_model_input(ViewU8 image, const ModelCard& card, const Box& crop_box);

// Number of floats one image's output holds: 2K (coords) or K*h*w (heatmaps).
std::size_t keypoint_output_size(const ModelCard& card);

// One image's raw model output -> 2K interleaved normalised (u, v) of the
// model input frame. Throws std::invalid_argument when n != keypoint_output_size.
// A heatmap with no finite value decodes to NaN.
std::vector<float> keypoint_output_to_normalized(const ModelCard& card, const float* output, std::size_t n);

// ... -> K points in original-image pixels (through crop_normalized_to_image).
std::vector<Point2f> keypoint_output_to_image(const ModelCard& card, const float* output, std::size_t n,
                                              const Box& crop_box);

// ---- The flip test (test-time augmentation) ----------------------------------
// The network also runs on the mirror image of each crop, and that output,
// mapped back, is averaged in: heatmap logits mirrored along the map's width
// and relabelled by the schema's flip pairs (map j takes the mirrored run's map
// flip_permutation[j]), or normalised coordinates (1 - u, v), relabelled the
// same way. Twice the compute for a steadier, slightly more accurate result;
// what `facekeys eval --flip-test` computes on a checkpoint (flip_test_forward)
// and what `facekeys-export --flip-test-in-graph` builds into a graph.

// Whether the pipeline should run it for `card`: as `asked` says, or when unset
// as the card asks (output.flip_test); never when the graph does it already
// (onnx.flip_test).
bool card_wants_flip_test(const ModelCard& card, std::optional<bool> asked = std::nullopt);

// The input of the mirrored crop: one image's input ([1, C, h, w], as
// keypoint_model_input makes it) with every row reversed.
std::vector<float> mirror_model_input(const std::vector<float>& input, const ModelCard& card);

// Averages into `out` (one image's output, n = keypoint_output_size floats) the
// output of its mirrored input, mapped back. Throws std::invalid_argument when
// n != keypoint_output_size(card).
void average_mirrored_output(const ModelCard& card, float* out, const float* mirrored, std::size_t n);

// A batch with or without the flip test, as every runner builds and reads it:
// append_keypoint_input adds one image's input (keypoint_model_input), and with
// the flip test its mirror image after it; keypoint_batch_output gives image j's
// output within the batch's outputs (keypoint_output_size floats an input),
// with the flip test its mirror image's output averaged in first (in place).
// Throws std::invalid_argument when the outputs are too short for image j.
void append_keypoint_input(std::vector<float>& batch, const std::vector<float>& input, const ModelCard& card,
                           bool flip_test);
float* keypoint_batch_output(std::vector<float>& outputs, std::size_t j, const ModelCard& card, bool flip_test);

// One image's output decoded once, with what the photo job's other readers
// need from it: the heatmap view and the tracker's confidence.
struct KeypointDecode {
  std::vector<Point2f> points;      // original-image pixels (as keypoint_output_to_image)
  std::vector<float> probabilities; // heatmap models: the K maps' spatial softmax; empty for coords
  float confidence = 0.f;           // keypoint_confidence
};
KeypointDecode decode_keypoint_output(const ModelCard& card, const float* output, std::size_t n, const Box& crop_box);

// How sure the model is that its crop holds a face of its schema, 0..1 (the
// tracker ends a track below its min_confidence, face_tracker.hpp):
//   heatmap models  the mean over the K maps of each map's peak probability
//                   (spatial softmax), relative to the peak of the training
//                   target, a Gaussian of the card's sigma: 1 / (2 pi sigma^2)
//                   (sigma 0: 2 cells). A map as sharp as the target gives 1;
//                   a flat one (h*w cells) 2 pi sigma^2 / (h w).
//   coords models   shape plausibility, for 68-point schemas: how well the
//                   generic 3D face (head_pose.hpp) explains the points under
//                   some pose, 1 - rms reprojection error / (0.1 x the outer
//                   eye corners' distance), clamped; other schemas 1 (no
//                   reference shape in the core).
// `probabilities` (heatmaps) or `points_uv` (coords, 2K normalised) as decoded.
float keypoint_confidence(const ModelCard& card, const std::vector<float>& probabilities,
                          const std::vector<float>& points_uv);

}  // namespace facekeys
