// facekeys: facial keypoint detection, from dataset to trained model.
//
//   facekeys pack imm <dir> -o imm.pack      decode a dataset once
//   facekeys train --pack imm.pack ...       train on CUDA or CPU
//   facekeys eval run/best.safetensors ...   metrics as JSON on stdout
//   facekeys report run/ ...                 plots and overlays
//   facekeys export run/best.safetensors -o DIR   model.onnx + model.json (runs facekeys-export)
//   facekeys predict photo.jpg ...           faces and keypoints on photos, JSON lines
//   facekeys track video.mp4 | 0 ...         faces followed through a video or a camera, JSON lines
//   facekeys bench / sweep                   training throughput; the seed's models in one table
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstring>
#include <exception>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
  // The exporter links libonnx, kept out of this LibTorch process: hand over to facekeys-export.
  if (argc >= 2 && std::strcmp(argv[1], "export") == 0) return facekeys::forward_to_exporter(argc, argv);
  CLI::App app{"facekeys: facial keypoint detection (IMM 58 points, iBUG 68 points) with LibTorch", "facekeys"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "facekeys 0.1.0");
  facekeys::add_train_command(app);
  facekeys::add_eval_command(app);
  facekeys::add_bench_command(app);
  facekeys::add_sweep_command(app);
  app.add_subcommand("export", "Write a checkpoint as model.onnx + model.json (runs facekeys-export; "
                               "`facekeys export --help` for its options)");
#ifdef FACEKEYS_WITH_OPENCV
  facekeys::add_pack_command(app);
  facekeys::add_report_command(app);
#ifdef FACEKEYS_WITH_PREDICT
  facekeys::add_predict_command(app);
#endif
#ifdef FACEKEYS_WITH_TRACK
  facekeys::add_track_command(app);
#endif
#else
  app.footer("This build has no OpenCV: `pack`, `report`, `predict` and `track` are not available.");
#endif
  if (argc < 2) {  // the list of commands says more than "A subcommand is required"
    std::fputs(app.help().c_str(), stderr);
    return 1;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    // Commands run inside parse() through their callbacks.
    std::fprintf(stderr, "facekeys: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
