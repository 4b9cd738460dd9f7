// `facekeys track`: faces followed through a video file or a camera with the
// core's FaceTracker (facekeys/face_tracker.hpp), its networks on OpenCV DNN
// (predict.hpp), frames from OpenCV's VideoCapture, the overlay video through
// VideoWriter. docs/VIDEO.md.
#pragma once

#include <string>

#include "facekeys/face_tracker.hpp"

namespace facekeys {

struct TrackConfig {
  std::string source;         // a video file, or a camera index (digits only: 0, 1, ...)
  std::string model_dir;      // empty: default_model_dir()
  std::string detector_path;  // empty: default_detector_path()
  std::string output;         // frames JSONL (-o); empty: stdout
  std::string overlay;        // the overlay video (--overlay out.mp4 / .avi / .mkv)
  TrackOptions options;
  long long max_frames = 0;   // stop after this many frames (0: the whole file; a camera until Ctrl-C)
  bool quiet = false;         // no progress bar, no summary
  bool bench = false;         // no frame lines: one JSON summary line on stdout (fps, per-stage ms)
};

// What a run did: frames, and milliseconds in each stage over all of them.
struct TrackSummary {
  long long frames = 0, detector_frames = 0, expected_frames = 0;  // expected: the file's frame count (0: unknown)
  int width = 0, height = 0;
  double fps_source = 0;                                           // the video's frame rate
  double seconds = 0;                                              // wall time of the frame loop
  double decode = 0, detect = 0, preprocess = 0, infer = 0, output = 0;  // ms, summed over frames
  bool interrupted = false;                                        // stopped by SIGINT / SIGTERM
};

// Runs the tracker over the source; writes one tracker.frame_json() per line to
// the output (a file is written to a temporary name and renamed at the end) and
// the overlay video. Throws std::runtime_error naming the file (or camera) at
// fault: missing file, not a video OpenCV can read, an unavailable camera, an
// overlay name with no known video type; nothing half-written stays behind.
TrackSummary run_track(const TrackConfig& config);

// The --overlay file's problem (an extension with no video type: .mp4, .m4v,
// .mov, .mkv, .avi), or "" when it can be written.
std::string video_output_problem(const std::string& path);

// The summary's JSON (--bench) and its human line (stderr at the end).
std::string track_summary_json(const TrackSummary& s, const std::string& model, const TrackOptions& options);
std::string track_summary_text(const TrackSummary& s);

}  // namespace facekeys
