#include "predict/track.hpp"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#include <stdexcept>
#include <string>

#include "facekeys/draw.hpp"
#include "facekeys/file_io.hpp"
#include "facekeys/json.hpp"
#include "predict/predict.hpp"

namespace facekeys {
namespace fs = std::filesystem;

namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_stop_signal(int) { g_stop = 1; }

// SIGINT / SIGTERM end the frame loop after the current frame (the outputs are
// completed, not left half-written); the previous handlers come back after.
struct StopSignals {
  void (*old_int)(int), (*old_term)(int);
  StopSignals() {
    g_stop = 0;
    old_int = std::signal(SIGINT, on_stop_signal);
    old_term = std::signal(SIGTERM, on_stop_signal);
  }
  ~StopSignals() {
    std::signal(SIGINT, old_int);
    std::signal(SIGTERM, old_term);
  }
};

bool is_camera_index(const std::string& s) {
  if (s.empty() || s.size() > 4) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// A file written under a temporary name beside it and renamed over the target
// when complete (file_io.hpp's rule, for files written as they grow). The
// temporary name keeps the extension: VideoWriter picks its container by it.
// A target that exists and is not a regular file (/dev/null, a FIFO) is
// written directly: renaming over it would replace it.
class PendingFile {
 public:
  explicit PendingFile(std::string path) : path_(std::move(path)) {
    std::error_code ec;
    if (fs::exists(path_, ec) && !fs::is_regular_file(path_, ec)) {
      tmp_ = path_;
      done_ = true;
      return;
    }
    const fs::path p(path_);
    tmp_ = (p.parent_path() / (p.stem().string() + ".tmp-" + std::to_string(::getpid()) + p.extension().string()))
               .string();
  }
  const std::string& tmp() const { return tmp_; }
  const std::string& path() const { return path_; }
  void commit() {
    if (done_) return;
    std::error_code ec;
    fs::rename(tmp_, path_, ec);
    if (ec) throw std::runtime_error(path_ + ": cannot write: " + ec.message());
    done_ = true;
  }
  ~PendingFile() {
    if (done_) return;
    std::error_code ignored;
    fs::remove(tmp_, ignored);
  }
  PendingFile(const PendingFile&) = delete;
  PendingFile& operator=(const PendingFile&) = delete;

 private:
  std::string path_, tmp_;
  bool done_ = false;
};

int fourcc_for(const std::string& path) {
  const std::string ext = extension_lower(path);
  if (ext == ".avi") return cv::VideoWriter::fourcc('M', 'J', 'P', 'G');
  return cv::VideoWriter::fourcc('m', 'p', '4', 'v');  // .mp4 .m4v .mov .mkv: MPEG-4 part 2, in every FFmpeg
}

// One line on stderr redrawn in place: frames done of the file's count, fps, ETA.
class FrameProgress {
 public:
  FrameProgress(long long total, bool show) : total_(total), show_(show && total > 0 && ::isatty(2)) {}
  void update(long long done, double seconds) {
    if (!show_ || (done % 5 != 0 && done != total_)) return;
    constexpr int kWidth = 24;
    const double fraction = std::min(1.0, static_cast<double>(done) / total_);
    std::string bar(static_cast<std::size_t>(fraction * kWidth + 0.5), '#');
    bar.resize(kWidth, '.');
    const double fps = seconds > 0 ? done / seconds : 0;
    const double eta = fps > 0 ? (total_ - done) / fps : -1;
    long t = eta >= 0 ? static_cast<long>(eta + 0.5) : -1;
    char eta_s[32] = "--:--";
    if (t >= 0) std::snprintf(eta_s, sizeof eta_s, "%ld:%02ld", t / 60, t % 60);
    std::fprintf(stderr, "\rtrack [%s] %lld/%lld frames  %.1f fps  ETA %s   ", bar.c_str(), done, total_, fps, eta_s);
    std::fflush(stderr);
  }
  void finish() {
    if (show_) std::fprintf(stderr, "\r\033[K");
  }

 private:
  long long total_;
  bool show_;
};

}  // namespace

std::string video_output_problem(const std::string& path) {
  const std::string ext = extension_lower(path);
  for (const char* known : {".mp4", ".m4v", ".mov", ".mkv", ".avi"})
    if (ext == known) return {};
  return "an overlay video must end in .mp4, .m4v, .mov, .mkv or .avi" +
         (ext.empty() ? std::string(" (no extension)") : " (not " + ext + ")");
}

TrackSummary run_track(const TrackConfig& cfg) {
  if (cfg.source.empty()) throw std::runtime_error("track: no video file or camera index given");
  if (!cfg.overlay.empty())
    if (const std::string why = video_output_problem(cfg.overlay); !why.empty())
      throw std::runtime_error(cfg.overlay + ": " + why);
  const bool camera = is_camera_index(cfg.source) && !fs::exists(cfg.source);
  std::error_code ec;
  if (!camera) {
    if (fs::is_directory(cfg.source, ec)) throw std::runtime_error(cfg.source + ": a folder, not a video file");
    if (!fs::is_regular_file(cfg.source, ec)) throw std::runtime_error(cfg.source + ": no such video file");
    if (fs::file_size(cfg.source, ec) == 0) throw std::runtime_error(cfg.source + ": empty file, not a video");
  }

  // The networks first: a bad model fails before a camera is opened.
  const FaceDetector detector(cfg.detector_path.empty() ? default_detector_path() : cfg.detector_path);
  const std::unique_ptr<KeypointModel> model = load_keypoint_model(cfg.model_dir, "track");
  FaceTracker tracker(&model->card(), cfg.options);

  // OpenCV's and FFmpeg's own messages would come before ours and say less (a truncated .mp4:
  // FFmpeg's "moov atom not found", then GStreamer's failed assertion as OpenCV tries its next
  // backend): opening is silent, and our error names the file; afterwards OpenCV reports errors
  // only, and FFmpeg nothing (OPENCV_FFMPEG_LOGLEVEL, read when OpenCV first loads FFmpeg, unless
  // the user set it: a file that breaks off later gets our warning).
  ::setenv("OPENCV_FFMPEG_LOGLEVEL", "-8", /*overwrite=*/0);
  const auto old_level = cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
  struct RestoreLog {
    cv::utils::logging::LogLevel level;
    ~RestoreLog() { cv::utils::logging::setLogLevel(level); }
  } restore_log{old_level};

  const std::string what = camera ? "camera " + cfg.source : cfg.source;
  cv::VideoCapture cap;
  try {
    if (camera)
      cap.open(std::stoi(cfg.source));
    else
      cap.open(cfg.source);
  } catch (const cv::Exception& e) {
    throw std::runtime_error(what + ": cannot open: " + e.msg);
  }
  cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_ERROR);
  if (!cap.isOpened())
    throw std::runtime_error(camera ? what + ": not available (no such camera, or it is in use)"
                                    : what + ": not a video OpenCV can read (corrupt, or an unsupported format)");

