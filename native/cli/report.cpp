// `facekeys report`: loss plots, overlays and filter grids for a training run
// (OpenCV draws; tools/report.hpp).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>

#include "cli/cli_checks.hpp"
#include "cli/commands.hpp"
#include "tools/report.hpp"

namespace facekeys {

void add_report_command(CLI::App& app) {
  auto cfg = std::make_shared<ReportConfig>();
  auto* cmd = app.add_subcommand("report", "Loss plots, overlays and filter grids for a training run");
  cmd->add_option("run_dir", cfg->run_dir, "Run folder from `facekeys train`")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--pack", cfg->pack_path, "Pack, for ground-truth and prediction overlays")->check(CLI::ExistingFile);
  cmd->add_option("--predictions", cfg->predictions_path, "From `facekeys eval --predictions`")->check(CLI::ExistingFile);
  cmd->add_option("--checkpoint", cfg->checkpoint_path, "Checkpoint for the filter grids")->check(CLI::ExistingFile);
  cmd->add_option("--overlays", cfg->overlays, "Images per overlay group")->capture_default_str()->check(cli::between(1, 100));
  cmd->add_option("--heatmaps", cfg->heatmaps_path, "From `facekeys eval --heatmaps` (needs --pack)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--heatmap-points", cfg->heatmap_points, "Points whose maps to overlay")
      ->delimiter(',')->capture_default_str();
  cmd->callback([cfg] {
    auto files = write_report(*cfg);
    std::fprintf(stderr, "wrote %zu files to %s (see report.md)\n", files.size(), cfg->run_dir.c_str());
  });
}

}  // namespace facekeys
