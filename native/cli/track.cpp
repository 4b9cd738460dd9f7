// `facekeys track`: faces and keypoints followed through a video file or a
// camera (the core's FaceTracker on OpenCV DNN; see predict/track.hpp and
// docs/VIDEO.md).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>

#include "cli/cli_checks.hpp"
#include "cli/commands.hpp"
#include "predict/predict.hpp"
#include "predict/track.hpp"

namespace facekeys {

void add_track_command(CLI::App& app) {
  auto cfg = std::make_shared<TrackConfig>();
  auto no_smoothing = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand(
      "track",
      "Follow faces and their keypoints through a video file or a camera (detector every N frames, tracks with ids, "
      "One Euro smoothing); one JSON object per frame and line");
  cmd->add_option("source", cfg->source, "A video file (any OpenCV/FFmpeg reads), or a camera index (0, 1, ...)")
      ->required();
  cmd->add_option("-m,--model", cfg->model_dir,
                  "Exported model folder (model.onnx + model.json); default: $FACEKEYS_MODEL, else assets/models/");
  cmd->add_option("--detector", cfg->detector_path,
                  "UltraFace RFB-320 ONNX; default: $FACEKEYS_DETECTOR, else assets/detectors/ultraface/");
  cmd->add_option("-o,--output", cfg->output, "Write the frames' JSON lines to this file (default, or -: stdout)");
  cmd->add_option("--overlay", cfg->overlay, "Draw the faces on every frame into this video (.mp4, .mkv, .avi)");
  cmd->add_option("--detect-every", cfg->options.detect_every,
                  "Frames between detector runs while faces are tracked (1: every frame)")
      ->capture_default_str()->check(cli::between(1, 100000));
  cmd->add_flag("--no-smoothing", *no_smoothing, "Raw points (no One Euro filter)");
  cmd->add_flag("--flip-test", cfg->options.flip_test,
                "Also run each face's mirror image, as photos do when the model card asks (twice the keypoint "
                "model's time)");
  cmd->add_option("--smoothing-min-cutoff", cfg->options.one_euro.min_cutoff,
                  "One Euro filter: cut-off (Hz) for a still face; lower is steadier and lags more")
      ->capture_default_str()->check(cli::positive());
  cmd->add_option("--smoothing-beta", cfg->options.one_euro.beta,
                  "One Euro filter: cut-off rise per pixel/s of speed; higher lags less on a moving face")
      ->capture_default_str()->check(cli::non_negative());
  cmd->add_option("--smoothing-face-beta", cfg->options.one_euro.beta_shared,
                  "One Euro filter: cut-off rise per pixel/s of the face's motion as a whole (shift, scale, "
                  "rotation); higher lags less on a moving face, and a still face's jitter hardly opens it")
      ->capture_default_str()->check(cli::non_negative());
  cmd->add_option("--min-confidence", cfg->options.min_confidence,
                  "A track ends when the model's confidence in its crop falls below this")
      ->capture_default_str()->check(cli::between(0.0, 1.0));
  cmd->add_option("--score-threshold", cfg->options.detect.score_threshold, "Detector face probability threshold")
      ->capture_default_str()->check(cli::between(0.0, 1.0));
  cmd->add_option("--max-faces", cfg->options.detect.max_faces, "Most faces tracked at once")
      ->capture_default_str()->check(cli::between(1, 10000));
  cmd->add_option("--min-face", cfg->options.detect.min_face_px, "Ignore faces smaller than this (pixels)")
      ->capture_default_str()->check(cli::non_negative());
  cmd->add_option("--frames", cfg->max_frames, "Stop after this many frames (a camera runs until Ctrl-C otherwise)")
      ->check(cli::between(1, 1e12));
  cmd->add_flag("-q,--quiet", cfg->quiet, "No progress bar and no summary on stderr");
  cmd->add_flag("--bench", cfg->bench,
                "Benchmark: no frame lines; one JSON line on stdout with fps and milliseconds per stage");
  cmd->callback([cfg, no_smoothing] {
    if (*no_smoothing) cfg->options.smoothing = false;
    if (cfg->bench && !cfg->output.empty())
      throw std::runtime_error("track: --bench writes no frames: leave out -o (or --bench)");
    const TrackSummary s = run_track(*cfg);
    if (cfg->bench) {
      const std::string model = cfg->model_dir.empty() ? default_model_dir() : cfg->model_dir;
      std::cout << track_summary_json(s, model, cfg->options) << std::endl;
    }
    if (!cfg->quiet) std::fprintf(stderr, "%s\n", track_summary_text(s).c_str());
  });
}

}  // namespace facekeys
