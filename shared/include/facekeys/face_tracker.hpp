// Faces followed through video frames: the one tracker that `facekeys track`
// (OpenCV VideoCapture + DNN) and the page's camera and video player (ONNX
// Runtime Web) drive, the way they drive a photo job (photo_job.hpp): the host
// hands in a frame, runs the tensors the tracker asks for, and reads the faces.
//
//   FaceTracker tracker(&card, options);
//   tracker.begin_frame(Photo{pixels, ...}, t_seconds);
//   while (const TensorRun* run = tracker.next()) {
//     for (k ...) tracker.output(k) = <run->network's output k on run->input>;
//     tracker.give();
//   }
//   tracker.faces();  tracker.frame_json();  tracker.overlay(style);
//
// Per frame:
//   1. detection   the detector runs on the first frame, every detect_every frames,
//                  and on every frame while no face is tracked. Its faces that
//                  overlap no track (IoU of face boxes <= match_iou) start new
//                  tracks with new ids; the others are the tracks they overlap.
//                  A track that overlaps its detection by less than reanchor_iou
//                  has drifted off its face (its points stuck where the face was
//                  before a jump, say): its crop comes from the detection this
//                  frame, and its smoothing starts afresh; its id stays.
//   2. crops       a tracked face's crop comes from its last (unsmoothed) points:
//                  their bounding box, calibrated to the face boxes the model was
//                  trained on (points_to_training_box), moved on by the box's last
//                  velocity for the time since (a face keeps moving between slow
//                  frames; a shift under 1 % of the box is left out, so a still
//                  face's crop stays put); a new face's from its detection
//                  (ultraface_to_training_box), as in a photo.
//   3. keypoints   one keypoint run per batch of faces (the photo job's).
//   4. lost        a track ends when the model's confidence in its crop
//                  (keypoint_confidence) is below min_confidence, or when its face
//                  box has left the frame (less than half of it inside), or when
//                  its face box overlaps an older track's (IoU > duplicate_iou):
//                  two crops that came out on one face. The next frame then runs
//                  the detector, which finds a face that comes back (as a new track).
//   5. smoothing   each track's points through its own One Euro filter
//                  (one_euro.hpp), started afresh with the track.
// Whole-image models (IMM) see the whole frame: one track at most, its crop the
// frame. Ids start at 1 and are never reused within a tracker's life.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "facekeys/json.hpp"
#include "facekeys/one_euro.hpp"
#include "facekeys/overlay.hpp"
#include "facekeys/photo_job.hpp"

