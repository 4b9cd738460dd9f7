#include "sweep.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <sstream>

#include "checkpoint.hpp"
#include "evaluate.hpp"
#include "facekeys/file_io.hpp"
#include "trainer.hpp"
#ifdef FACEKEYS_WITH_OPENCV
#include "report.hpp"
#endif

namespace facekeys {
namespace {

struct SweepArgs {
  std::string pack, out = "results/imm", device = "auto", part = "all";
  int epochs_part1 = 30, epochs_part2 = 100, batch = 16;
  std::uint64_t seed = 0;
};

std::string fmt(double v, const char* f = "%.6f") {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string today() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", std::gmtime(&t));
  return buf;
}

void run_sweep(const SweepArgs& a) {
  namespace fs = std::filesystem;
  std::vector<std::string> models;
  if (a.part == "1" || a.part == "all") models.insert(models.end(), {"SimpleModel", "SimpleModelDeeper", "SimpleModelLargeKernel"});
  if (a.part == "2" || a.part == "all") models.insert(models.end(), {"Baseline", "Baseline_5x5", "Baseline_7x7", "Baseline_9x9"});
  fs::create_directories(a.out);
  const Pack pack = read_pack(a.pack);

  std::ostringstream table;
  table << "| Model | Epochs | Final train loss | Final val loss | Best val MSE (epoch) | Val mean error (px) | img/s | Loss plot |\n"
        << "|---|---|---|---|---|---|---|---|\n";
  std::string device_used;
  for (const auto& m : models) {
    TrainConfig cfg;
    cfg.model = m;
    cfg.pack_path = a.pack;
    cfg.out_dir = (fs::path(a.out) / m).string();
    cfg.epochs = model_spec(m).num_points == 1 ? a.epochs_part1 : a.epochs_part2;
    cfg.batch = a.batch;
    cfg.seed = a.seed;
    cfg.device = a.device;
    std::fprintf(stderr, "== %s: %d epochs\n", m.c_str(), cfg.epochs);
    TrainResult r = train(cfg);
    Checkpoint ck = load_checkpoint(r.best_checkpoint);
    device_used = ck.metadata["device"];
    Predictions p = predict_split(*ck.model, ck.spec, pack, a.pack, Split::Val, a.device);
    Json metrics = metrics_json(p, pack);
    write_file_atomic((fs::path(cfg.out_dir) / "eval_val.json").string(), metrics.dump(2) + "\n");
    const std::string preds_path = (fs::path(cfg.out_dir) / "predictions_val.json").string();
    write_file_atomic(preds_path, predictions_json(p, pack).dump() + "\n");
    std::string plot = "(no OpenCV)";
#ifdef FACEKEYS_WITH_OPENCV
    ReportConfig rc;
    rc.run_dir = cfg.out_dir;
    rc.pack_path = a.pack;
    rc.predictions_path = preds_path;
    rc.checkpoint_path = r.best_checkpoint;
    write_report(rc);
    plot = "<img src=\"" + m + "/loss.png\" width=\"360\"/>";
#endif
    table << "| `" << m << "` | " << cfg.epochs << " | " << fmt(r.final_train_loss) << " | " << fmt(r.final_val_loss)
          << " | " << fmt(r.best_val_loss) << " (" << r.best_epoch << ") | "
          << fmt(metrics.at("mean_px_error").as_number(), "%.2f") << " | " << fmt(r.images_per_s, "%.0f") << " | "
          << plot << " |\n";
  }
  std::ostringstream md;
  md << "# IMM sweep results\n\n"
     << "Made by `facekeys sweep` on " << today() << ", device `" << device_used << "`, pack `" << a.pack
     << "` (persons 1-32 train, 33-40 val), batch " << a.batch << ", Adam lr 1e-3, augmentation on, seed " << a.seed
     << ".\nLosses are MSE on normalised coordinates (the seed's); the val MSE column is the best epoch's, "
        "whose checkpoint is `best.safetensors`. Mean error is in original 640x480 pixels.\n\n"
     << table.str();
  write_file_atomic((fs::path(a.out) / "README.md").string(), md.str());
  std::fprintf(stderr, "results table: %s\n", (fs::path(a.out) / "README.md").string().c_str());
}

}  // namespace

void add_sweep_command(CLI::App& app) {
  auto a = std::make_shared<SweepArgs>();
  auto* cmd = app.add_subcommand("sweep", "Run the seed's Part 1 and Part 2 experiments and write a results table");
  cmd->add_option("--pack", a->pack, "IMM pack from `facekeys pack imm`")->required()->check(CLI::ExistingFile);
  cmd->add_option("-o,--out", a->out, "Results folder")->capture_default_str();
  cmd->add_option("--part", a->part, "1 (nose tip), 2 (58 points) or all")->capture_default_str()->check(
      CLI::IsMember({"1", "2", "all"}));
  cmd->add_option("--epochs-part1", a->epochs_part1, "Epochs for the nose-tip models")->capture_default_str();
  cmd->add_option("--epochs-part2", a->epochs_part2, "Epochs for the 58-point models")->capture_default_str();
  cmd->add_option("--batch", a->batch, "Batch size")->capture_default_str();
  cmd->add_option("--seed", a->seed, "Random seed")->capture_default_str();
  cmd->add_option("--device", a->device, "auto, cpu or cuda")->capture_default_str();
  cmd->callback([a] { run_sweep(*a); });
}

}  // namespace facekeys
