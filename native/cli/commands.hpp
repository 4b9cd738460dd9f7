// Subcommand registration. Each group lives in its own file and is compiled
// only when its dependencies are present (see CMakeLists.txt).
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace facekeys {

void add_training_commands(CLI::App& app);  // train, eval, bench, sweep   (LibTorch)
void add_opencv_commands(CLI::App& app);    // pack, report               (OpenCV)
void add_predict_command(CLI::App& app);    // predict                    (OpenCV DNN, cmd_predict.cpp)

// `facekeys export ARGS...` execs `facekeys-export ARGS...` (cmd_export.cpp);
// returns only on failure, with the exit status to use.
int forward_to_exporter(int argc, char** argv);
// Runs `facekeys-export ARGS...` and waits; throws when it cannot be started or fails.
void run_exporter(const std::vector<std::string>& args);

}  // namespace facekeys
