#include "facekeys/face_tracker.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

#include "facekeys/keypoint_pipeline.hpp"
#include "facekeys/schema.hpp"

namespace facekeys {
namespace {

void check_options(const TrackOptions& o) {
  if (o.detect_every < 1) throw std::invalid_argument("tracker: the detector interval must be at least 1 frame");
  if (!(o.match_iou >= 0.f && o.match_iou < 1.f)) throw std::invalid_argument("tracker: match_iou must be in [0, 1)");
  if (!(o.reanchor_iou >= 0.f && o.reanchor_iou <= 1.f))
    throw std::invalid_argument("tracker: reanchor_iou must be in [0, 1]");
  if (!(o.min_confidence >= 0.f && o.min_confidence <= 1.f))
    throw std::invalid_argument("tracker: min_confidence must be in [0, 1]");
  if (!(o.max_gap_s > 0)) throw std::invalid_argument("tracker: max_gap_s must be positive");
  if (!(o.refine_iou >= 0.f && o.refine_iou <= 1.f))
    throw std::invalid_argument("tracker: refine_iou must be in [0, 1]");
  if (!(o.duplicate_iou >= 0.f && o.duplicate_iou <= 1.f))
    throw std::invalid_argument("tracker: duplicate_iou must be in [0, 1]");
  if (o.max_batch < 1) throw std::invalid_argument("tracker: max_batch must be at least 1");
  for (const OneEuroParams& p : {o.one_euro, o.crop_one_euro})
    if (!(p.min_cutoff > 0 && p.d_cutoff > 0 && p.beta >= 0 && p.beta_shared >= 0) || !std::isfinite(p.min_cutoff) ||
        !std::isfinite(p.d_cutoff) || !std::isfinite(p.beta) || !std::isfinite(p.beta_shared))
      throw std::invalid_argument("tracker: One Euro cut-offs must be positive and the betas non-negative");
}

// The share of `box`'s area inside the image extent {-0.5, -0.5, W, H}.
float inside_fraction(const Box& b, int width, int height) {
  const float area = b.w * b.h;
  if (!(area > 0.f)) return 0.f;
  const float x0 = std::max(b.x, -0.5f), y0 = std::max(b.y, -0.5f);
  const float x1 = std::min(b.x + b.w, width - 0.5f), y1 = std::min(b.y + b.h, height - 0.5f);
  return std::max(0.f, x1 - x0) * std::max(0.f, y1 - y0) / area;
}

}  // namespace

Box points_to_training_box(const std::string& schema, const std::vector<Point2f>& points) {
  float x0 = std::numeric_limits<float>::infinity(), y0 = x0, x1 = -x0, y1 = -x0;
  int n = 0;
  for (const Point2f& p : points) {
    if (!std::isfinite(p.x) || !std::isfinite(p.y)) continue;
    x0 = std::min(x0, p.x), y0 = std::min(y0, p.y), x1 = std::max(x1, p.x), y1 = std::max(y1, p.y);
    ++n;
  }
  if (n < 2 || !(x1 > x0 && y1 > y0)) return Box{};
  const Box bounds{x0, y0, x1 - x0, y1 - y0};
  return schema == "ibug68" ? calibrate_box(bounds, kPointsToDanBox) : bounds;
}

FaceTracker::FaceTracker(const ModelCard* card, const TrackOptions& options) : card_(card), options_(options) {
  check_options(options);
}

void FaceTracker::set_options(const TrackOptions& options) {
  check_options(options);
  const OneEuroParams& a = options_.one_euro;
  const OneEuroParams& b = options.one_euro;
  const bool restart = (options.smoothing && !options_.smoothing) || a.min_cutoff != b.min_cutoff || a.beta != b.beta ||
                       a.d_cutoff != b.d_cutoff || a.beta_shared != b.beta_shared;
  options_ = options;
  if (restart)
    for (Track& t : tracks_) t.filter = OneEuroFilter(options_.one_euro);
}

void FaceTracker::reset() {
  tracks_.clear();
  faces_.clear();
  last_detect_ = -1;
}

void FaceTracker::begin_frame(Photo frame, double t_seconds) {
  if (!std::isfinite(t_seconds)) throw std::invalid_argument("tracker: a frame's time must be finite");
  PhotoJob job(std::move(frame));  // checks the pixels
  if (frame_ >= 0 && (!(t_seconds > t_) || job.width() != width_ || job.height() != height_)) reset();
  after_gap_ = !tracks_.empty() && t_seconds - t_ > options_.max_gap_s;
  job_.emplace(std::move(job));
  width_ = job_->width();
  height_ = job_->height();
  ++frame_;
  t_ = t_seconds;
  detected_ = false;
  const bool detect =
      !card_ || tracks_.empty() || after_gap_ || last_detect_ < 0 || frame_ - last_detect_ >= options_.detect_every;
  if (detect) {
    PhotoOptions o;
    o.detect = options_.detect;
    job_->start(nullptr, o);  // detection only; the keypoints follow on the tracks
    stage_ = Stage::Detect;
  } else {
    start_keypoints();
  }
}

const TensorRun* FaceTracker::next() {
  while (stage_ != Stage::Done) {
    if (const TensorRun* run = job_->next()) return run;
    if (job_->pixels_wanted() != 0)
      throw std::logic_error("tracker: frames must be whole, not reduced-scale decodes");
    if (stage_ == Stage::Detect) {
      take_detections();
      start_keypoints();
    } else if (stage_ == Stage::Keypoints) {
      found_ = job_->faces();
      if (!start_refinement()) finish_frame();
    } else {
      take_refinement();
      finish_frame();
    }
  }
  return nullptr;
}

std::vector<float>& FaceTracker::output(std::size_t k) {
  if (stage_ == Stage::Done) throw std::out_of_range("FaceTracker::output: no run in progress");
  return job_->output(k);
}

void FaceTracker::give() {
  if (stage_ == Stage::Done) throw std::logic_error("FaceTracker::give: no run in progress (call next() first)");
  job_->give();
}

// The detector's faces: each joins the track its face box overlaps most (above
// match_iou; greedy, best overlaps first), or starts a track of its own. After
// a gap (max_gap_s) the detections are all there is to go on: a track found
// starts again from its detection, one not found ends.
void FaceTracker::take_detections() {
  detected_ = true;
  last_detect_ = frame_;
  std::vector<Box> boxes;
  std::vector<float> scores;
  for (const PredictedFace& f : job_->faces()) {
    // With a model, boxes in the convention its crops are made from; without, the detector's own (as photos).
    boxes.push_back(card_ ? ultraface_to_training_box(f.box) : f.box);
    scores.push_back(f.score);
  }
  struct Pair {
    float iou;
    std::size_t track, det;
  };
  std::vector<Pair> pairs;
  for (std::size_t t = 0; t < tracks_.size(); ++t)
    for (std::size_t d = 0; d < boxes.size(); ++d) {
      const float iou = box_iou(tracks_[t].face, boxes[d]);
      if (iou > options_.match_iou) pairs.push_back({iou, t, d});
    }
  std::stable_sort(pairs.begin(), pairs.end(), [](const Pair& a, const Pair& b) { return a.iou > b.iou; });
  std::vector<bool> track_taken(tracks_.size(), false), det_taken(boxes.size(), false);
  for (const Pair& p : pairs) {
    if (track_taken[p.track] || det_taken[p.det]) continue;
    track_taken[p.track] = det_taken[p.det] = true;
    Track& t = tracks_[p.track];
    t.score = scores[p.det];
    // With a model the track keeps the box from its points (steadier than the
    // detector's) unless they have drifted off the face or are too old; without
    // one the detector's box is all there is.
    if (!card_) {
      t.face = boxes[p.det];
    } else if (p.iou < options_.reanchor_iou || after_gap_) {
      t.face = boxes[p.det];
      t.previous = Box{};  // no velocity from the drifted box
      t.steady = Box{};
      t.crop_filter = OneEuroFilter(options_.crop_one_euro);
      t.face_seen = false;
      t.filter = OneEuroFilter(options_.one_euro);
    }
  }
  if (!card_ || after_gap_) {  // boxes only, or after a gap: a track the detector no longer finds ends
    std::vector<Track> kept;
    for (std::size_t t = 0; t < tracks_.size(); ++t)
      if (track_taken[t]) kept.push_back(std::move(tracks_[t]));
    tracks_ = std::move(kept);
  }
  const std::size_t most = card_ && card_is_whole_image(*card_) ? 1 : static_cast<std::size_t>(std::max(1, options_.detect.max_faces));
  for (std::size_t d = 0; d < boxes.size() && tracks_.size() < most; ++d) {
    if (det_taken[d]) continue;
    Track t;
    t.id = next_id_++;
    t.face = boxes[d];
    t.score = scores[d];
    t.filter = OneEuroFilter(options_.one_euro);
    t.crop_filter = OneEuroFilter(options_.crop_one_euro);
    tracks_.push_back(std::move(t));
  }
}

// Where a track's face should be now: its last box (steady_crops: filtered)
// moved on at the velocity between its last two boxes (at most 3 of those
// intervals ahead, as after dropped frames), unless that shift is under 1 % of
// the box.
Box FaceTracker::predicted_box(const Track& t) const {
  Box b = options_.steady_crops && t.steady.w > 0.f ? t.steady : t.face;
  const double span = t.t_face - t.t_previous;
  if (t.previous.w <= 0.f || !(span > 0)) return b;
  const double ahead = std::min(3.0, (t_ - t.t_face) / span);
  const Point2f now = t.face.center(), before = t.previous.center();
  const float dx = static_cast<float>((now.x - before.x) * ahead), dy = static_cast<float>((now.y - before.y) * ahead);
  if (std::hypot(dx, dy) < 0.01f * b.w || !std::isfinite(dx) || !std::isfinite(dy)) return b;
  b.x += dx;
  b.y += dy;
  return b;
}

// The model's keypoints on these crops (face boxes in the training convention).
void FaceTracker::start_crops(std::vector<Box> boxes, Stage stage) {
  PhotoOptions o;
  o.max_batch = options_.max_batch;
  o.flip_test = options_.flip_test;
  o.face_boxes = std::move(boxes);
  job_->start(card_, o);
  stage_ = stage;
}

// Whether the model found a face in its crop: points, and confidence enough to go on.
bool FaceTracker::found_face(const PredictedFace& f) const {
  return !f.points.empty() && f.confidence >= options_.min_confidence;
}

void FaceTracker::start_keypoints() {
  found_.clear();
  if (!card_ || tracks_.empty()) {
    finish_frame();
    return;
  }
  crops_.clear();
  for (const Track& t : tracks_) crops_.push_back(predicted_box(t));
  start_crops(crops_, Stage::Keypoints);
}

// The crops whose faces came out off them (refine_iou) run again from their
// points' boxes. Returns whether any do.
bool FaceTracker::start_refinement() {
  refined_.clear();
  if (!(options_.refine_iou > 0.f) || card_is_whole_image(*card_)) return false;
  std::vector<Box> boxes;
  for (std::size_t i = 0; i < tracks_.size() && i < found_.size(); ++i) {
    if (!found_face(found_[i])) continue;
    const Box seen = points_to_training_box(card_->schema, found_[i].points);
    if (seen.w > 0.f && box_iou(crops_[i], seen) < options_.refine_iou) {
      refined_.push_back(i);
      boxes.push_back(seen);
    }
  }
  if (refined_.empty()) return false;
  start_crops(std::move(boxes), Stage::Refine);
  return true;
}

// The second crop, centred on where the first found the face, gives the
// points unless the model finds no face in it.
void FaceTracker::take_refinement() {
  const std::vector<PredictedFace>& again = job_->faces();
  for (std::size_t k = 0; k < refined_.size() && k < again.size(); ++k)
    if (found_face(again[k])) found_[refined_[k]] = again[k];
}

// The keypoints' verdict: a track goes on with the points it got, or ends
// when the model does not find a face in its crop, the face has left the
// frame, or an older track (tracks_ is oldest first) has the same face.
void FaceTracker::finish_frame() {
  stage_ = Stage::Done;
  faces_.clear();
  if (!card_) {  // boxes only: this frame's detections are the tracks
    for (Track& t : tracks_) {
      ++t.frames;
      faces_.push_back(TrackedFace{t.id, PredictedFace{t.face, t.score, false, {}}, {}, t.score, t.frames});
    }
    return;
  }
  std::vector<Track> alive;
  for (std::size_t i = 0; i < tracks_.size() && i < found_.size(); ++i) {
    Track& t = tracks_[i];
    const PredictedFace& f = found_[i];
    if (!found_face(f)) continue;
    const Box next = points_to_training_box(card_->schema, f.points);
    if (next.w <= 0.f || inside_fraction(next, width_, height_) < 0.5f) continue;
    const auto same_face = [&](const Track& older) { return box_iou(older.face, next) > options_.duplicate_iou; };
    if (options_.duplicate_iou < 1.f && std::any_of(alive.begin(), alive.end(), same_face)) continue;
    TrackedFace out;
    out.id = t.id;
    out.raw_points = f.points;
    out.confidence = f.confidence;
    out.frames = ++t.frames;
    out.face = PredictedFace{next, t.score, false, f.points, f.confidence};
    if (options_.smoothing) {
      std::vector<double> values;
      values.reserve(2 * f.points.size());
      for (const Point2f& p : f.points) values.insert(values.end(), {p.x, p.y});
      const std::vector<double> y = t.filter.filter_points(values, t_);
      for (std::size_t k = 0; k < out.face.points.size(); ++k)
        out.face.points[k] = Point2f{static_cast<float>(y[2 * k]), static_cast<float>(y[2 * k + 1])};
    }
    t.previous = t.face_seen ? t.face : Box{};
    t.t_previous = t.t_face;
    t.face = next;
    // Filtered whatever steady_crops says, so that turning it on (set_options) finds it current.
    const std::vector<double> c = t.crop_filter.filter_points({next.x, next.y, next.x + next.w, next.y + next.h}, t_);
    t.steady = Box{static_cast<float>(c[0]), static_cast<float>(c[1]), static_cast<float>(c[2] - c[0]),
                   static_cast<float>(c[3] - c[1])};
    t.t_face = t_;
    t.face_seen = true;
    faces_.push_back(out);
    alive.push_back(std::move(t));
  }
  tracks_ = std::move(alive);
}

Json FaceTracker::frame_json() const {
  Json j = Json::object();
  j["frame"] = static_cast<std::int64_t>(frame_);
  j["t_ms"] = std::round(t_ * 1e6) / 1e3;
  j["detected"] = detected_;
  j["width"] = width_;
  j["height"] = height_;
  Json faces = Json::array();
  for (const TrackedFace& f : faces_) {
    Json o = predicted_face_json(f.face, card_, width_, height_);
    o["id"] = f.id;
    faces.push_back(o);
  }
  j["faces"] = faces;
  j["model"] = card_ ? Json(card_->name) : Json();
  return j;
}

Overlay FaceTracker::overlay(const OverlayStyle& style) const {
  return tracked_faces_overlay(faces_, card_, width_, height_, style);
}

Overlay tracked_faces_overlay(const std::vector<TrackedFace>& faces, const ModelCard* card, int width, int height,
                              const OverlayStyle& style) {
  std::vector<FaceView> views(faces.size());
  for (std::size_t i = 0; i < faces.size(); ++i) {
    views[i].face = &faces[i].face;
    views[i].label = "#" + std::to_string(faces[i].id);
  }
  const LandmarkSchema* schema = card ? &schema_by_name(card->schema) : nullptr;
  return photo_overlay(width, height, views, schema, style);
}

}  // namespace facekeys
