// Subcommand registration, one file per subcommand in cli/. Each is compiled
// only when its dependencies are present (see native/CMakeLists.txt).
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace facekeys {

// LibTorch
void add_train_command(CLI::App& app);  // cli/train.cpp
void add_eval_command(CLI::App& app);   // cli/eval.cpp (exported models too, with OpenCV DNN)
void add_bench_command(CLI::App& app);  // cli/bench.cpp
void add_sweep_command(CLI::App& app);  // cli/sweep.cpp
// OpenCV
void add_pack_command(CLI::App& app);     // cli/pack.cpp
void add_report_command(CLI::App& app);   // cli/report.cpp
void add_predict_command(CLI::App& app);  // cli/predict.cpp (OpenCV DNN)
void add_track_command(CLI::App& app);    // cli/track.cpp (OpenCV DNN + videoio)

// torch.distributed options, shared by train and bench (cli/train.cpp): the
// process group itself comes from torchrun's environment variables
// (docs/DISTRIBUTED.md).
void add_distributed_options(CLI::App* cmd, std::string& backend, double& timeout_s);

// `facekeys export ARGS...` execs `facekeys-export ARGS...` (cli/export.cpp);
// returns only on failure, with the exit status to use.
int forward_to_exporter(int argc, char** argv);
// Runs `facekeys-export ARGS...` and waits; throws when it cannot be started or fails.
void run_exporter(const std::vector<std::string>& args);

}  // namespace facekeys