namespace facekeys {

struct TrackOptions {
  DetectOptions detect;          // the detector's thresholds (max_faces: most tracks)
  int detect_every = 10;         // frames between detector runs while faces are tracked (1: every frame)
  float match_iou = 0.3f;        // a detection overlapping a track's face box by more is that track
  // ... and by less than this, the track has drifted: its crop comes from the detection. On the
  // test video (docs/VIDEO.md) tracks overlap their detections by 0.82-0.94 (0.67 while leaving).
  float reanchor_iou = 0.6f;
  // A frame more than this many seconds after the last one (a host that stalled, a paused
  // camera) says nothing of where the tracks' faces are now: the detector runs on it, each track
  // it finds starts again from the detection (id kept) and a track it does not find ends. The
  // page stalled 1.7 s after a camera's first frame while its video worker loaded, and the crops
  // from that frame's points missed the panning face (NME 0.13-0.68). Infinity: never.
  double max_gap_s = 0.5;
  // A crop whose points came out elsewhere (their box overlapping the crop's by less than this)
  // is run again, in the same frame, from the points' box: motion the crop's prediction missed
  // (a face that speeds up between two frames far apart; the page at 20 fps on the test video's
  // exit: NME 0.07-0.12 from the first crop). 0: never.
  float refine_iou = 0.7f;
  // Two tracks whose face boxes overlap by more than this after their keypoint runs are one face:
  // the newer ends. A face that jumps between two frames far apart can leave its track's crop
  // overlapping the detection by match_iou or less, so the detection starts a second track, while
  // the crop, run again (refine_iou), finds the same face (`facekeys track` at 7.5 fps on the test
  // video's exit; the page's camera at 18 fps, 2026-12-06). 1: never.
  float duplicate_iou = 0.5f;
  // The next crop comes from the points' box through a One Euro filter of its own (the box's
  // corners filtered as two points, whatever `smoothing` says), then the box's velocity: the model's
  // output moves with a sub-pixel shift of its crop, so a crop taken straight from the last points
  // feeds their jitter back (`ibug68-unet96-tiny`'s still face: 0.58 px a frame before smoothing
  // natively, 0.31 with steady crops), and a runtime whose arithmetic differs a little (ONNX Runtime
  // in the page, OpenCV natively) drifts apart frame by frame (0.52 px from `facekeys track` on the
  // test video, 0.47 with steady crops; docs/VIDEO.md). Off: the crops follow the raw points.
  bool steady_crops = true;
  OneEuroParams crop_one_euro{0.2, 0.05, 4.0, 0.15};
  // A track whose keypoint_confidence falls below ends. ibug68-unet (2026-12-05): detected LFPW
  // faces 0.58-0.93 (53 faces, 2 small false detections 0.15 and 0.27), IMM faces turned 30 degrees
  // 0.85-0.95; random squares of 60-160 px in LFPW photos 0.02-0.49, most 0.1-0.3.
  float min_confidence = 0.4f;
  bool smoothing = true;         // One Euro filter on the points
  // Pixels and seconds; the points of a face filtered together (filter_points: their shared
  // motion opens the cut-off). Chosen on the test video (docs/VIDEO.md) by replaying the
  // unsmoothed points at 30, 20 and 15 fps: a still face's frame-to-frame motion drops 7.6x
  // (6.4x at 20 fps) and the worst NME of a moving face is 0.035 (unsmoothed 0.033), where the
  // per-point filter {0.5, 0.2, 1} gave 6.7x and 0.052 (0.06 in the page at 20 fps).
  OneEuroParams one_euro{0.2, 0.05, 4.0, 0.15};
  int max_batch = 16;            // network inputs per keypoint run (as PhotoOptions)
  // The flip test (keypoint_pipeline.hpp) on each frame: off by default, since it doubles the
  // keypoint model's time and the One Euro filter steadies the points anyway; on, as photos.
  bool flip_test = false;
};

struct TrackedFace {
  int id = 0;                      // the track's id (1, 2, ...)
  PredictedFace face;              // box: the face's box from this frame's points (points_to_training_box;
                                   //   without a model the detector's box); score: the detector's at the
                                   //   track's last detection; points: smoothed when smoothing is on
  std::vector<Point2f> raw_points; // the model's points for this frame, unsmoothed
  float confidence = 0.f;          // keypoint_confidence of this frame's crop
  int frames = 0;                  // frames the track has lasted, this one included
};

class FaceTracker {
 public:
  // card: the keypoint model (must outlive the tracker); null tracks boxes only
  // (the detector on every frame). Throws std::invalid_argument on bad options.
  explicit FaceTracker(const ModelCard* card, const TrackOptions& options = TrackOptions{});

  // New options from here on (the page's panel: smoothing, detector interval).
  // Turning smoothing back on restarts the filters.
  void set_options(const TrackOptions& options);
  const TrackOptions& options() const { return options_; }
  // Ends every track; the next frame runs the detector (a new video).
  void reset();

  // Begins a frame: all of its pixels (orientation as in a Photo; not a
  // reduced-scale decode) at t_seconds. A frame at or before the last one's
  // time (a video started again) or of another size (a camera that changed
  // its resolution) ends every track first; one more than max_gap_s after
  // the last runs the detector. Throws std::invalid_argument as PhotoJob does.
  void begin_frame(Photo frame, double t_seconds);
  // The next network call for this frame, or null when the frame is done.
  const TensorRun* next();
  std::vector<float>& output(std::size_t k);
  void give();
  bool frame_done() const { return stage_ == Stage::Done; }

