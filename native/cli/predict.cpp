// `facekeys predict`: faces and keypoints on photos with exported models
// (OpenCV DNN; see predict.hpp and docs/PREDICT.md).
#include <CLI/CLI.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/cli_checks.hpp"
#include "cli/commands.hpp"
#include "predict/predict.hpp"

namespace facekeys {

void add_predict_command(CLI::App& app) {
  auto cfg = std::make_shared<PredictConfig>();
  auto* cmd = app.add_subcommand(
      "predict",
      "Detect faces (UltraFace) and their keypoints in photos with an exported model; one JSON object per image on "
      "stdout, errors per image on stderr (exit status 1 if any image failed)");
  cmd->add_option("images", cfg->images, "Image files (any format OpenCV reads; EXIF orientation applied)")
      ->required();
  cmd->add_option("-m,--model", cfg->model_dir,
                  "Exported model folder (model.onnx + model.json from `facekeys export`); default: "
                  "$FACEKEYS_MODEL, else assets/models/ (see docs/PREDICT.md)");
  cmd->add_option("--detector", cfg->detector_path,
                  "UltraFace RFB-320 ONNX; default: $FACEKEYS_DETECTOR, else assets/detectors/ultraface/");
  cmd->add_option("--overlay", cfg->overlay, "Draw boxes and keypoints on the (single) image into this file");
  cmd->add_option("--overlay-dir", cfg->overlay_dir, "Draw every image into DIR/<name>.png");
  cmd->add_option("--score-threshold", cfg->detect.score_threshold, "Detector face probability threshold")
      ->capture_default_str()->check(cli::between(0.0, 1.0));
  cmd->add_option("--iou", cfg->detect.iou_threshold, "NMS IoU threshold")->capture_default_str()->check(
      cli::between(0.0, 1.0));
  cmd->add_option("--max-faces", cfg->detect.max_faces, "Most faces per image")->capture_default_str()->check(
      cli::between(1, 10000));
  cmd->add_option("--min-face", cfg->detect.min_face_px, "Ignore faces smaller than this (pixels)")
      ->capture_default_str()->check(cli::non_negative());
  cmd->add_flag("--detect-only", cfg->detect_only, "Faces only, no keypoint model");
  cmd->callback([cfg] {
    // Usage errors in the words of the command line, before any work.
    if (!cfg->overlay.empty() && cfg->images.size() != 1)
      throw std::runtime_error("predict: --overlay takes one image; use --overlay-dir DIR for several");
    if (!cfg->detect_only && cfg->model_dir.empty() && default_model_dir().empty())
      throw std::runtime_error("predict: no keypoint model: pass --model DIR (from `facekeys export`), put one in "
                               "assets/models/, or use --detect-only");
    const int failed = run_predict(*cfg);
    // main() prints this and exits with status 1.
    if (failed > 0)
      throw std::runtime_error("predict: " + std::to_string(failed) + " of " + std::to_string(cfg->images.size()) +
                               " images failed (see the error lines above)");
  });
}

}  // namespace facekeys
