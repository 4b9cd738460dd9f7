#include "eval/sweep.hpp"

#include <cstdio>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <sstream>

#include "train/checkpoint.hpp"
#include "eval/evaluate.hpp"
#include "facekeys/file_io.hpp"
#include "train/trainer.hpp"
#ifdef FACEKEYS_WITH_OPENCV
#include "tools/report.hpp"
#endif

namespace facekeys {
namespace {

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

// Epochs recorded in a run's metrics.jsonl (0 when there is none).
int recorded_epochs(const std::string& run_dir) {
  const std::string path = run_dir + "/metrics.jsonl";
  if (!std::filesystem::exists(path) || !std::filesystem::exists(run_dir + "/best.safetensors")) return 0;
  std::istringstream lines(read_file_text(path));
  int epochs = 0;
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) epochs = static_cast<int>(Json::parse(line, path).at("epoch").as_int());
  return epochs;
}

// Summary of an existing run, read back from its files.
TrainResult result_of(const std::string& run_dir) {
  TrainResult r;
  r.metrics_file = run_dir + "/metrics.jsonl";
  r.best_checkpoint = run_dir + "/best.safetensors";
  r.last_checkpoint = run_dir + "/last.safetensors";
  r.best_val_loss = INFINITY;
  std::istringstream lines(read_file_text(r.metrics_file));
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    Json row = Json::parse(line, r.metrics_file);
    ++r.epochs_run;
    r.final_train_loss = row.at("train_loss").as_number();
    r.final_val_loss = row.at("val_loss").as_number();
    r.images_per_s = row.at("img_per_s").as_number();
    if (r.final_val_loss < r.best_val_loss) {
      r.best_val_loss = r.final_val_loss;
      r.best_epoch = static_cast<int>(row.at("epoch").as_int());
    }
  }
  return r;
}

}  // namespace

std::string run_sweep(const SweepConfig& a) {
  namespace fs = std::filesystem;
  std::vector<std::string> models;
  if (a.part == "1" || a.part == "all") models.insert(models.end(), {"SimpleModel", "SimpleModelDeeper", "SimpleModelLargeKernel"});
  if (a.part == "2" || a.part == "all") models.insert(models.end(), {"Baseline", "Baseline_5x5", "Baseline_7x7", "Baseline_9x9"});
  fs::create_directories(a.out);
  const Pack pack = read_pack(a.pack);

  std::ostringstream table;
  table << "| Model | Epochs | Final train loss | Final val loss | Best val MSE (epoch) | Val mean error (px) | img/s (last epoch) | Loss plot |\n"
        << "|---|---|---|---|---|---|---|---|\n";
  std::string device_used;
  for (const auto& m : models) {
    TrainConfig cfg;
    cfg.model = m;
    cfg.pack_path = a.pack;
    cfg.out_dir = (fs::path(a.out) / m).string();
    cfg.epochs = model_spec(m).num_points == 1 ? a.epochs_part1 : a.epochs_part2;
    cfg.batch = a.batch;
    cfg.schedule = a.schedule;
    cfg.warmup_epochs = a.warmup_epochs;
    cfg.seed = a.seed;
    cfg.device = a.device;
    TrainResult r;
    if (a.reuse && recorded_epochs(cfg.out_dir) >= cfg.epochs) {
      std::fprintf(stderr, "== %s: reusing %s\n", m.c_str(), cfg.out_dir.c_str());
      r = result_of(cfg.out_dir);
      cfg.epochs = r.epochs_run;
    } else {
      std::fprintf(stderr, "== %s: %d epochs\n", m.c_str(), cfg.epochs);
      r = train(cfg);
    }
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
     << "` (persons 1-32 train, 33-40 val), batch " << a.batch << ", Adam lr 1e-3, " << schedule_name(a.schedule) << " schedule, "
     << a.warmup_epochs << " warm-up epochs, augmentation on, seed " << a.seed
     << " (rows kept by --reuse: their config.json).\nLosses are MSE on normalised coordinates (the seed's); the val MSE column is the best epoch's, "
        "whose checkpoint is `best.safetensors`. Mean error is in original 640x480 pixels.\n\n"
     << table.str();
  const std::string table_path = (fs::path(a.out) / "README.md").string();
  write_file_atomic(table_path, md.str());
  std::fprintf(stderr, "results table: %s\n", table_path.c_str());
  return table_path;
}

}  // namespace facekeys