  // The frame's faces (tracks alive after it), in order of their ids.
  const std::vector<TrackedFace>& faces() const { return faces_; }
  long long frame_index() const { return frame_; }   // 0-based; -1 before the first frame
  double frame_time() const { return t_; }
  bool detected() const { return detected_; }        // the detector ran on this frame
  int width() const { return width_; }
  int height() const { return height_; }

  // {"frame": i, "t_ms": t, "detected": bool, "faces": [{"id", "box", "score",
  //  "confidence", "points", ("pose", "eyes", "mouth")}]}: the fields of a
  // photo's faces (predict_result.hpp) plus id and confidence.
  Json frame_json() const;
  // The overlay of the frame's faces (tracked_faces_overlay).
  Overlay overlay(const OverlayStyle& style) const;
  const ModelCard* card() const { return card_; }

 private:
  enum class Stage { Detect, Keypoints, Refine, Done };
  struct Track;
  void take_detections();
  Box predicted_box(const Track& t) const;
  void start_crops(std::vector<Box> boxes, Stage stage);
  bool found_face(const PredictedFace& f) const;
  void start_keypoints();
  bool start_refinement();
  void take_refinement();
  void finish_frame();

  const ModelCard* card_;
  TrackOptions options_;
  struct Track {
    int id = 0;
    Box face;                      // the crop's source, in the training boxes' convention
    Box previous;                  // the box of the frame before (empty: none yet)
    Box steady;                    // face through crop_filter: the next crop's base (empty: none yet)
    OneEuroFilter crop_filter;
    double t_face = 0, t_previous = 0;  // the times of those frames
    bool face_seen = false;        // face comes from the points (not only from the detector)
    float score = 0.f;             // the detector's, at the last detection that matched
    OneEuroFilter filter;
    int frames = 0;
  };
  std::vector<Track> tracks_;
  std::vector<Box> crops_;            // this frame's crop source per track
  std::vector<PredictedFace> found_;  // this frame's keypoints per track
  std::vector<std::size_t> refined_;  // the tracks whose crops run again (Stage::Refine)
  std::vector<TrackedFace> faces_;
  std::optional<PhotoJob> job_;    // this frame's
  Stage stage_ = Stage::Done;
  long long frame_ = -1;
  long long last_detect_ = -1;
  double t_ = 0;
  bool detected_ = false;
  bool after_gap_ = false;  // this frame came more than max_gap_s after the last
  int width_ = 0, height_ = 0;
  int next_id_ = 1;
};

// The face box (training convention: 300-W's DAN boxes) of a face whose
// points are `points`: their bounding box, calibrated by kPointsToDanBox for
// 68-point faces (LFPW's 805 training faces: DAN box width 0.991 +- 0.08 of the
// points' bounding box, height 1.010 +- 0.05, centre shifted -0.0075 +- 0.036
// and -0.0094 +- 0.022 of its size), the bounding box itself for other
// schemas. Non-finite points are left out; an empty box when fewer than 2
// remain.
constexpr BoxCalibration kPointsToDanBox{0.9906f, 1.0097f, -0.0075f, -0.0094f};
Box points_to_training_box(const std::string& schema, const std::vector<Point2f>& points);

// The photo overlay of tracked faces in a width x height frame, each face labelled with its
// id ("#1") and, for 68-point faces, its head-pose axes; card: the tracker's model (null: boxes
// only). A host that shows a finished frame while the tracker works on the next one keeps that
// frame's faces() and draws them with this (the page: its view is redrawn on its own schedule).
Overlay tracked_faces_overlay(const std::vector<TrackedFace>& faces, const ModelCard* card, int width, int height,
                              const OverlayStyle& style);

}  // namespace facekeys
