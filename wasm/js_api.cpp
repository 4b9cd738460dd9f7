// The functions app_glue.js calls (Module._fk_*): models, the photo check, the
// photo, the core's photo job step by step, the PNG export, and the panel's
// state. A function that fails returns -1 (or null) with the message in
// fk_last_error(), and shows it in the panel.
//
// One photo, as app_glue.js drives it:
//   fk_image_check(...)                       the file, before decoding (image_header.hpp)
//   fk_photo_alloc(w, h) -> JS writes RGBA -> fk_photo_commit(orig_w, orig_h, turns, mirror, name)
//   fk_job_start(model, redetect, box...)     PhotoJob::start
//   while ((run = fk_job_next()) != "") {     PhotoJob::next: {"network", "input", "shape", "outputs"}
//     JS runs run.network on fk_job_input(), writes output k to fk_job_output(k, n); fk_job_give()
//   } and when fk_job_pixels_wanted() > 0: the photo decoded again (fk_photo_alloc(w, h, 1),
//   fk_photo_replace), and the loop goes on
//   fk_job_result()                           the JSON of `facekeys predict`
//
// Video (camera or file), as app_glue.js drives it, frame by frame:
//   fk_track_start(model, detect_every, smoothing, flip_test, camera, name)   a new FaceTracker (face_tracker.hpp)
//   fk_frame_alloc(w, h) -> JS writes RGBA -> fk_track_begin(t_seconds)   FaceTracker::begin_frame
//   while ((run = fk_track_next()) != "") { the same loop as the photo job's, with
//     fk_track_input(), fk_track_output(k, n), fk_track_give() }
//   fk_track_frame_json()                     the frame's faces: {"frame", "t_ms", "detected", "faces": [...]}
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "app.hpp"
#include "facekeys/draw.hpp"
#include "facekeys/image_header.hpp"
#include "facekeys/jpeg_scan.hpp"
#include "facekeys/json.hpp"
#include "facekeys/keypoint_pipeline.hpp"
#include "facekeys/metrics.hpp"
#include "facekeys/model_check.hpp"
#include "facekeys/onnx_fold.hpp"
#include "facekeys/schema.hpp"
#include "platform_web.hpp"

using namespace facekeys;
using namespace facekeys_app;

