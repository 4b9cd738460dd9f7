// One photo's keypoint result as JSON: the one format `facekeys predict`
// prints and the browser's window.facekeys.predict() returns, and the rule for
// which faces a model runs on. Each front end adds its own extras (timing_ms,
// overlay) to the object.
//
//   {"image": name, "width": W, "height": H,
//    "faces": [{"box": [x, y, w, h], "score": s, ("manual": true,)
//               "points": [[x, y], ...], ("confidence": c,)
//               ("pose": {"yaw", "pitch", "roll"}, "eyes": {"left", "right"}, "mouth")}, ...],
//    "model": card name | null, ("schema": ..., "note": ...)}
//
// Boxes and points are in original-image pixels (crop.hpp's Box convention:
// (x, y) is the top-left corner), rounded to 0.01 px; scores to 0.0001. A
// coordinate a heatmap model could not decode is null; a face the model did
// not run on has "points": [] and no "confidence" (keypoint_pipeline.hpp's
// keypoint_confidence, 0..1, rounded to 0.001). 68-point (ibug68) faces also carry their head
// pose in degrees (head_pose.hpp; 0.1 deg) and the openness of the eyes and
// the mouth (face_openness.hpp; 0.001), each left out when its points are not
// all decoded.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "facekeys/crop.hpp"
#include "facekeys/json.hpp"
#include "facekeys/model_card.hpp"

namespace facekeys {

struct PredictedFace {
  Box box;                      // the face box, original-image pixels
  float score = 0.f;            // face probability (1 for a box drawn by hand)
  bool manual = false;          // drawn by hand (the browser), not detected
  std::vector<Point2f> points;  // original-image pixels; empty: no keypoints for this face
  float confidence = 0.f;       // the model's confidence in its crop (keypoint_confidence), with points
};

// How many faces, best-scoring first, a model runs on: whole-image models
// predict one face from the whole frame (given to the best-scoring face),
// face-box models run once per face.
std::size_t keypoint_runs(const ModelCard& card, std::size_t n_faces);

// One face of it.
Json predicted_face_json(const PredictedFace& face, const ModelCard* card, int width, int height);

// The result object; `card` is null when no keypoint model ran.
Json predict_result_json(const std::string& image, int width, int height, const std::vector<PredictedFace>& faces,
                         const ModelCard* card);

}  // namespace facekeys
