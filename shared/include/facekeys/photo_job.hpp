// One photo through the whole keypoint pipeline, except running the networks:
// the one implementation that `facekeys predict` (OpenCV DNN) and the page
// (ONNX Runtime Web) drive. A host decodes the photo, then asks the job which
// tensor to run next, runs it on the named network and hands the outputs back,
// until the job is done; then it reads the result (the JSON of `facekeys
// predict`) and the overlay (drawing primitives, overlay.hpp):
//
//   PhotoJob job(Photo{pixels, stored_w, stored_h, turns, mirror, name});
//   job.start(&card, options);
//   for (;;) {
//     if (const TensorRun* run = job.next()) {
//       for (k ...) job.output(k) = <run->network's output run->output_names[k] on run->input>;
//       job.give();
//     } else if (long long n = job.pixels_wanted()) {
//       job.replace_pixels(<the photo decoded again, keeping at least n pixels>);
//     } else break;
//   }
//   job.result_json();  job.overlay(style);
//
// The steps, each from the shared core:
//   1. orientation   the pixels turned and mirrored as the file says (rotate_and_mirror)
//   2. detection     UltraFace on the whole photo (face_detect.hpp), unless a face
//                    box was drawn by hand, the host gives the faces (a tracker),
//                    or the faces of the last run are kept
//   3. keypoints     per face the model's crop (keypoint_pipeline.hpp; detected boxes
//                    calibrated to the boxes the model was trained on), batched by
//                    options.max_batch; whole-image models run once, for the best face;
//                    with the flip test each crop and its mirror image, averaged
//   4. result        points in original-image pixels (predict_result.hpp)
// The pixels may be a reduced-scale decode of the photo (the page decodes large
// JPEGs at 1/2 .. 1/8 scale: keypoint_min_work_pixels says how far it may go
// for detection). When a face-box model's crops need more pixels than that
// (small faces in a large photo), the job stops after detection and asks for a
// finer decode (pixels_wanted), once. Everything reported is in the photo's
// own pixels.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "facekeys/crop.hpp"
#include "facekeys/face_detect.hpp"
#include "facekeys/image.hpp"
#include "facekeys/json.hpp"
#include "facekeys/model_card.hpp"
#include "facekeys/overlay.hpp"
#include "facekeys/predict_result.hpp"

namespace facekeys {

// A decoded photo, as the host's decoder gave it.
struct Photo {
  ImageU8 pixels;               // RGB, RGBA (alpha ignored) or gray; all of the photo, maybe at reduced scale
  int stored_width = 0;         // the photo's size as stored, before orientation
  int stored_height = 0;        //   (0: the pixels' own size, turned back)
  int quarter_turns_cw = 0;     // orientation still to apply to the pixels (EXIF, where the
  bool mirror = false;          //   decoder did not): rotate_and_mirror's arguments
  std::string name;             // reported as "image"
};

struct PhotoOptions {
  DetectOptions detect;
  std::optional<Box> manual_face;  // a face box drawn by hand (original pixels): replaces detection
  std::vector<Box> face_boxes;     // faces given by the host in the boxes' convention the model was trained
                                   //   on (a tracker's, face_tracker.hpp): replace detection
  bool redetect = true;            // false: keep the faces found by the last start() on this photo
  int max_batch = 16;              // network inputs per keypoint run (a face takes two with the flip test)
  bool heatmap_views = false;      // keep each face's heatmap_view (heatmap models; overlay's heatmaps)
  // The flip test (keypoint_pipeline.hpp): unset, as the card asks (card_wants_flip_test);
  // false, never; true, also for a card that does not ask (not when its graph does it).
  std::optional<bool> flip_test;
};

// One network call for the host to make.
struct TensorRun {
  enum class Network { Detector, Keypoints };
  Network network = Network::Detector;
  std::string input_name;                  // the graph's input
  std::vector<std::int64_t> input_shape;   // NCHW
  std::vector<float> input;                // row-major, the product of input_shape floats
  std::vector<std::string> output_names;   // what to hand back, in this order (job.output(k))
  std::vector<std::size_t> output_sizes;   // floats expected per output; 0: decided by the graph
  std::vector<Box> crops;                  // Keypoints: the part of the photo each face's input shows (original
                                           //   pixels; with the flip test a face's two inputs show the same)
};

class PhotoJob {
 public:
  // Throws std::invalid_argument on empty pixels, a stored size that the
  // pixels' aspect ratio contradicts, or a bad orientation.
  explicit PhotoJob(Photo photo);