namespace {

// Runs f, turning an exception into -1 and the message into fk_last_error().
template <class F>
int guarded(const char* what, F&& f) {
  try {
    g.error.clear();
    return f();
  } catch (const std::exception& e) {
    set_error(std::string(what) + ": " + e.what());
  } catch (...) {
    set_error(std::string(what) + ": unknown error");
  }
  return -1;
}

// The photo as a texture; a display copy where it is larger than WebGL allows
// (the job keeps every pixel for detection and crops).
GLuint upload_photo_texture(ViewU8 rgba) {
  GLint max_tex = 4096;
  glGetIntegerv(GL_MAX_TEXTURE_SIZE, &max_tex);
  max_tex = std::min<GLint>(max_tex, 8192);
  if (rgba.width() <= max_tex && rgba.height() <= max_tex) return upload_rgba(rgba);
  const double s = std::min(static_cast<double>(max_tex) / rgba.width(), static_cast<double>(max_tex) / rgba.height());
  const ImageU8 small = resize(rgba, std::max(1, static_cast<int>(rgba.width() * s)),
                               std::max(1, static_cast<int>(rgba.height() * s)));
  return upload_rgba(small.view());
}

void clear_photo() {
  g.job.reset();
  g.job_model = -1;
  g.pending = ImageU8();
  if (g.tex) glDeleteTextures(1, &g.tex);
  g.tex = 0;
  overlay_changed();
}

// As guarded(), with the exception's message alone (it names its file already).
template <class F>
int guarded_plain(F&& f) {
  try {
    g.error.clear();
    f();
    return 0;
  } catch (const std::exception& e) {
    set_error(e.what());
  }
  return -1;
}

// Network inputs per keypoint run in the page: up to 8, so 4 faces with the
// flip test, which photos of the default model run (a 6-face photo's 12 inputs
// in one run of 16 were no faster: warm 0.64 s against 0.49 s in 8 + 4, one
// try each, 2026-12-05 16:40, not quiet). ONNX Runtime runs in its proxy
// worker, and each run crosses to it and back with its tensors (about 30 ms
// here), so fewer, larger runs win: measured 2026-12-05 on the 2-core VM,
// quiet, a warm 6-face photo 0.38 s batched against 0.66 s one face a run (on
// the main thread, before the worker, one a run was best: 0.38 s against 0.41,
// as ONNX Runtime plans each new batch size once). The warm-up runs each batch
// size a photo can use before the first photo (fk_warmup_begin).
// facekeys predict keeps the job's default (16).
constexpr int kPageMaxBatch = 8;

// The job the fk_job_* functions drive: the warm-up's while it runs, else the photo's.
PhotoJob* active_job() { return g.warmup ? g.warmup.get() : g.job.get(); }

const char* network_name(TensorRun::Network n) { return n == TensorRun::Network::Detector ? "detector" : "keypoints"; }

// A network call as JSON: {"network", "input", "shape", "outputs"}.
std::string run_json(const TensorRun& run) {
  Json j = Json::object();
  j["network"] = network_name(run.network);
  j["input"] = run.input_name;
  Json shape = Json::array();
  for (std::int64_t d : run.input_shape) shape.push_back(static_cast<double>(d));
  j["shape"] = shape;
  Json outs = Json::array();
  for (const std::string& n : run.output_names) outs.push_back(n);
  j["outputs"] = outs;
  return j.dump();
}

// Where JS writes output k (n floats) of `job`'s current run (a PhotoJob or a
// FaceTracker: the same protocol); null, with the error reported, when there is none.
template <class Job>
float* output_buffer(const char* what, Job* job, int k, int n) {
  float* p = nullptr;
  guarded(what, [&] {
    if (!job || k < 0 || n < 0) throw std::invalid_argument("no run");
    std::vector<float>& out = job->output(static_cast<std::size_t>(k));
    out.resize(static_cast<std::size_t>(n));
    p = out.data();
    return 0;
  });
  return p;
}

// A photo's options in the page: the panel's threshold, heatmap views kept, kPageMaxBatch.
PhotoOptions photo_options() {
  PhotoOptions options;
  options.detect.score_threshold = g.threshold;
  options.heatmap_views = true;
  options.max_batch = kPageMaxBatch;
  return options;
}

// The tracker's options from the panel's state.
TrackOptions track_options() {
  TrackOptions o;
  o.detect.score_threshold = g.threshold;
  o.detect_every = std::max(1, g.video.detect_every);
  o.smoothing = g.video.smoothing;
  o.flip_test = g.video.flip_test;
  o.max_batch = kPageMaxBatch;  // as photos
  return o;
}

}  // namespace

void facekeys_app::update_tracker_options() {
  App::Video& v = g.video;
  v.detect_every = std::max(1, v.detect_every);
  if (v.tracker) v.tracker->set_options(track_options());
  redraw();
}

namespace {

void close_video() {
  App::Video& v = g.video;
  v.tracker.reset();
  v.run = nullptr;
  v.pending = ImageU8();
  v.frame_w = v.frame_h = v.next_w = v.next_h = 0;
  v.live = v.paused = false;
  v.shown.clear();
  v.frames = v.dropped = 0;
  v.fps = 0;
  overlay_changed();
}

// `image` as a w x h RGBA buffer for JavaScript to fill (a frame's pixels), null on a bad size.
std::uint8_t* rgba_buffer(ImageU8& image, int w, int h) {
  std::uint8_t* p = nullptr;
  guarded("video", [&] {
    if (w <= 0 || h <= 0) throw std::invalid_argument("bad frame size");
    if (image.width() != w || image.height() != h) image = ImageU8(w, h, 4);
    p = image.data();
    return 0;
  });
  return p;
}

// The tracker finished its frame: its faces are the ones shown from now on (the
// page puts the frame with their overlay in its video layer: fk_video_layer_draw).
// The ImGui canvas is redrawn only when the frame's size changed (the view is
// fitted again).
void show_tracked_frame() {
  App::Video& v = g.video;
  if (v.frame_w != v.next_w || v.frame_h != v.next_h) {
    g.fit_pending = true;
    redraw();
  }
  v.frame_w = v.next_w;
  v.frame_h = v.next_h;
  v.shown = v.tracker->faces();
}

}  // namespace

