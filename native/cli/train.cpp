// `facekeys train`: a keypoint model on a pack (LibTorch; train/trainer.hpp).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include "cli/cli_checks.hpp"
#include "cli/commands.hpp"
#include "train/trainer.hpp"

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

}  // namespace

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

void add_train_command(CLI::App& app) {
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
  cli::add_enum_option(cmd, "--schedule", cfg->schedule, "LR schedule", {"constant", "cosine", "step"},
                       schedule_from_name, schedule_name);
  cmd->add_option("--warmup", cfg->warmup_epochs, "Linear warm-up epochs")->capture_default_str()->check(cli::non_negative());
  cmd->add_option("--seed", cfg->seed, "Random seed")->capture_default_str();
  cli::add_enum_option(cmd, "--device", cfg->device, "auto, cpu or cuda", {"auto", "cpu", "cuda"},
                       device_choice_from_name, device_choice_name);
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
  cli::add_enum_option(cmd, "--loss", cfg->loss.coord_loss,
                       "Coordinate models' loss: mse, l1, smoothl1 (Huber, beta 0.01) or wing (Wing loss, w = 5 % and "
                       "eps = 1 % of the crop side)",
                       {"mse", "l1", "smoothl1", "wing"}, coord_loss_from_name, coord_loss_name);
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

}  // namespace facekeys
