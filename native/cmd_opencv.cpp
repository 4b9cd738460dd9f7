// Subcommands that need OpenCV: pack (decode datasets) and report (draw).
#include <CLI/CLI.hpp>

#include <cstdio>

#include "commands.hpp"
#include "pack_datasets.hpp"
#include "report.hpp"

namespace facekeys {
namespace {

void add_pack(CLI::App& app) {
  auto* pack = app.add_subcommand("pack", "Decode a dataset once into a pack file the trainer loads");
  pack->require_subcommand(1);

  struct ImmArgs {
    std::string dir, out = "imm.pack";
    ImmPackOptions opt;
  };
  auto a = std::make_shared<ImmArgs>();
  auto* imm = pack->add_subcommand("imm", "IMM face database folder (*.asf + *.jpg)");
  imm->add_option("dir", a->dir, "Folder with the IMM .asf and .jpg files")->required();
  imm->add_option("-o,--out", a->out, "Output pack")->capture_default_str();
  imm->add_option("--width", a->opt.width, "Working width")->capture_default_str()->check(CLI::Range(8, 4096));
  imm->add_option("--height", a->opt.height, "Working height")->capture_default_str()->check(CLI::Range(8, 4096));
  imm->add_option("--last-train-person", a->opt.last_train_person, "Persons up to this id train, the rest validate")
      ->capture_default_str();
  imm->callback([a] {
    Pack p = pack_imm(a->dir, a->opt);
    write_pack(a->out, p);
    std::fprintf(stderr, "%s: %zu images (%zu train, %zu val), %dx%d gray, %d points\n", a->out.c_str(), p.size(),
                 p.count(Split::Train), p.count(Split::Val), p.width, p.height, p.num_points);
  });
}

void add_report(CLI::App& app) {
  auto cfg = std::make_shared<ReportConfig>();
  auto* cmd = app.add_subcommand("report", "Loss plots, overlays and filter grids for a training run");
  cmd->add_option("run_dir", cfg->run_dir, "Run folder from `facekeys train`")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--pack", cfg->pack_path, "Pack, for ground-truth and prediction overlays")->check(CLI::ExistingFile);
  cmd->add_option("--predictions", cfg->predictions_path, "From `facekeys eval --predictions`")->check(CLI::ExistingFile);
  cmd->add_option("--checkpoint", cfg->checkpoint_path, "Checkpoint for the filter grids")->check(CLI::ExistingFile);
  cmd->add_option("--overlays", cfg->overlays, "Images per overlay group")->capture_default_str();
  cmd->callback([cfg] {
    auto files = write_report(*cfg);
    std::fprintf(stderr, "wrote %zu files to %s (see report.md)\n", files.size(), cfg->run_dir.c_str());
  });
}

}  // namespace

void add_opencv_commands(CLI::App& app) {
  add_pack(app);
  add_report(app);
#ifdef FACEKEYS_WITH_PREDICT
  add_predict_command(app);
#endif
}

}  // namespace facekeys