  // Begins a run with `card` (null: detection only). May be called again on
  // the same photo, e.g. with another model (options.redetect = false keeps
  // the faces). The card must outlive the run.
  void start(const ModelCard* card, const PhotoOptions& options = PhotoOptions{});

  // The next network call, or null when the run is done. The pointer is valid
  // until give() or start().
  const TensorRun* next();
  // Where the host puts output k of the current run (resized by the host).
  std::vector<float>& output(std::size_t k);
  // Takes the outputs of the current run. Throws std::runtime_error when they
  // have the wrong number of values (naming the network and the output).
  void give();
  bool done() const { return stage_ == Stage::Done; }

  // When next() returns null before the job is done: how many pixels a decode
  // of the photo must keep for the faces' crops (keypoint_crop_work_pixels);
  // 0 otherwise. Asked at most once a run.
  long long pixels_wanted() const { return stage_ == Stage::NeedPixels ? pixels_wanted_ : 0; }
  // The photo decoded again (the same photo and orientation, more pixels): the
  // run goes on with the faces found. Throws std::invalid_argument when its
  // size after orientation is not the photo's.
  void replace_pixels(Photo photo);

  // The photo after orientation: its size in original pixels, and the pixels
  // held (maybe fewer).
  int width() const { return width_; }
  int height() const { return height_; }
  ViewU8 pixels() const { return work_.view(); }
  const std::string& name() const { return name_; }

  // Faces, best first, in original pixels; points empty until the model ran.
  const std::vector<PredictedFace>& faces() const { return faces_; }
  const ModelCard* card() const { return card_; }
  // The crop each face's keypoints came from (original pixels; empty box: none).
  const std::vector<Box>& crops() const { return crops_; }

  // The result object of `facekeys predict` (predict_result.hpp).
  Json result_json() const;
  // The overlay of the result (overlay.hpp), at the photo's size.
  Overlay overlay(const OverlayStyle& style) const;

 private:
  enum class Stage { Detect, NeedPixels, Keypoints, Done };
  void set_pixels(Photo photo);
  void prepare_keypoints();
  Box to_work(const Box& b) const;
  Point2f to_original(Point2f p) const;
  Box to_original(const Box& b) const;

  ImageU8 work_, gray_;
  int width_ = 0, height_ = 0;
  float sx_ = 1.f, sy_ = 1.f;  // original pixels per work pixel
  std::string name_;

  const ModelCard* card_ = nullptr;
  PhotoOptions options_;
  Stage stage_ = Stage::Done;
  bool detected_ = false;  // faces_ hold a detection of this photo
  std::vector<PredictedFace> faces_;
  std::vector<Box> sources_;           // per face, the face box its crop comes from (training convention)
  std::vector<Box> crops_;             // per face, original pixels
  std::vector<ImageU8> heatmaps_;      // per face, heatmap_view (options.heatmap_views)
  std::size_t runs_ = 0, next_face_ = 0, batch_ = 0;
  bool flip_ = false;                  // this run's keypoint inputs come in pairs: crop, mirror image
  long long pixels_wanted_ = 0;
  bool pixels_asked_ = false;  // this run asked for a finer decode already
  std::vector<Box> batch_crops_;       // work pixels, the faces of the current keypoint run
  TensorRun run_;
  bool run_ready_ = false;
  std::vector<std::vector<float>> outputs_;
};

// The most faces one keypoint run of `card` takes under `options`: max_batch over the network
// inputs a face takes (two with the flip test), at least 1; 1 for whole-image models (they run
// once a photo). A photo of n faces runs them in batches of this many and one of the rest, so a
// host that warms its runtime up (a job with 1, 2, .. this many face_boxes) meets every input
// shape a photo can ask for before the first photo does.
std::size_t max_faces_per_keypoint_run(const ModelCard& card, const PhotoOptions& options);

}  // namespace facekeys
