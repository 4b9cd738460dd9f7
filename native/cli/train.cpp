// Subcommands that need LibTorch only: train, eval, bench, sweep.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <stdexcept>

#include "eval/bench.hpp"
#include "train/checkpoint.hpp"
#include "cli/cli_checks.hpp"
#include "cli/commands.hpp"
#include "eval/evaluate.hpp"
#include "facekeys/file_io.hpp"
#include "eval/sweep.hpp"
#include "train/trainer.hpp"
#ifdef FACEKEYS_WITH_PREDICT
#include "predict/predict.hpp"
#endif

namespace facekeys {
namespace {

// `--init DIR` with DIR an exported model: its weights, read out of the ONNX by
// facekeys-export (libonnx stays out of this process), into the run folder,
// where they document what the run started from.
std::string weights_of_export(const TrainConfig& cfg) {
  const std::filesystem::path dir(cfg.init);
  if (!std::filesystem::exists(dir / "model.json"))
    throw std::runtime_error(cfg.init + ": --init names a directory without model.json (an exported model "
                             "directory, or a .safetensors file, is expected)");
  const bool created = std::filesystem::create_directories(cfg.out_dir);
  const std::string out = (std::filesystem::path(cfg.out_dir) / "init-weights.safetensors").string();
  try {
    run_exporter({"--weights-of", cfg.init, "-o", out});
  } catch (...) {
    if (created) std::filesystem::remove_all(cfg.out_dir);  // no empty run folder left behind
    throw;
  }
  return out;
}

// torch.distributed options, shared by train and bench: the process group
// itself comes from torchrun's environment variables (docs/DISTRIBUTED.md).
void add_distributed_options(CLI::App* cmd, std::string& backend, double& timeout_s) {
  cmd->add_option("--dist-backend", backend,
                  "When started in a process group (WORLD_SIZE > 1, e.g. by torchrun): auto (NCCL on CUDA where built "
                  "in, else Gloo), gloo or nccl; naming one joins a group of one rank too (a smoke test)")
      ->capture_default_str()->check(CLI::IsMember({"auto", "gloo", "nccl"}));
  cmd->add_option("--dist-timeout", timeout_s,
                  "In a process group: seconds a rank waits for the others (at the start, and in each collective) "
                  "before it stops with an error")
      ->capture_default_str()->check(cli::positive());
}

void add_train(CLI::App& app) {
  auto cfg = std::make_shared<TrainConfig>();
  auto* cmd = app.add_subcommand("train", "Train a keypoint model on a pack (CUDA when available, else CPU)");
  cmd->add_option("--pack", cfg->pack_path, "Dataset pack from `facekeys pack`")->required()->check(CLI::ExistingFile);
  std::string models;
  for (const auto& s : model_zoo()) models += (models.empty() ? "" : ", ") + s.arch;
  cmd->add_option("--model", cfg->model, "Architecture: " + models)->capture_default_str();
  cmd->add_option("-o,--out", cfg->out_dir, "Run folder: metrics.jsonl, last/best.safetensors")->capture_default_str();
  cmd->add_option("--epochs", cfg->epochs, "Epochs")->capture_default_str()->check(cli::positive());
  cmd->add_option("--batch", cfg->batch, "Batch size (per rank in a process group)")->capture_default_str()->check(cli::positive());
  cmd->add_option("--lr", cfg->lr, "Adam learning rate")->capture_default_str()->check(cli::positive());
  cmd->add_option("--weight-decay", cfg->weight_decay, "Decoupled weight decay (AdamW when > 0)")->capture_default_str();
  cmd->add_option("--schedule", cfg->schedule, "LR schedule")->capture_default_str()->check(
      CLI::IsMember({"constant", "cosine", "step"}));
  cmd->add_option("--warmup", cfg->warmup_epochs, "Linear warm-up epochs")->capture_default_str()->check(cli::non_negative());
  cmd->add_option("--seed", cfg->seed, "Random seed")->capture_default_str();
  cmd->add_option("--device", cfg->device, "auto, cpu or cuda")->capture_default_str()->check(
      cli::device_name());
  cmd->add_flag("--bf16", cfg->bf16, "bf16 autocast on CUDA");
  cmd->add_option("--resume", cfg->resume, "Continue from a checkpoint (last.safetensors)")->check(CLI::ExistingFile);
  cmd->add_flag("!--no-augment", cfg->augment.enabled, "Disable augmentation");
  cmd->add_option("--rotate", cfg->augment.rotate_deg, "Max rotation, degrees")->capture_default_str()->check(
      cli::between(0, 180));
  cmd->add_option("--translate", cfg->augment.translate, "Max shift, fraction of width")->capture_default_str()->check(
      cli::between(0, 0.5));
  cmd->add_option("--scale", cfg->augment.scale, "Max relative scale change")->capture_default_str()->check(
      cli::between(0, 0.9));
  cmd->add_option("--flip", cfg->augment.flip_prob, "Horizontal flip probability")->capture_default_str()->check(
      cli::between(0, 1));
  cmd->add_option("--loss", cfg->loss.coord_loss, "Coordinate models' loss: mse, l1, smoothl1 (Huber, beta 0.01) or wing (Wing loss, "
                  "w = 5 % and eps = 1 % of the crop side)")
      ->capture_default_str()->check(CLI::IsMember({"mse", "l1", "smoothl1", "wing"}));
  cmd->add_option("--sigma", cfg->loss.sigma, "Heatmap models: Gaussian target sigma, in heatmap cells")
      ->capture_default_str()->check(cli::positive());
  cmd->add_option("--ema", cfg->ema_decay,
                  "Validate and keep as best an exponential moving average of the weights, with this decay per step "
                  "(e.g. 0.999; 0: off); ema.safetensors holds it for --resume")
      ->check(cli::between(0.0, 0.9999999));
  cmd->add_flag("--train-on-val", cfg->train_on_val,
                "Train on the train and val splits together: a last run of a recipe chosen on val (its val loss is "
                "still logged but no longer held out, so best.safetensors is the last epoch)");
  cmd->add_option("--init", cfg->init,
                  "Start from these weights (matching names and shapes): a safetensors file (any facekeys checkpoint, "
                  "converted torchvision weights) or an exported model directory such as assets/models/ibug68-resnet18 "
                  "(its ONNX weights are read back by facekeys-export; int8 ones dequantised)")
      ->check(CLI::ExistingPath);
  cmd->add_option("--input-size", cfg->input_size, "Square input side instead of the model's default")
      ->check(cli::between(16, 2048));
  cmd->add_option("--save-every", cfg->save_every,
                  "Write last.safetensors (the --resume point, with the optimiser state) every N epochs and at the "
                  "last; best.safetensors is still written whenever val improves")
      ->capture_default_str()->check(cli::positive());
  cmd->add_flag("--quiet", cfg->quiet, "No per-epoch lines");
  add_distributed_options(cmd, cfg->dist_backend, cfg->dist_timeout_s);
  cmd->callback([cfg] {
    cfg->dist = dist_env_from_environment();
    if (!cfg->init.empty() && std::filesystem::is_directory(cfg->init)) {
      if (cfg->dist.joins_group(cfg->dist_backend))
        throw std::runtime_error("--init " + cfg->init + ": in a process group, convert it first (facekeys export "
                                 "--weights-of DIR -o init.safetensors) and pass the .safetensors file");
      cfg->init_file = weights_of_export(*cfg);
    }
    TrainResult r = train(*cfg);
    if (cfg->dist.rank == 0)
      std::fprintf(stderr, "best val loss %.6f at epoch %d -> %s\n", r.best_val_loss, r.best_epoch,
                   r.best_checkpoint.c_str());
  });
}

// `facekeys eval MODEL_DIR`: an exported model (model.onnx + model.json) run by
// OpenCV DNN (predict.cpp), scored with the same metrics as a checkpoint.
void eval_exported_model(const std::string& dir, const std::string& pack_path, const std::string& split,
                         const std::string& predictions_path) {
#ifdef FACEKEYS_WITH_PREDICT
  const Pack pack = read_pack(pack_path);
  const OnnxSplitPredictions o = predict_pack_split_onnx(dir, pack, split_from_name(split));
  Predictions p;
  p.spec.arch = o.card.arch;
  p.spec.schema = o.card.schema;
  p.spec.input_w = o.card.input.width;
  p.spec.input_h = o.card.input.height;
  p.spec.channels = o.card.input.channels;
  p.spec.num_points = o.card.num_points;
  p.spec.output = output_kind_from_name(o.card.output.kind);
  p.split = split_from_name(split);
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
               o.card.name.c_str(), pack_path.c_str(), split.c_str(), p.size(), m.at("mse").as_number(),
               m.at("mean_px_error").as_number());
#else
  (void)pack_path, (void)split, (void)predictions_path;
  throw std::runtime_error(dir + ": scoring an exported model needs OpenCV DNN, which this build lacks");
#endif
}

void add_eval(CLI::App& app) {
  struct Args {
    std::string checkpoint, pack, split = "val", device = "auto", predictions, kaggle_csv, heatmaps;
    bool flip_test = false;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("eval", "Score a checkpoint on a pack split; JSON metrics on stdout");
  cmd->add_option("checkpoint", a->checkpoint,
                  "Checkpoint (.safetensors), or an exported model folder (model.onnx + model.json, run by OpenCV DNN)")
      ->required()->check(CLI::ExistingPath);
  cmd->add_option("--pack", a->pack, "Dataset pack")->required()->check(CLI::ExistingFile);
  cmd->add_option("--split", a->split, "train, val or test")->capture_default_str()->check(
      CLI::IsMember({"train", "val", "test"}));
  cmd->add_option("--device", a->device, "auto, cpu or cuda")->capture_default_str()->check(cli::device_name());
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
        predict_split(*ck.model, ck.spec, pack, a->pack, split_from_name(a->split), a->device, 64, a->flip_test);
    Json m = metrics_json(p, pack);
    m["checkpoint"] = a->checkpoint;
    m["flip_test"] = a->flip_test;
    if (!a->predictions.empty()) write_file_atomic(a->predictions, predictions_json(p, pack).dump() + "\n");
    if (!a->kaggle_csv.empty()) write_file_atomic(a->kaggle_csv, kaggle_csv(p, pack));
    if (!a->heatmaps.empty()) write_heatmap_samples(a->heatmaps, *ck.model, p, pack, a->pack, a->device, a->flip_test);
    std::cout << m.dump() << std::endl;
    std::fprintf(stderr, "%s on %s/%s: %zu images, MSE %.6f, mean error %.2f px\n", ck.spec.arch.c_str(),
                 a->pack.c_str(), a->split.c_str(), p.size(), m.at("mse").as_number(),
                 m.at("mean_px_error").as_number());
  });
}

