#include "train/run_folder.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include "facekeys/file_io.hpp"
#include "facekeys/json.hpp"
#include "train/checkpoint.hpp"

namespace facekeys {
namespace {

namespace fs = std::filesystem;

// A fresh run (not a resume) into a folder that holds an earlier run replaces
// it as a whole: without this, a new run without EMA would leave the old
// ema.safetensors beside it, and one that stops in its first epoch would leave
// a new config.json over the old checkpoints. Only the trainer's own files go;
// report PNGs are `facekeys report`'s to replace.
void clear_previous_run(const std::string& out_dir, bool quiet) {
  const fs::path dir(out_dir);
  std::error_code ec;
  std::string what = "a run";
  if (fs::is_regular_file(dir / "config.json", ec)) {
    try {
      const Json old = Json::parse(read_file_text((dir / "config.json").string()), (dir / "config.json").string());
      what = "a " + old.at("model").as_string() + " run";
    } catch (const std::exception&) {
      // An unreadable old config is replaced like any other.
    }
  }
  int removed = 0;
  for (const char* name : {"config.json", "metrics.jsonl", "last.safetensors", "best.safetensors", "ema.safetensors"})
    if (fs::remove(dir / name, ec)) ++removed;
  if (removed > 0 && !quiet)
    std::fprintf(stderr, "note: %s held %s; this run replaces it (use --resume %s to continue it instead)\n",
                 out_dir.c_str(), what.c_str(), (dir / "last.safetensors").string().c_str());
}

}  // namespace

RunFolder::RunFolder(const std::string& dir, bool active) : dir_(dir), active_(active) {
  if (!active_) return;
  std::error_code ec;
  made_ = fs::create_directories(dir_, ec);
  if (!made_ && ec) throw std::runtime_error(dir_ + ": cannot create the run folder: " + ec.message());
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    const std::string name = e.path().filename().string();
    const auto tmp = name.find(".tmp-");
    if (tmp != std::string::npos && name.find_first_not_of("0123456789", tmp + 5) == std::string::npos)
      fs::remove(e.path(), ec);
  }
}

RunFolder::~RunFolder() {
  std::error_code ec;
  if (active_ && made_ && !started_) fs::remove_all(dir_, ec);
}

std::string RunFolder::metrics_file() const { return (fs::path(dir_) / "metrics.jsonl").string(); }
std::string RunFolder::last_checkpoint() const { return (fs::path(dir_) / "last.safetensors").string(); }
std::string RunFolder::best_checkpoint() const { return (fs::path(dir_) / "best.safetensors").string(); }
std::string RunFolder::ema_checkpoint() const { return (fs::path(dir_) / "ema.safetensors").string(); }

void RunFolder::start(bool replace_previous, const std::string& config, bool quiet) {
  if (started_) return;
  if (replace_previous) clear_previous_run(dir_, quiet);
  write_file_atomic((fs::path(dir_) / "config.json").string(), config);
  started_ = true;
}

void RunFolder::write_epoch(const EpochWrite& w, const ModelSpec& spec, KeypointNet& model, const Adam& optimizer,
                            WeightAverage* average, bool quiet) {
  if (!active_) return;
  start(w.replace_previous, *w.config, quiet);
  write_file_atomic(metrics_file(), *w.history);
  if (average) average->swap_in();
  if (w.write_best) save_checkpoint(best_checkpoint(), spec, model, nullptr, w.epoch, *w.metadata);
  if (average && w.write_last) save_checkpoint(ema_checkpoint(), spec, model, nullptr, w.epoch, *w.metadata);
  if (average) average->swap_out();
  if (w.write_last)
    save_checkpoint(last_checkpoint(), spec, model, &optimizer, w.epoch, *w.metadata,
                    average ? average->named() : std::vector<std::pair<std::string, torch::Tensor>>{});
}

RunHistory read_run_history(const std::string& metrics_file, int start_epoch) {
  RunHistory h;
  h.best_val_loss = INFINITY;
  if (start_epoch <= 0 || !fs::exists(metrics_file)) return h;
  std::istringstream lines(read_file_text(metrics_file));
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    Json row = Json::parse(line, metrics_file);
    if (row.at("epoch").as_int() > start_epoch) break;
    h.rows += line + "\n";
    if (row.at("val_loss").as_number() < h.best_val_loss) {
      h.best_val_loss = row.at("val_loss").as_number();
      h.best_epoch = static_cast<int>(row.at("epoch").as_int());
    }
  }
  return h;
}

}  // namespace facekeys