  TrackSummary s;
  s.fps_source = cap.get(cv::CAP_PROP_FPS);
  if (!(s.fps_source > 0 && s.fps_source < 1000)) s.fps_source = camera ? 0 : 30;
  if (!camera) {
    const double n = cap.get(cv::CAP_PROP_FRAME_COUNT);
    if (n > 0 && n < 1e9) s.expected_frames = static_cast<long long>(n);
  }
  if (cfg.max_frames > 0 && (s.expected_frames == 0 || cfg.max_frames < s.expected_frames))
    s.expected_frames = camera ? 0 : cfg.max_frames;

  // Outputs open once the first frame is read: a source that gives no frame leaves none.
  std::unique_ptr<PendingFile> out_file, overlay_file;
  std::ofstream out_stream;
  std::ostream* out = nullptr;
  cv::VideoWriter writer;
  cv::Size writer_size;  // a frame of another size (a camera's mode change) is left out of the overlay

  StopSignals signals;
  FrameProgress progress(s.expected_frames, !cfg.quiet && !cfg.bench);
  const auto t_start = Clock::now();
  const auto t_camera0 = Clock::now();
  cv::Mat bgr;
  for (;;) {
    if (g_stop) {
      s.interrupted = true;
      break;
    }
    if (cfg.max_frames > 0 && s.frames >= cfg.max_frames) break;
    JobTimes times;
    auto t = Clock::now();
    bool got = false;
    try {
      got = cap.read(bgr);
    } catch (const cv::Exception& e) {
      if (s.frames == 0) throw std::runtime_error(what + ": cannot decode: " + e.msg);
      std::fprintf(stderr, "track: %s: stopped at frame %lld: %s\n", what.c_str(), s.frames, e.msg.c_str());
      break;
    }
    if (!got || bgr.empty()) {
      if (s.frames == 0)
        throw std::runtime_error(camera ? what + ": opened but gives no frames"
                                        : what + ": no frame could be decoded (corrupt, or not a video)");
      break;
    }
    if (bgr.type() != CV_8UC3) {
      cv::Mat conv;
      if (bgr.channels() == 1)
        cv::cvtColor(bgr, conv, cv::COLOR_GRAY2BGR);
      else if (bgr.channels() == 4)
        cv::cvtColor(bgr, conv, cv::COLOR_BGRA2BGR);
      else
        throw std::runtime_error(what + ": frames of an unsupported pixel type");
      bgr = conv;
    }
    if (s.frames == 0) {
      s.width = bgr.cols;
      s.height = bgr.rows;
    } else if (bgr.cols != s.width || bgr.rows != s.height) {
      // The tracker ends its tracks on a frame of another size (face_tracker.hpp).
      std::fprintf(stderr, "track: %s: frame %lld is %dx%d, the first was %dx%d: tracks start again\n",
                   what.c_str(), s.frames, bgr.cols, bgr.rows, s.width, s.height);
      s.width = bgr.cols;
      s.height = bgr.rows;
    }
    ImageU8 rgb(bgr.cols, bgr.rows, 3);
    cv::Mat rgb_mat(bgr.rows, bgr.cols, CV_8UC3, rgb.data());
    cv::cvtColor(bgr, rgb_mat, cv::COLOR_BGR2RGB);
    // Files: the frame's time from its index (strictly increasing, as the tracker needs);
    // cameras: the wall clock.
    const double t_s = camera ? std::chrono::duration<double>(Clock::now() - t_camera0).count()
                              : static_cast<double>(s.frames) / s.fps_source;
    times.decode = ms_since(t);

    tracker.begin_frame(Photo{std::move(rgb), 0, 0, 0, false, what}, t_s);
    drive_tracker_frame(tracker, detector, model.get(), &times);

    t = Clock::now();
    if (s.frames == 0) {
      if (!cfg.bench) {
        if (!cfg.output.empty() && cfg.output != "-") {
          out_file = std::make_unique<PendingFile>(cfg.output);
          out_stream.open(out_file->tmp(), std::ios::trunc);
          if (!out_stream) throw std::runtime_error(cfg.output + ": cannot write");
          out = &out_stream;
        } else {
          out = &std::cout;
        }
      }
      if (!cfg.overlay.empty()) {
        overlay_file = std::make_unique<PendingFile>(cfg.overlay);
        const double fps = s.fps_source > 0 ? s.fps_source : 30;
        writer_size = cv::Size(s.width, s.height);
        writer.open(overlay_file->tmp(), fourcc_for(cfg.overlay), fps, writer_size);
        if (!writer.isOpened())
          throw std::runtime_error(cfg.overlay + ": OpenCV cannot write this video (no encoder for it here?)");
      }
    }
    if (out) {
      *out << tracker.frame_json().dump() << '\n';
      if (out == &std::cout) std::cout.flush();  // a pipe sees each frame as it is done
    }
    if (writer.isOpened()) {
      ImageU8 drawn(bgr.cols, bgr.rows, 3);
      cv::Mat drawn_mat(bgr.rows, bgr.cols, CV_8UC3, drawn.data());
      cv::cvtColor(bgr, drawn_mat, cv::COLOR_BGR2RGB);
      OverlayStyle style;
      style.pose_axes = true;  // video shows head pose, as the page's video view does (overlay.hpp)
      draw_overlay(drawn.view(), tracker.overlay(style));
      cv::Mat drawn_bgr;
      cv::cvtColor(drawn_mat, drawn_bgr, cv::COLOR_RGB2BGR);
      if (drawn_bgr.cols == writer_size.width && drawn_bgr.rows == writer_size.height) writer.write(drawn_bgr);
    }
    s.output += ms_since(t);
    s.decode += times.decode;
    s.detect += times.detect;
    s.preprocess += times.preprocess;
    s.infer += times.infer;
    if (tracker.detected()) ++s.detector_frames;
    ++s.frames;
    progress.update(s.frames, std::chrono::duration<double>(Clock::now() - t_start).count());
  }
  s.seconds = std::chrono::duration<double>(Clock::now() - t_start).count();
  progress.finish();