void add_bench(CLI::App& app) {
  auto cfg = std::make_shared<BenchConfig>();
  auto* cmd = app.add_subcommand("bench", "Training throughput: end to end vs the model-only ceiling, one run");
  cmd->add_option("--model", cfg->model, "Architecture")->capture_default_str();
  cmd->add_option("--pack", cfg->pack_path, "Use this pack's training split (default: synthetic data)");
  cmd->add_option("--device", cfg->device, "auto, cpu or cuda")->capture_default_str()->check(cli::device_name());
  cmd->add_option("--batch", cfg->batch, "Batch size")->capture_default_str()->check(cli::positive());
  cmd->add_option("--steps", cfg->steps, "Timed steps per measurement")->capture_default_str()->check(cli::positive());
  cmd->add_option("--warmup", cfg->warmup_steps, "Untimed warm-up steps")->capture_default_str()->check(cli::non_negative());
  cmd->add_flag("!--no-augment", cfg->augment, "Measure without augmentation");
  cmd->add_flag("--bf16", cfg->bf16, "bf16 autocast on CUDA");
  add_distributed_options(cmd, cfg->dist_backend, cfg->dist_timeout_s);
  cmd->callback([cfg] {
    cfg->dist = dist_env_from_environment();
    Json r = benchmark_training(*cfg);
    if (cfg->dist.rank != 0) return;  // rank 0 speaks for the group
    if (r.contains("distributed")) {
      const Json& d = r.at("distributed");
      std::string per_rank;
      for (const Json& v : d.at("per_rank_img_s").as_array())
        per_rank += (per_rank.empty() ? "" : ", ") + std::to_string(static_cast<long>(v.as_number() + 0.5));
      std::fprintf(stderr,
                   "%d ranks (%s), batch %d per rank: %.1f img/s in all (per rank: %s), %.1f alone without "
                   "averaging: scaling efficiency %.3f; all-reduce %.2f ms a step for %.2f MB in %d bucket(s)\n",
                   static_cast<int>(d.at("world_size").as_number()), d.at("backend").as_string().c_str(), cfg->batch,
                   d.at("total_img_s").as_number(), per_rank.c_str(), d.at("total_alone_img_s").as_number(),
                   d.at("scaling_efficiency").as_number(), d.at("all_reduce_ms_per_step").as_number(),
                   d.at("all_reduce_bytes_per_step").as_number() / 1e6, static_cast<int>(d.at("buckets").as_number()));
    }
    std::fprintf(stderr,
                 "%s on %s, batch %d: model-only %.1f img/s, end-to-end %.1f img/s, ratio %.3f "
                 "(batches alone: %.0f img/s, made %s)\n",
                 cfg->model.c_str(), r.at("device").as_string().c_str(), cfg->batch,
                 r.at("model_only_img_s").as_number(), r.at("end_to_end_img_s").as_number(),
                 r.at("ratio").as_number(), r.at("batches_only_img_s").as_number(),
                 r.at("batches_in_background").as_bool() ? "on a worker thread" : "between steps");
    std::cout << r.dump() << std::endl;
  });
}

}  // namespace

void add_training_commands(CLI::App& app) {
  add_train(app);
  add_eval(app);
  add_bench(app);
  add_sweep_command(app);
}

}  // namespace facekeys
