// `facekeys sweep`: the seed's Part 1 and Part 2 experiments in one command
// (eval/sweep.hpp).
#include <CLI/CLI.hpp>

#include <memory>

#include "cli/cli_checks.hpp"
#include "cli/commands.hpp"
#include "eval/sweep.hpp"

namespace facekeys {

void add_sweep_command(CLI::App& app) {
  auto a = std::make_shared<SweepConfig>();
  auto* cmd = app.add_subcommand("sweep", "Run the seed's Part 1 and Part 2 experiments and write a results table");
  cmd->add_option("--pack", a->pack, "IMM pack from `facekeys pack imm`")->required()->check(CLI::ExistingFile);
  cmd->add_option("-o,--out", a->out, "Results folder")->capture_default_str();
  cmd->add_option("--part", a->part, "1 (nose tip), 2 (58 points) or all")->capture_default_str()->check(
      CLI::IsMember({"1", "2", "all"}));
  cmd->add_option("--epochs-part1", a->epochs_part1, "Epochs for the nose-tip models")->capture_default_str();
  cmd->add_option("--epochs-part2", a->epochs_part2, "Epochs for the 58-point models")->capture_default_str();
  cmd->add_option("--batch", a->batch, "Batch size")->capture_default_str();
  cli::add_enum_option(cmd, "--schedule", a->schedule, "LR schedule", {"constant", "cosine", "step"},
                       schedule_from_name, schedule_name);
  cmd->add_option("--warmup", a->warmup_epochs, "Linear warm-up epochs")->capture_default_str();
  cmd->add_option("--seed", a->seed, "Random seed")->capture_default_str();
  cli::add_enum_option(cmd, "--device", a->device, "auto, cpu or cuda", {"auto", "cpu", "cuda"},
                       device_choice_from_name, device_choice_name);
  cmd->add_flag("--reuse", a->reuse, "Keep runs in the results folder that already have the requested epochs");
  cmd->callback([a] { run_sweep(*a); });
}

}  // namespace facekeys
