// Subcommands that need LibTorch only: train, eval, bench, sweep.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <stdexcept>

#include "bench.hpp"
#include "checkpoint.hpp"
#include "commands.hpp"
#include "evaluate.hpp"
#include "facekeys/file_io.hpp"
#include "sweep.hpp"
#include "trainer.hpp"

namespace facekeys {
namespace {

void add_train(CLI::App& app) {
  auto cfg = std::make_shared<TrainConfig>();
  auto* cmd = app.add_subcommand("train", "Train a keypoint model on a pack (CUDA when available, else CPU)");
  cmd->add_option("--pack", cfg->pack_path, "Dataset pack from `facekeys pack`")->required()->check(CLI::ExistingFile);
  std::string models;
  for (const auto& s : model_zoo()) models += (models.empty() ? "" : ", ") + s.arch;
  cmd->add_option("--model", cfg->model, "Architecture: " + models)->capture_default_str();
  cmd->add_option("-o,--out", cfg->out_dir, "Run folder: metrics.jsonl, last/best.safetensors")->capture_default_str();
  cmd->add_option("--epochs", cfg->epochs, "Epochs")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--batch", cfg->batch, "Batch size")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--lr", cfg->lr, "Adam learning rate")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--weight-decay", cfg->weight_decay, "Decoupled weight decay (AdamW when > 0)")->capture_default_str();
  cmd->add_option("--schedule", cfg->schedule, "LR schedule")->capture_default_str()->check(
      CLI::IsMember({"constant", "cosine", "step"}));
  cmd->add_option("--warmup", cfg->warmup_epochs, "Linear warm-up epochs")->capture_default_str();
  cmd->add_option("--seed", cfg->seed, "Random seed")->capture_default_str();
  cmd->add_option("--device", cfg->device, "auto, cpu or cuda")->capture_default_str()->check(
      CLI::IsMember({"auto", "cpu", "cuda"}));
  cmd->add_flag("--bf16", cfg->bf16, "bf16 autocast on CUDA");
  cmd->add_option("--resume", cfg->resume, "Continue from a checkpoint (last.safetensors)")->check(CLI::ExistingFile);
  cmd->add_flag("!--no-augment", cfg->augment.enabled, "Disable augmentation");
  cmd->add_option("--rotate", cfg->augment.rotate_deg, "Max rotation, degrees")->capture_default_str();
  cmd->add_option("--translate", cfg->augment.translate, "Max shift, fraction of width")->capture_default_str();
  cmd->add_option("--scale", cfg->augment.scale, "Max relative scale change")->capture_default_str();
  cmd->add_option("--flip", cfg->augment.flip_prob, "Horizontal flip probability")->capture_default_str();
  cmd->add_flag("--quiet", cfg->quiet, "No per-epoch lines");
  cmd->callback([cfg] {
    TrainResult r = train(*cfg);
    std::fprintf(stderr, "best val loss %.6f at epoch %d -> %s\n", r.best_val_loss, r.best_epoch,
                 r.best_checkpoint.c_str());
  });
}

void add_eval(CLI::App& app) {
  struct Args {
    std::string checkpoint, pack, split = "val", device = "auto", predictions;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("eval", "Score a checkpoint on a pack split; JSON metrics on stdout");
  cmd->add_option("checkpoint", a->checkpoint, "Checkpoint (.safetensors)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--pack", a->pack, "Dataset pack")->required()->check(CLI::ExistingFile);
  cmd->add_option("--split", a->split, "train, val or test")->capture_default_str()->check(
      CLI::IsMember({"train", "val", "test"}));
  cmd->add_option("--device", a->device, "auto, cpu or cuda")->capture_default_str();
  cmd->add_option("--predictions", a->predictions, "Also write per-image predictions (JSON) here");
  cmd->callback([a] {
    Checkpoint ck = load_checkpoint(a->checkpoint);
    const Pack pack = read_pack(a->pack);
    Predictions p = predict_split(*ck.model, ck.spec, pack, a->pack, split_from_name(a->split), a->device);
    Json m = metrics_json(p, pack);
    m["checkpoint"] = a->checkpoint;
    if (!a->predictions.empty()) write_file_atomic(a->predictions, predictions_json(p, pack).dump() + "\n");
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
  cmd->add_option("--device", cfg->device, "auto, cpu or cuda")->capture_default_str();
  cmd->add_option("--batch", cfg->batch, "Batch size")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--steps", cfg->steps, "Timed steps per measurement")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--warmup", cfg->warmup_steps, "Untimed warm-up steps")->capture_default_str();
  cmd->add_flag("!--no-augment", cfg->augment, "Measure without augmentation");
  cmd->add_flag("--bf16", cfg->bf16, "bf16 autocast on CUDA");
  cmd->callback([cfg] {
    Json r = benchmark_training(*cfg);
    std::fprintf(stderr, "%s on %s, batch %d: model-only %.1f img/s, end-to-end %.1f img/s, ratio %.3f\n",
                 cfg->model.c_str(), r.at("device").as_string().c_str(), cfg->batch,
                 r.at("model_only_img_s").as_number(), r.at("end_to_end_img_s").as_number(),
                 r.at("ratio").as_number());
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