  if (!camera && s.expected_frames > 0 && s.frames < s.expected_frames && !s.interrupted && cfg.max_frames == 0)
    std::fprintf(stderr, "track: %s: %lld of the %lld frames its header announces could be read\n", what.c_str(),
                 s.frames, s.expected_frames);
  if (writer.isOpened()) writer.release();
  if (out_file) {
    out_stream.close();
    if (!out_stream) throw std::runtime_error(cfg.output + ": write failed (disk full?)");
    out_file->commit();
  }
  if (overlay_file) overlay_file->commit();
  return s;
}

std::string track_summary_json(const TrackSummary& s, const std::string& model, const TrackOptions& options) {
  const double n = s.frames > 0 ? static_cast<double>(s.frames) : 1.0;
  Json j = Json::object();
  j["frames"] = static_cast<double>(s.frames);
  j["width"] = s.width;
  j["height"] = s.height;
  j["model"] = model;
  j["detect_every"] = options.detect_every;
  j["smoothing"] = options.smoothing;
  if (options.smoothing)
    j["one_euro"] = Json(Json::Array{Json(options.one_euro.min_cutoff), Json(options.one_euro.beta),
                                     Json(options.one_euro.d_cutoff), Json(options.one_euro.beta_shared)});
  j["detector_frames"] = static_cast<double>(s.detector_frames);
  j["seconds"] = round_to(s.seconds, 0.001);
  j["fps"] = round_to(s.seconds > 0 ? s.frames / s.seconds : 0, 0.01);
  Json ms = Json::object();
  ms["decode"] = round_to(s.decode / n, 0.01);
  ms["detect"] = round_to(s.detect / n, 0.01);
  ms["preprocess"] = round_to(s.preprocess / n, 0.01);
  ms["infer"] = round_to(s.infer / n, 0.01);
  ms["output"] = round_to(s.output / n, 0.01);
  ms["total"] = round_to(1000 * s.seconds / n, 0.01);
  j["ms_per_frame"] = ms;
  j["detect_ms_per_detector_frame"] = round_to(s.detector_frames ? s.detect / s.detector_frames : 0, 0.01);
  return j.dump();
}

std::string track_summary_text(const TrackSummary& s) {
  const double n = s.frames > 0 ? static_cast<double>(s.frames) : 1.0;
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "track: %lld frames (%dx%d) in %.2f s, %.1f fps%s; ms per frame: decode %.1f, detect %.1f (detector "
                "on %lld frames, %.1f each), preprocess %.1f, infer %.1f, output %.1f",
                s.frames, s.width, s.height, s.seconds, s.seconds > 0 ? s.frames / s.seconds : 0.0,
                s.interrupted ? " (interrupted)" : "", s.decode / n, s.detect / n, s.detector_frames,
                s.detector_frames ? s.detect / s.detector_frames : 0.0, s.preprocess / n, s.infer / n, s.output / n);
  return buf;
}

}  // namespace facekeys
