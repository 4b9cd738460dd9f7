// `facekeys eval`: a checkpoint (LibTorch) or an exported model (OpenCV DNN)
// scored on a pack split, metrics as JSON on stdout (eval/evaluate.hpp).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <stdexcept>

#include "cli/cli_checks.hpp"
#include "cli/commands.hpp"
#include "eval/evaluate.hpp"
#include "facekeys/file_io.hpp"
#include "train/checkpoint.hpp"
#ifdef FACEKEYS_WITH_PREDICT
#include "predict/predict.hpp"
#endif

namespace facekeys {
namespace {

// `facekeys eval MODEL_DIR`: an exported model (model.onnx + model.json) run by
// OpenCV DNN (predict/predict.cpp), scored with the same metrics as a checkpoint.
void eval_exported_model(const std::string& dir, const std::string& pack_path, Split split,
                         const std::string& predictions_path) {
#ifdef FACEKEYS_WITH_PREDICT
  const Pack pack = read_pack(pack_path);
  const OnnxSplitPredictions o = predict_pack_split_onnx(dir, pack, split);
  Predictions p;
  p.spec.arch = o.card.arch;
  p.spec.schema = o.card.schema;
  p.spec.input_w = o.card.input.width;
  p.spec.input_h = o.card.input.height;
  p.spec.channels = o.card.input.channels;
  p.spec.num_points = o.card.num_points;
  p.spec.output = output_kind_from_name(o.card.output.kind);
  p.split = split;
  p.pack_index = o.pack_index;
  p.pred_norm = o.pred_norm;
  p.gt_norm = o.gt_norm;
  const int k = o.card.num_points;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const auto pp = pack_normalized_to_original(pack, p.pack_index[i], &p.pred_norm[i * k * 2], k);
    const auto gp = pack_normalized_to_original(pack, p.pack_index[i], &p.gt_norm[i * k * 2], k);
    p.pred_px.insert(p.pred_px.end(), pp.begin(), pp.end());
    p.gt_px.insert(p.gt_px.end(), gp.begin(), gp.end());
  }
  Json m = metrics_json(p, pack);
  m["model_dir"] = dir;
  m["name"] = o.card.name;
  m["runtime"] = "opencv-dnn";
  m["flip_test"] = o.card.onnx.flip_test;
  if (!predictions_path.empty()) write_file_atomic(predictions_path, predictions_json(p, pack).dump() + "\n");
  std::cout << m.dump() << std::endl;
  std::fprintf(stderr, "%s (ONNX, OpenCV DNN) on %s/%s: %zu images, MSE %.6f, mean error %.2f px\n",
               o.card.name.c_str(), pack_path.c_str(), split_name(split), p.size(), m.at("mse").as_number(),
               m.at("mean_px_error").as_number());
#else
  (void)pack_path, (void)split, (void)predictions_path;
  throw std::runtime_error(dir + ": scoring an exported model needs OpenCV DNN, which this build lacks");
#endif
}

}  // namespace

void add_eval_command(CLI::App& app) {
  struct Args {
    std::string checkpoint, pack, predictions, kaggle_csv, heatmaps;
    Split split = Split::Val;
    DeviceChoice device = DeviceChoice::Auto;
    bool flip_test = false;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("eval", "Score a checkpoint on a pack split; JSON metrics on stdout");
  cmd->add_option("checkpoint", a->checkpoint,
                  "Checkpoint (.safetensors), or an exported model folder (model.onnx + model.json, run by OpenCV DNN)")
      ->required()->check(CLI::ExistingPath);
  cmd->add_option("--pack", a->pack, "Dataset pack")->required()->check(CLI::ExistingFile);
  cli::add_enum_option(cmd, "--split", a->split, "train, val or test", {"train", "val", "test"}, split_from_name,
                       split_name);
  cli::add_enum_option(cmd, "--device", a->device, "auto, cpu or cuda", {"auto", "cpu", "cuda"},
                       device_choice_from_name, device_choice_name);
  cmd->add_option("--predictions", a->predictions, "Also write per-image predictions (JSON) here");
  cmd->add_option("--kaggle-csv", a->kaggle_csv,
                  "Also write predictions as Id,Predicted (Id = <image>_<point>_<x|y>, original 0-based pixels)");
  cmd->add_option("--heatmaps", a->heatmaps,
                  "Heatmap models: write the maps of the best, median and worst image (safetensors) for `report`");
  cmd->add_flag("--flip-test", a->flip_test,
                 "Checkpoints: average with the prediction on the mirrored image (an exported model has it in its "
                 "graph when exported with --flip-test)");
  cmd->callback([a] {
    if (std::filesystem::is_directory(a->checkpoint)) {
      if (a->flip_test)
        throw std::runtime_error("--flip-test: " + a->checkpoint +
                                 " is an exported model, whose graph has the flip test or not (export --flip-test)");
      return eval_exported_model(a->checkpoint, a->pack, a->split, a->predictions);
    }
    Checkpoint ck = load_checkpoint(a->checkpoint);
    const Pack pack = read_pack(a->pack);
    Predictions p =
        predict_split(*ck.model, ck.spec, pack, a->pack, a->split, a->device, 64, a->flip_test);
    Json m = metrics_json(p, pack);
    m["checkpoint"] = a->checkpoint;
    m["flip_test"] = a->flip_test;
    if (!a->predictions.empty()) write_file_atomic(a->predictions, predictions_json(p, pack).dump() + "\n");
    if (!a->kaggle_csv.empty()) write_file_atomic(a->kaggle_csv, kaggle_csv(p, pack));
    if (!a->heatmaps.empty()) write_heatmap_samples(a->heatmaps, *ck.model, p, pack, a->pack, a->device, a->flip_test);
    std::cout << m.dump() << std::endl;
    std::fprintf(stderr, "%s on %s/%s: %zu images, MSE %.6f, mean error %.2f px\n", ck.spec.arch.c_str(),
                 a->pack.c_str(), split_name(a->split), p.size(), m.at("mse").as_number(),
                 m.at("mean_px_error").as_number());
  });
}

}  // namespace facekeys
