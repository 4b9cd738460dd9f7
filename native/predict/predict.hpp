// `facekeys predict` and `facekeys eval MODEL_DIR`: exported models (model.onnx
// + model.json) run through OpenCV DNN. Everything that is not "run the
// network" -- the detector's input and post-processing, crops, input tensors,
// mapping points back -- is the shared core (facekeys/face_detect.hpp,
// facekeys/keypoint_pipeline.hpp), the same code the browser runs.
// No LibTorch here (docs/PREDICT.md).
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "facekeys/face_detect.hpp"
#include "facekeys/face_tracker.hpp"
#include "facekeys/image.hpp"
#include "facekeys/image_header.hpp"
#include "facekeys/json.hpp"
#include "facekeys/model_card.hpp"
#include "facekeys/pack.hpp"
#include "facekeys/photo_job.hpp"

namespace facekeys {

// The UltraFace RFB-320 detector through OpenCV DNN.
class FaceDetector {
 public:
  // Throws std::runtime_error naming the file when it is missing or not an
  // ONNX graph OpenCV can run, or when its outputs are not scores/boxes.
  explicit FaceDetector(const std::string& onnx_path);
  ~FaceDetector();
  FaceDetector(const FaceDetector&) = delete;
  FaceDetector& operator=(const FaceDetector&) = delete;

  // A photo job's detector run (photo_job.hpp): its outputs scores, boxes.
  std::vector<std::vector<float>> run(const TensorRun& run) const;
  // The faces in one image (a photo job without a keypoint model).
  std::vector<FaceDetection> detect(ViewU8 rgb, const DetectOptions& options) const;
  const std::string& path() const { return path_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string path_;
  UltraFaceConfig config_;
};

// An exported keypoint model: the card, and the ONNX graph checked against it
// (SHA-256 when recorded, then a forward pass of the card's input shape must
// give the card's output shape).
class KeypointModel {
 public:
  // dir holds model.json and the ONNX file it names. Throws
  // std::runtime_error naming the file at fault.
  explicit KeypointModel(const std::string& dir);
  ~KeypointModel();
  KeypointModel(const KeypointModel&) = delete;
  KeypointModel& operator=(const KeypointModel&) = delete;

  const ModelCard& card() const { return card_; }
  const std::string& dir() const { return dir_; }
  // n inputs of the card's shape (n * 1 * h * w floats) -> n outputs
  // (n * keypoint_output_size(card) floats).
  std::vector<float> run(const std::vector<float>& input, int n) const;
  // A photo job's keypoint run: its output (the card's output_name).
  std::vector<std::vector<float>> run(const TensorRun& run) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  ModelCard card_;
  std::string dir_;
};

// Milliseconds a photo spent in each step.
struct JobTimes {
  double decode = 0, detect = 0, preprocess = 0, infer = 0;
};

// The clock of those timings (predict and track): milliseconds since t0, and a
// figure rounded to `step` for the JSON they print.
using Clock = std::chrono::steady_clock;
inline double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}
inline double round_to(double v, double step) { return std::round(v / step) * step; }

// Runs a started photo job to its end: its detector runs on `detector`, its
// keypoint runs on `model` (may be null for a job without a card). Adds the
// time spent to `times` when given: the networks as detect and infer, the
// job's own steps (inputs, decoding) as preprocess.
void drive_photo_job(PhotoJob& job, const FaceDetector& detector, const KeypointModel* model,
                     JobTimes* times = nullptr);
// The same loop for a tracker's frame (face_tracker.hpp): call after
// begin_frame; returns when the frame is done.
void drive_tracker_frame(FaceTracker& tracker, const FaceDetector& detector, const KeypointModel* model,
                         JobTimes* times = nullptr);

// Defaults: $FACEKEYS_DETECTOR, else assets/detectors/ultraface/version-RFB-320.onnx
// (source tree), else FACEKEYS_DATA_DIR/models/ultraface/version-RFB-320.onnx.
std::string default_detector_path();
// $FACEKEYS_MODEL, else the folder assets/models/DEFAULT names, else (no file, or
// it names a folder that is not there) the first assets/models/*/model.json in
// name order: the core's default_model_name, the browser's rule too. Empty when
// there is none.
std::string default_model_dir();

// The keypoint model of --model DIR, or the default (default_model_dir) when
// model_dir is empty. Throws std::runtime_error naming the file at fault, or
// saying that there is none, prefixed by `command` ("predict: ...").
std::unique_ptr<KeypointModel> load_keypoint_model(const std::string& model_dir, const std::string& command);

struct PredictConfig {
  std::vector<std::string> images;
  std::string model_dir;       // empty: default_model_dir()
  std::string detector_path;   // empty: default_detector_path()
  std::string overlay;         // one image only: draw to this file
  std::string overlay_dir;     // draw every image to DIR/<stem>.png
  DetectOptions detect;
  bool detect_only = false;    // faces without keypoints (no keypoint model needed)
};

// Prints one JSON object per image on stdout (one line each), and one
// {"image": ..., "error": ...} line per failed image on stderr; carries on
// after failures. Returns the number of images that failed.
// Throws only for problems that concern every image (model, detector, options).
int run_predict(const PredictConfig& config);

// What a photo file's first and last bytes say, without decoding it
// (read_image_header in facekeys/image_header.hpp). A file that cannot be
// opened or is empty reads as an unknown format.
ImageHeader sniff_image(const std::string& path);

// `facekeys eval MODEL_DIR`: runs the exported model on a pack split. Pack
// images are the model's framing already (IMM: whole frames; 300-W: the face
// crops), resized to the card's input when their size differs. pred_norm and
// gt_norm are N*K*2 normalised pack-image coordinates (for a nose_tip card on
// an imm58 pack, gt is the nose tip).
struct OnnxSplitPredictions {
  ModelCard card;
  std::vector<std::int64_t> pack_index;
  std::vector<float> pred_norm, gt_norm;
};
OnnxSplitPredictions predict_pack_split_onnx(const std::string& model_dir, const Pack& pack, Split split,
                                             int batch = 16);

}  // namespace facekeys
