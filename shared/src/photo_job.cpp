#include "facekeys/photo_job.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

#include "facekeys/keypoint_pipeline.hpp"
#include "facekeys/schema.hpp"

namespace facekeys {

PhotoJob::PhotoJob(Photo photo) : name_(std::move(photo.name)) { set_pixels(std::move(photo)); }

void PhotoJob::set_pixels(Photo photo) {
  if (photo.pixels.empty()) throw std::invalid_argument(name_ + ": no pixels");
  if (photo.quarter_turns_cw < 0 || photo.quarter_turns_cw > 3)
    throw std::invalid_argument(name_ + ": orientation must be 0..3 quarter turns, got " +
                                std::to_string(photo.quarter_turns_cw));
  const bool swap = photo.quarter_turns_cw % 2 != 0;
  work_ = photo.quarter_turns_cw != 0 || photo.mirror
              ? rotate_and_mirror(photo.pixels.view(), photo.quarter_turns_cw, photo.mirror)
              : std::move(photo.pixels);
  gray_ = ImageU8();
  int sw = photo.stored_width, sh = photo.stored_height;
  if (sw <= 0 || sh <= 0) {  // the pixels are the photo's own
    sw = swap ? work_.height() : work_.width();
    sh = swap ? work_.width() : work_.height();
  }
  width_ = swap ? sh : sw;
  height_ = swap ? sw : sh;
  if (width_ < work_.width() || height_ < work_.height())
    throw std::invalid_argument(name_ + ": " + std::to_string(work_.width()) + "x" + std::to_string(work_.height()) +
                                " decoded pixels for a " + std::to_string(width_) + "x" + std::to_string(height_) +
                                " photo");
  sx_ = static_cast<float>(width_) / work_.width();
  sy_ = static_cast<float>(height_) / work_.height();
}

void PhotoJob::replace_pixels(Photo photo) {
  photo.name = name_;
  PhotoJob again(std::move(photo));  // checked first: a bad decode leaves this job as it was
  if (again.width_ != width_ || again.height_ != height_)
    throw std::invalid_argument(name_ + ": the photo decoded again is " + std::to_string(again.width_) + "x" +
                                std::to_string(again.height_) + ", not " + std::to_string(width_) + "x" +
                                std::to_string(height_));
  work_ = std::move(again.work_);
  gray_ = ImageU8();
  sx_ = again.sx_;
  sy_ = again.sy_;
  run_ready_ = false;
  if (stage_ == Stage::NeedPixels) prepare_keypoints();  // the faces found go on to their crops
}

// Work <-> original pixels: the extents scale (pixel centres at integers).
Box PhotoJob::to_work(const Box& b) const {
  if (sx_ == 1.f && sy_ == 1.f) return b;
  return Box{(b.x + 0.5f) / sx_ - 0.5f, (b.y + 0.5f) / sy_ - 0.5f, b.w / sx_, b.h / sy_};
}
Point2f PhotoJob::to_original(Point2f p) const {
  if (sx_ == 1.f && sy_ == 1.f) return p;
  return Point2f{(p.x + 0.5f) * sx_ - 0.5f, (p.y + 0.5f) * sy_ - 0.5f};
}
Box PhotoJob::to_original(const Box& b) const {
  if (sx_ == 1.f && sy_ == 1.f) return b;
  return Box{(b.x + 0.5f) * sx_ - 0.5f, (b.y + 0.5f) * sy_ - 0.5f, b.w * sx_, b.h * sy_};
}

void PhotoJob::start(const ModelCard* card, const PhotoOptions& options) {
  if (options.max_batch < 1) throw std::invalid_argument("PhotoJob: max_batch must be at least 1");
  card_ = card;
  options_ = options;
  run_ready_ = false;
  pixels_asked_ = false;
  crops_.clear();
  heatmaps_.clear();
  if (options.manual_face) {
    const Box& b = *options.manual_face;
    if (!(b.w > 0.f && b.h > 0.f) || !std::isfinite(b.x) || !std::isfinite(b.y))
      throw std::invalid_argument(name_ + ": a face box needs a positive size");
    faces_ = {PredictedFace{b, 1.f, true, {}}};
    detected_ = false;
    stage_ = Stage::Keypoints;
  } else if (!options.face_boxes.empty()) {
    faces_.clear();
    for (const Box& b : options.face_boxes) {
      if (!(b.w > 0.f && b.h > 0.f) || !std::isfinite(b.x) || !std::isfinite(b.y))
        throw std::invalid_argument(name_ + ": a given face box needs a positive size");
      faces_.push_back(PredictedFace{b, 1.f, false, {}});
    }
    detected_ = false;
    stage_ = Stage::Keypoints;
  } else if (options.redetect || !detected_) {
    faces_.clear();
    stage_ = Stage::Detect;
  } else {
    for (PredictedFace& f : faces_) f.points.clear();
    stage_ = Stage::Keypoints;
  }
  if (stage_ == Stage::Keypoints) prepare_keypoints();
}

void PhotoJob::prepare_keypoints() {
  runs_ = card_ ? keypoint_runs(*card_, faces_.size()) : 0;
  next_face_ = 0;
  flip_ = card_ && card_wants_flip_test(*card_, options_.flip_test);
  // Face-box models were trained on DAN boxes: a detected box is calibrated
  // first (face_detect.hpp); a box drawn by hand or given by the host is taken
  // as one of those already.
  const bool given = !options_.manual_face && !options_.face_boxes.empty();
  sources_.clear();
  for (const PredictedFace& f : faces_)
    sources_.push_back(f.manual || given ? f.box : ultraface_to_training_box(f.box));
  crops_.assign(faces_.size(), Box{});
  heatmaps_.assign(faces_.size(), ImageU8());
  stage_ = runs_ == 0 ? Stage::Done : Stage::Keypoints;
  // A reduced-scale decode that is too coarse for a face's crop: ask once for a finer one.
  if (stage_ == Stage::Keypoints && !pixels_asked_ && !card_is_whole_image(*card_) && (sx_ > 1.f || sy_ > 1.f)) {
    long long need = 0;
    for (std::size_t i = 0; i < runs_; ++i)
      need = std::max(need, keypoint_crop_work_pixels(*card_, keypoint_crop_box(*card_, width_, height_, &sources_[i]),
                                                      width_, height_));
    if (static_cast<long long>(work_.width()) * work_.height() < need) {
      pixels_wanted_ = need;
      pixels_asked_ = true;
      stage_ = Stage::NeedPixels;
    }
  }
}

const TensorRun* PhotoJob::next() {
  if (stage_ == Stage::Done || stage_ == Stage::NeedPixels) return nullptr;
  if (run_ready_) return &run_;
  run_ = TensorRun{};
  if (stage_ == Stage::Detect) {
    const UltraFaceConfig config;
    run_.network = TensorRun::Network::Detector;
    run_.input_name = "input";
    run_.input_shape = {1, 3, config.input_height, config.input_width};
    run_.input = ultraface_input(work_.view(), config);
    run_.output_names = {"scores", "boxes"};
    run_.output_sizes = {0, 0};  // 2 and 4 values per prior; the graph decides how many priors
  } else {
    const ModelCard& card = *card_;
    if (gray_.empty()) gray_ = to_gray(work_.view());
    const std::size_t inputs_per_face = flip_ ? 2 : 1;
    batch_ = std::min(runs_ - next_face_, max_faces_per_keypoint_run(card, options_));
    batch_crops_.clear();
    run_.network = TensorRun::Network::Keypoints;
    run_.input_name = card.onnx.input_name;
    run_.input_shape = card_input_shape(card);
    run_.input_shape[0] = static_cast<std::int64_t>(batch_ * inputs_per_face);
    for (std::size_t i = next_face_; i < next_face_ + batch_; ++i) {
      const Box face = to_work(sources_[i]);
      batch_crops_.push_back(keypoint_crop_box(card, work_.width(), work_.height(), &face));
      run_.crops.push_back(to_original(batch_crops_.back()));
      append_keypoint_input(run_.input, keypoint_model_input(gray_.view(), card, batch_crops_.back()), card, flip_);
    }
    run_.output_names = {card.onnx.output_name};
    run_.output_sizes = {keypoint_output_size(card) * batch_ * inputs_per_face};
  }
  outputs_.assign(run_.output_names.size(), {});
  run_ready_ = true;
  return &run_;
}

std::vector<float>& PhotoJob::output(std::size_t k) {
  if (!run_ready_ || k >= outputs_.size()) throw std::out_of_range("PhotoJob::output: no such output of this run");
  return outputs_[k];
}

void PhotoJob::give() {
  if (!run_ready_) throw std::logic_error("PhotoJob::give: no run to take outputs for (call next() first)");
  const bool detector = run_.network == TensorRun::Network::Detector;
  const char* network = detector ? "face detector" : "keypoint model";
  for (std::size_t k = 0; k < outputs_.size(); ++k)
    if (run_.output_sizes[k] != 0 && outputs_[k].size() != run_.output_sizes[k])
      throw std::runtime_error(std::string(network) + ": output '" + run_.output_names[k] + "' has " +
                               std::to_string(outputs_[k].size()) + " values, expected " +
                               std::to_string(run_.output_sizes[k]));
  run_ready_ = false;
  if (detector) {
    const std::vector<float>& scores = outputs_[0];
    const std::vector<float>& boxes = outputs_[1];
    const std::size_t n = scores.size() / 2;
    if (scores.size() % 2 != 0 || boxes.size() != 4 * n)
      throw std::runtime_error("face detector: outputs scores (" + std::to_string(scores.size()) + " values) and boxes (" +
                               std::to_string(boxes.size()) + ") are not [1, P, 2] and [1, P, 4]");
    faces_.clear();
    for (const FaceDetection& d :
         ultraface_detections(scores.data(), boxes.data(), n, work_.width(), work_.height(), options_.detect))
      faces_.push_back(PredictedFace{to_original(d.box), d.score, false, {}});
    detected_ = true;
    stage_ = Stage::Keypoints;
    prepare_keypoints();
    return;
  }
  const ModelCard& card = *card_;
  const std::size_t per = keypoint_output_size(card);
  for (std::size_t j = 0; j < batch_; ++j) {
    const float* out = keypoint_batch_output(outputs_[0], j, card, flip_);
    PredictedFace& f = faces_[next_face_ + j];
    const KeypointDecode d = decode_keypoint_output(card, out, per, batch_crops_[j]);
    f.points.clear();
    for (const Point2f& p : d.points) f.points.push_back(to_original(p));
    f.confidence = d.confidence;
    crops_[next_face_ + j] = to_original(batch_crops_[j]);
    if (options_.heatmap_views && !d.probabilities.empty())
      heatmaps_[next_face_ + j] = heatmap_view_of_probabilities(d.probabilities.data(), card.num_points,
                                                                card.output.height, card.output.width, {});
  }
  next_face_ += batch_;
  if (next_face_ >= runs_) stage_ = Stage::Done;
}

Json PhotoJob::result_json() const { return predict_result_json(name_, width_, height_, faces_, card_); }

Overlay PhotoJob::overlay(const OverlayStyle& style) const {
  std::vector<FaceView> views;
  for (std::size_t i = 0; i < faces_.size(); ++i) {
    FaceView v;
    v.face = &faces_[i];
    if (i < heatmaps_.size() && !heatmaps_[i].empty()) {
      v.heatmap = &heatmaps_[i];
      v.heatmap_area = crops_[i];
    }
    views.push_back(v);
  }
  const LandmarkSchema* schema = card_ ? &schema_by_name(card_->schema) : nullptr;
  return photo_overlay(width_, height_, views, schema, style);
}

std::size_t max_faces_per_keypoint_run(const ModelCard& card, const PhotoOptions& options) {
  if (card_is_whole_image(card)) return 1;
  const std::size_t inputs_per_face = card_wants_flip_test(card, options.flip_test) ? 2 : 1;
  return std::max<std::size_t>(1, static_cast<std::size_t>(std::max(options.max_batch, 1)) / inputs_per_face);
}

}  // namespace facekeys