extern "C" {

FK_EXPORT const char* fk_last_error() { return g.error.c_str(); }

// ---- models --------------------------------------------------------------------

// Registers a model from its card text; returns its index, -1 on a bad card.
FK_EXPORT int fk_add_model(const char* id, const char* card_json) {
  return guarded("model card", [&] {
    Model m;
    m.id = id;
    m.card = model_card_from_json(Json::parse(card_json, std::string(id) + "/model.json"), std::string(id));
    g.models.push_back(std::move(m));
    if (g.model < 0) g.model = 0;
    redraw();
    return static_cast<int>(g.models.size()) - 1;
  });
}
// The default model among those registered: `named` is the name from
// models/index.json (the DEFAULT file's), the rule is the core's
// default_model_name, as `facekeys predict`'s. Returns its index, -1 when none.
FK_EXPORT int fk_default_model(const char* named) {
  std::vector<std::string> ids;
  for (const Model& m : g.models) ids.push_back(m.id);
  const std::string id = default_model_name(named ? named : "", ids);
  for (std::size_t i = 0; i < ids.size(); ++i)
    if (ids[i] == id) return static_cast<int>(i);
  return -1;
}
// NME of one face, the core's nme_per_image (what `facekeys eval` and the native
// tests report): `pred` and `truth` hold n_points (x, y) pairs in pixels, the
// distance of the schema's outer eye corners normalises. -1 with the message in
// fk_last_error() on bad input (unknown schema, wrong count, zero eye distance).
FK_EXPORT double fk_nme(const float* pred, const float* truth, int n_points, const char* schema_name) {
  double nme = -1;
  guarded("nme", [&] {
    const LandmarkSchema& s = schema_by_name(schema_name ? schema_name : "");
    if (n_points != s.num_points || s.left_eye_outer < 0)
      throw std::invalid_argument(std::to_string(n_points) + " points for schema " + s.name + " (" +
                                  std::to_string(s.num_points) + " points, NME needs its eye corners)");
    const std::size_t n = static_cast<std::size_t>(n_points);
    nme = nme_per_image(std::vector<float>(pred, pred + 2 * n), std::vector<float>(truth, truth + 2 * n), 1, n,
                        static_cast<std::size_t>(s.left_eye_outer), static_cast<std::size_t>(s.right_eye_outer))[0];
    return 0;
  });
  return nme;
}
FK_EXPORT void fk_select_model(int i) {
  if (model_at(i)) g.model = i;
  redraw();
}
// Checks the bytes of model i's ONNX file (n bytes at `data`, fetched from
// `url`) before ONNX Runtime sees them, as `facekeys predict` does before
// OpenCV (check_keypoint_model_file: the card's SHA-256, names, shapes, opset,
// weight sizes): 0 when it passes, -1 with fk_last_error() ("<url>: ...") saying why not.
FK_EXPORT int fk_model_check_onnx(int i, const std::uint8_t* data, int n, const char* url) {
  const Model* m = model_at(i);
  return guarded_plain([&] {
    if (!m || n < 0) throw std::invalid_argument("fk_model_check_onnx: no such model");
    check_keypoint_model_file(m->card, data, static_cast<std::size_t>(n), url ? url : m->id + "/model.onnx");
  });
}
// The same for the face detector's file (check_face_detector_file).
FK_EXPORT int fk_detector_check_onnx(const std::uint8_t* data, int n, const char* url) {
  return guarded_plain([&] {
    if (n < 0) throw std::invalid_argument("fk_detector_check_onnx: bad size");
    check_face_detector_file(data, static_cast<std::size_t>(n), url ? url : "detector");
  });
}

// The bytes ONNX Runtime is handed for a model file that passed its check: the file with its int8
// weights widened here (fold_int8_weight_casts, onnx_fold.hpp), which ONNX Runtime Web would do
// in code it runs for the first time. Returns their size and sets *out to them (malloc'ed: the
// caller frees them); 0 when the file goes to ONNX Runtime as it is; -1 with fk_last_error().
FK_EXPORT int fk_runtime_onnx(const std::uint8_t* data, int n, const char* url, std::uint8_t** out) {
  int size = 0;
  const int r = guarded_plain([&] {
    if (n < 0 || !out) throw std::invalid_argument("fk_runtime_onnx: bad arguments");
    *out = nullptr;
    const std::string name = url ? url : "model";
    const std::vector<std::uint8_t> folded = fold_int8_weight_casts(data, static_cast<std::size_t>(n), name);
    if (folded.empty()) return;
    *out = static_cast<std::uint8_t*>(std::malloc(folded.size()));
    if (!*out) throw std::runtime_error(name + ": out of memory for ONNX Runtime's copy");
    std::memcpy(*out, folded.data(), folded.size());
    size = static_cast<int>(folded.size());
  });
  return r < 0 ? r : size;
}

// ---- the photo -------------------------------------------------------------------

// Checks a photo file before it is decoded, as `facekeys predict` does
// (read_image_header in image_header.hpp), from its first bytes `head` (up to
// fk_image_header_bytes()) and last bytes `tail` (up to fk_image_tail_bytes()).
// Writes the format (ImageFormat), the stored width and height (0 when the
// header does not say) and the JPEG DCT decode divisor (1, 2, 4, 8) that keeps
// at least `min_pixels` pixels (jpeg_decode_divisor) to out[0..3]. Returns 1 when a JPEG's end
// was not found from this head (data after it, as in a phone's motion photo):
// call again with the whole file as `head`. Returns -1 with the message in
// fk_last_error() ("<name>: ...") for a file that is not a JPEG, PNG or WebP,
// not whole, 0x0 or over kMaxImagePixels.
FK_EXPORT int fk_image_check(const char* name, const std::uint8_t* head, int n_head, const std::uint8_t* tail,
                                        int n_tail, double file_size, double min_pixels, int* out) {
  return guarded(name ? name : "photo", [&] {
    if (!out || n_head < 0 || n_tail < 0 || !(file_size >= 0)) throw std::invalid_argument("bad arguments");
    const ImageHeader h = read_image_header(head, static_cast<std::size_t>(n_head), tail,
                                            static_cast<std::size_t>(n_tail), static_cast<unsigned long long>(file_size));
    if (h.format == ImageFormat::Unknown) throw std::invalid_argument("not a JPEG, PNG or WebP image");
    if (h.needs_whole_file) return 1;
    if (!h.complete) throw std::invalid_argument(truncated_image_message(h.format));
    // A size the header states is within 1..kMaxImagePixels from here on, so it fits an int.
    const bool sized = h.size.has_value();
    if (sized) {
      const std::string problem = image_size_problem(h.size->width, h.size->height);
      if (!problem.empty()) throw std::invalid_argument(problem);
    }
    out[0] = static_cast<int>(h.format);
    out[1] = sized ? static_cast<int>(h.size->width) : 0;
    out[2] = sized ? static_cast<int>(h.size->height) : 0;
    out[3] = sized && h.format == ImageFormat::Jpeg
                 ? jpeg_decode_divisor(h.size->width, h.size->height, static_cast<long long>(min_pixels))
                 : 1;
    return 0;
  });
}
// Checks a whole JPEG file's compressed data (jpeg_scan.hpp), as `facekeys
// predict` does with libjpeg: the browser draws a JPEG with a damaged scan
// without an error. 0 when it decodes cleanly, -1 with fk_last_error()
// ("<name>: corrupt JPEG data: ...") when not.
FK_EXPORT int fk_jpeg_scan_check(const char* name, const std::uint8_t* data, int n) {
  return guarded(name ? name : "photo", [&] {
    if (n < 0) throw std::invalid_argument("bad arguments");
    const std::string problem = jpeg_scan_problem(data, static_cast<std::size_t>(n));
    if (!problem.empty()) throw std::invalid_argument(problem);
    return 0;
  });
}
FK_EXPORT int fk_image_header_bytes() { return static_cast<int>(kImageHeaderBytes); }
FK_EXPORT int fk_image_tail_bytes() { return static_cast<int>(kImageTailBytes); }

// The pixels a first decode of a photo must keep for model `model` (-1: detection
// only; keypoint_min_work_pixels): fk_image_check's min_pixels.
FK_EXPORT double fk_model_work_pixels(int model) {
  const Model* m = model_at(model);
  return static_cast<double>(keypoint_min_work_pixels(m ? &m->card : nullptr));
}

// A buffer for the photo's RGBA pixels (w x h, possibly a reduced-scale decode);
// JS fills it, then calls fk_photo_commit (a new photo: the previous one is
// freed first) or, with `again` 1, fk_photo_replace (the same photo decoded
// with more pixels, as the job asked).
FK_EXPORT std::uint8_t* fk_photo_alloc(int w, int h, int again) {
  std::uint8_t* p = nullptr;
  guarded("photo", [&] {
    if (!again) clear_photo();
    g.pending = ImageU8(w, h, 4);
    p = g.pending.data();
    return 0;
  });
  return p;
}

// The pixels written after fk_photo_alloc are of a photo stored orig_w x orig_h;
// they are shown after `quarter_turns_cw` turns and an optional mirror (its EXIF
// orientation, when the decoder did not apply it). Makes the photo's job.
FK_EXPORT int fk_photo_commit(int orig_w, int orig_h, int quarter_turns_cw, int mirror, const char* name) {
  return guarded("photo", [&] {
    if (g.pending.empty()) throw std::invalid_argument("no pixels");
    g.job = std::make_unique<PhotoJob>(
        Photo{std::move(g.pending), orig_w, orig_h, ((quarter_turns_cw % 4) + 4) % 4, mirror != 0, name ? name : ""});
    g.pending = ImageU8();
    g.tex = upload_photo_texture(g.job->pixels());
    g.fit_pending = true;
    overlay_changed();
    return 0;
  });
}

// The pixels written after fk_photo_alloc(w, h, 1) are the current photo
// decoded again with more pixels (PhotoJob::pixels_wanted): the job goes on with them.
FK_EXPORT int fk_photo_replace(int orig_w, int orig_h, int quarter_turns_cw, int mirror) {
  return guarded("photo", [&] {
    if (g.pending.empty() || !g.job) throw std::invalid_argument("no pixels");
    g.job->replace_pixels(
        Photo{std::move(g.pending), orig_w, orig_h, ((quarter_turns_cw % 4) + 4) % 4, mirror != 0, g.job->name()});
    g.pending = ImageU8();
    if (g.tex) glDeleteTextures(1, &g.tex);
    g.tex = upload_photo_texture(g.job->pixels());
    redraw();
    return 0;
  });
}

// Clears the photo, its points and its texture: after a photo that failed to
// decode, the previous one (with its points) would stay on screen otherwise.
FK_EXPORT void fk_clear_photo() {
  close_video();
  clear_photo();
}

// ---- the photo job (photo_job.hpp) ---------------------------------------------------

// Starts a run on the photo with model `model` (-1: faces only): detection
// unless `redetect` is 0 (the faces of the last run are kept) or a box drawn by
// hand is given (w > 0; original pixels). The panel's threshold applies.
FK_EXPORT int fk_job_start(int model, int redetect, float x, float y, float w, float h) {
  return guarded("photo", [&] {
    PhotoJob* job = active_job();
    if (!job) throw std::invalid_argument("no photo");
    const Model* m = model_at(model);
    PhotoOptions options = photo_options();
    options.redetect = redetect != 0;
    if (w > 0.f) options.manual_face = Box{x, y, w, h};
    job->start(m ? &m->card : nullptr, options);
    if (!g.warmup) {
      g.job_model = m ? model : -1;
      overlay_changed();
    }
    return 0;
  });
}

// The next network call as JSON, {"network": "detector" | "keypoints", "input":
// name, "shape": [...], "outputs": [names]}, "" when the run is done, or null on error.
FK_EXPORT const char* fk_job_next() {
  const int r = guarded("pipeline", [&] {
    g.json.clear();
    PhotoJob* job = active_job();
    if (!job) throw std::invalid_argument("no photo");
    if (const TensorRun* run = job->next()) g.json = run_json(*run);
    return 0;
  });
  return r < 0 ? nullptr : g.json.c_str();
}

// When fk_job_next() says "" but the run is not done: the pixels a finer
// decode of the photo must keep (fk_photo_alloc(.., 1), fk_photo_replace), else 0.
FK_EXPORT double fk_job_pixels_wanted() {
  const PhotoJob* job = active_job();
  return job ? static_cast<double>(job->pixels_wanted()) : 0.0;
}

// The current run's input: the product of its shape floats.
FK_EXPORT const float* fk_job_input() {
  PhotoJob* job = active_job();
  const TensorRun* run = job ? job->next() : nullptr;
  return run ? run->input.data() : nullptr;
}

// Where JS writes output k of the current run (n floats).
FK_EXPORT float* fk_job_output(int k, int n) { return output_buffer("pipeline", active_job(), k, n); }

// The outputs are written: the job takes them.
FK_EXPORT int fk_job_give() {
  return guarded("pipeline", [&] {
    PhotoJob* job = active_job();
    if (!job) throw std::invalid_argument("no photo");
    job->give();
    if (!g.warmup) overlay_changed();
    return 0;
  });
}

// The warm-up (app_glue.js): a blank photo's job, apart from the photo shown,
// that the fk_job_* functions drive until fk_warmup_end. Returns how many faces
// a photo's keypoint run of `model` takes at most (max_faces_per_keypoint_run):
// the warm-up runs the model once with each count, largest first
// (fk_warmup_keypoints), so that the first photo of several faces finds every
// input shape planned (a first 6-face photo: 0.46-0.58 s after a 1-face
// warm-up, 0.36-0.38 s after runs of 4, 3, 2 and 1; 2026-12-06, 2-core VM).
FK_EXPORT int fk_warmup_begin(int model) {
  return guarded("warm-up", [&] {
    g.warmup = std::make_unique<PhotoJob>(Photo{ImageU8(64, 64, 4), 0, 0, 0, false, "warm-up"});
    const Model* m = model_at(model);
    return m ? static_cast<int>(max_faces_per_keypoint_run(m->card, photo_options())) : 0;
  });
}

// Starts the warm-up's keypoint run of `model` on `faces` blank crops, with the
// flip test as a photo's (flip < 0) or as the video tracker's (0 or 1).
FK_EXPORT int fk_warmup_keypoints(int model, int faces, int flip) {
  return guarded("warm-up", [&] {
    const Model* m = model_at(model);
    if (!g.warmup || !m || faces < 1) throw std::invalid_argument("no warm-up job or model");
    PhotoOptions options = photo_options();
    if (flip >= 0) options.flip_test = flip != 0;
    options.face_boxes.assign(static_cast<std::size_t>(faces), Box{8.f, 8.f, 48.f, 48.f});
    g.warmup->start(&m->card, options);
    return 0;
  });
}
FK_EXPORT void fk_warmup_end() { g.warmup.reset(); }

// The result as `facekeys predict` writes it (predict_result.hpp; JS adds timing_ms).
FK_EXPORT const char* fk_job_result() {
  g.json.clear();
  guarded("result", [&] {
    if (!g.job) throw std::invalid_argument("no photo");
    g.json = g.job->result_json().dump();
    return 0;
  });
  return g.json.c_str();
}

// Draws the overlay as the view shows it (the panel's switches) onto w x h
// RGBA pixels of the photo (any scale), with the core's rasteriser: the page's
// "Export PNG", the same pixels as `facekeys predict --overlay`.
FK_EXPORT int fk_overlay_draw(std::uint8_t* rgba, int w, int h) {
  return guarded("export", [&] {
    if (!g.job) throw std::invalid_argument("no photo");
    if (!g.show_overlay) return 0;
    draw_overlay(ImageView<std::uint8_t>(rgba, w, h, 4), g.job->overlay(g.style));
    return 0;
  });
}

// ---- video: the core's face tracker (face_tracker.hpp) ---------------------------------

// A new video session (camera or file) with model `model` (-1: faces only): a
// new tracker, ids from 1. The view shows its frames from now on.
FK_EXPORT int fk_track_start(int model, int detect_every, int smoothing, int flip_test, int camera,
                             const char* name) {
  return guarded("video", [&] {
    close_video();
    App::Video& v = g.video;
    const Model* m = model_at(model);
    v.model = m ? model : -1;
    if (m) g.model = model;
    v.detect_every = std::max(1, detect_every);
    v.smoothing = smoothing != 0;
    v.flip_test = flip_test != 0;
    v.camera = camera != 0;
    v.source = name ? name : "";
    v.tracker = std::make_unique<FaceTracker>(m ? &m->card : nullptr, track_options());
    v.live = true;
    g.style.pose_axes = true;  // video's default (overlay.hpp); the panel's "pose" switches it
    g.fit_pending = true;
    overlay_changed();
    return 0;
  });
}
// Another model for the running video: a new tracker with the panel's options (new ids from 1);
// JavaScript calls it between frames.
FK_EXPORT int fk_track_set_model(int model) {
  return guarded("video", [&] {
    App::Video& v = g.video;
    if (!v.tracker) throw std::invalid_argument("no video session");
    const Model* m = model_at(model);
    v.model = m ? model : -1;
    if (m) g.model = model;
    v.tracker = std::make_unique<FaceTracker>(m ? &m->card : nullptr, track_options());
    v.run = nullptr;
    v.shown.clear();
    overlay_changed();
    return 0;
  });
}
// A buffer for the next frame's RGBA pixels (w x h); JS fills it, then fk_track_begin.
FK_EXPORT std::uint8_t* fk_frame_alloc(int w, int h) { return rgba_buffer(g.video.pending, w, h); }
// The pixels written after fk_frame_alloc are the frame at t_seconds: the tracker begins it.
FK_EXPORT int fk_track_begin(double t_seconds) {
  return guarded("video", [&] {
    App::Video& v = g.video;
    if (!v.tracker) throw std::invalid_argument("no video session");
    if (v.pending.empty()) throw std::invalid_argument("no pixels");
    v.next_w = v.pending.width();
    v.next_h = v.pending.height();
    v.run = nullptr;
    ImageU8 pixels = std::move(v.pending);
    v.pending = ImageU8();
    v.tracker->begin_frame(Photo{std::move(pixels), 0, 0, 0, false, v.source}, t_seconds);
    return 0;
  });
}
// The tracker's next network call as fk_job_next's JSON; "" when the frame is done
// (it is then shown with its overlay), null on error.
FK_EXPORT const char* fk_track_next() {
  const int r = guarded("video", [&] {
    g.json.clear();
    App::Video& v = g.video;
    if (!v.tracker) throw std::invalid_argument("no video session");
    const bool was_done = v.tracker->frame_done();
    v.run = v.tracker->next();
    if (v.run)
      g.json = run_json(*v.run);
    else if (!was_done)
      show_tracked_frame();
    return 0;
  });
  return r < 0 ? nullptr : g.json.c_str();
}
FK_EXPORT const float* fk_track_input() { return g.video.run ? g.video.run->input.data() : nullptr; }
FK_EXPORT float* fk_track_output(int k, int n) {
  return output_buffer("video", g.video.run ? g.video.tracker.get() : nullptr, k, n);
}
FK_EXPORT int fk_track_give() {
  return guarded("video", [&] {
    if (!g.video.tracker || !g.video.run) throw std::invalid_argument("no run");
    g.video.run = nullptr;
    g.video.tracker->give();
    return 0;
  });
}
// The last finished frame: FaceTracker::frame_json ({"frame", "t_ms", "detected", "faces": [{"id", "box",
// "score", "confidence", "points", "pose", "eyes", "mouth"}]}).
FK_EXPORT const char* fk_track_frame_json() {
  g.json.clear();
  guarded("video", [&] {
    if (!g.video.tracker) throw std::invalid_argument("no video session");
    g.json = g.video.tracker->frame_json().dump();
    return 0;
  });
  return g.json.c_str();
}
// The frame shown with its overlay, for the page's video layer: JavaScript writes
// the frame's w x h RGBA pixels to fk_video_layer(w, h), then fk_video_layer_draw()
// draws the overlay of its faces (the panel's switches) on them with the core's
// rasteriser (draw.hpp: the pixels of `facekeys track --overlay`) and returns them.
FK_EXPORT std::uint8_t* fk_video_layer(int w, int h) { return rgba_buffer(g.video.layer, w, h); }
FK_EXPORT int fk_video_layer_draw() {
  return guarded("video", [&] {
    App::Video& v = g.video;
    if (!v.tracker) throw std::invalid_argument("no video session");
    const int w = v.layer.width(), h = v.layer.height();
    if (g.show_overlay)
      draw_overlay(ImageView<std::uint8_t>(v.layer.data(), w, h, 4),
                   facekeys::tracked_faces_overlay(v.shown, v.tracker->card(), w, h, g.style));
    return 0;
  });
}
// The session's state and figures for the panel.
FK_EXPORT void fk_video_state(int live, int paused) {
  g.video.live = live != 0;
  g.video.paused = paused != 0;
  redraw();
}
FK_EXPORT void fk_video_stats(double fps, double grab, double detect, double pre, double infer, double total,
                              int frames, int dropped) {
  App::Video& v = g.video;
  v.fps = fps;
  v.t_grab = grab;
  v.t_detect = detect;
  v.t_pre = pre;
  v.t_infer = infer;
  v.t_total = total;
  v.frames = frames;
  v.dropped = dropped;
  // Shown a few times a second, as fps counters are: each draw of the panel is a WebGL frame of the
  // whole canvas (read back by a software compositor), and a tracked frame needs none (its layer).
  constexpr double kStatsEveryMs = 250;
  const double now = facekeys_web::web_now_ms();
  if (now - v.stats_drawn_ms >= kStatsEveryMs) {
    v.stats_drawn_ms = now;
    redraw();
  }
}
// Leaves video: the view goes back to the photo (if any).
FK_EXPORT void fk_track_close() {
  close_video();
  g.style.pose_axes = false;  // photos as `facekeys predict --overlay` draws them
  if (g.tex) g.fit_pending = true;
}

// ---- the panel's state ---------------------------------------------------------------

FK_EXPORT void fk_set_status(const char* msg, int is_error) {
  g.status = msg;
  g.status_error = is_error != 0;
  redraw();
}
FK_EXPORT void fk_set_busy(int busy) {
  if (busy && !g.busy) g.busy_since_ms = facekeys_web::web_now_ms();
  g.busy = busy != 0;
  redraw();
}
FK_EXPORT void fk_set_timings(double decode, double detect, double pre, double infer, double total) {
  g.t_decode = decode;
  g.t_detect = detect;
  g.t_pre = pre;
  g.t_infer = infer;
  g.t_total = total;
  redraw();
}
FK_EXPORT void fk_set_photo_list(int index, int count) {
  g.photo_index = index;
  g.photo_count = count;
  redraw();
}
FK_EXPORT void fk_set_threshold(float t) {
  g.threshold = t;
  redraw();
}
FK_EXPORT void fk_set_overlay(int on) {
  g.show_overlay = on != 0;
  overlay_changed();
}
FK_EXPORT void fk_set_heatmap(int on) {
  g.style.heatmaps = on != 0;
  overlay_changed();
}

// The current view, for tests: screen (canvas pixel) = (x + 0.5) * scale + (ox, oy).
FK_EXPORT const char* fk_view_json() {
  Json j = Json::object();
  const Model* cur = model_at(g.model);
  j["model"] = cur ? cur->id : std::string();
  j["model_note"] = cur && card_is_whole_image(cur->card) ? std::string(kWholeImageNote) : std::string();
  j["scale"] = static_cast<double>(g.view_scale);
  j["ox"] = static_cast<double>(g.view_x);
  j["oy"] = static_cast<double>(g.view_y);
  int fw = 0, fh = 0;
  glfwGetFramebufferSize(g.window, &fw, &fh);
  j["photo"] = g.tex && g.job ? g.job->name() : std::string();  // the photo shown ("" for none)
  j["faces"] = g.video_mode() ? g.video.shown.size() : g.job ? g.job->faces().size() : 0;
  j["video"] = g.video_mode();
  j["video_live"] = g.video.live;
  j["canvas_width"] = fw;
  j["canvas_height"] = fh;
  j["panel"] = Json(Json::Array{Json(static_cast<double>(g.panel_pos.x)), Json(static_cast<double>(g.panel_pos.y)),
                                Json(static_cast<double>(g.panel_size.x)), Json(static_cast<double>(g.panel_size.y))});
  g.json = j.dump();
  return g.json.c_str();
}

}  // extern "C"
