// The run folder of `facekeys train` and the checkpoints it keeps:
//   config.json       the training config, written when the first epoch ends
//   metrics.jsonl     one JSON object per epoch
//   last.safetensors  the resume point: weights, optimiser state and the moving average
//   best.safetensors  the weights (the average, with EMA) of the lowest val loss
//   ema.safetensors   the moving average alone, beside last (with EMA)
// Every file is written atomically, in an order that leaves the folder
// resumable whenever the run is killed (docs/RELIABILITY.md).
#pragma once

#include <map>
#include <string>

#include "models/models.hpp"
#include "train/adam.hpp"
#include "train/weight_average.hpp"

namespace facekeys {

// The folder, made before training (so that one that cannot be made stops the
// run at once) but written only when the first epoch ends: a run that fails
// before then leaves no folder behind, and an earlier run in it stays whole.
// Temporary files of writes that a kill interrupted are cleared on the way in.
// Inactive (another rank of a process group): nothing is made or written.
class RunFolder {
 public:
  RunFolder(const std::string& dir, bool active);
  ~RunFolder();
  RunFolder(const RunFolder&) = delete;
  RunFolder& operator=(const RunFolder&) = delete;

  std::string metrics_file() const;
  std::string last_checkpoint() const;
  std::string best_checkpoint() const;
  std::string ema_checkpoint() const;

  // What one epoch leaves: the metrics history (every row so far), and the
  // checkpoints this epoch writes. `config` is config.json's text.
  struct EpochWrite {
    int epoch = 0;  // 1-based, completed
    const std::string* history = nullptr;
    const std::string* config = nullptr;
    bool replace_previous = true;  // a fresh run: an earlier run's files go first
    bool write_best = false, write_last = false;
    const std::map<std::string, std::string>* metadata = nullptr;
  };
  // In an order that a kill at any moment leaves resumable: config.json (with
  // the first epoch), the history (a resume drops rows past its checkpoint),
  // then best and the average, and last.safetensors, the resume point, last of
  // all (a resume from the one before trains this epoch again, to the same
  // weights). `average` may be null.
  void write_epoch(const EpochWrite& w, const ModelSpec& spec, KeypointNet& model, const Adam& optimizer,
                   WeightAverage* average, bool quiet);

 private:
  void start(bool replace_previous, const std::string& config, bool quiet);

  std::string dir_;
  bool active_, made_ = false, started_ = false;
};

// The history of the run being resumed: metrics.jsonl's rows up to and
// including `start_epoch` (rows after it are of epochs the resume trains
// again), and the best val loss among them.
struct RunHistory {
  std::string rows;
  double best_val_loss;
  int best_epoch = 0;
};
RunHistory read_run_history(const std::string& metrics_file, int start_epoch);

}  // namespace facekeys
