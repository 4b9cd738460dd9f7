// `facekeys sweep`: the seed's experiments in one command. Trains the three
// Part-1 nose-tip models and the four Part-2 kernel sizes, scores each on the
// validation split and writes a markdown results table (with plots when the
// build has OpenCV) like the seed report's.
#pragma once

namespace CLI {
class App;
}

namespace facekeys {
void add_sweep_command(CLI::App& app);
}
