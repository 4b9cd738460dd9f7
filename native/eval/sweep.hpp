// `facekeys sweep`: the seed's experiments in one command. Trains the three
// Part-1 nose-tip models and the four Part-2 kernel sizes, scores each on the
// validation split and writes a markdown results table (with plots when the
// build has OpenCV) like the seed report's.
#pragma once

#include <cstdint>
#include <string>

#include "train/trainer.hpp"

namespace facekeys {

struct SweepConfig {
  std::string pack, out = "results/imm", part = "all";
  DeviceChoice device = DeviceChoice::Auto;
  // The recipe of docs/RESULTS.md: small batches (more optimizer steps on 192
  // images), a cosine schedule, and a short warm-up that keeps large-kernel
  // nets off the mean-face plateau.
  int epochs_part1 = 30, epochs_part2 = 100, batch = 4, warmup_epochs = 3;
  Schedule schedule = Schedule::Cosine;
  std::uint64_t seed = 0;
  bool reuse = false;  // keep runs whose metrics.jsonl already reaches the requested epochs
};

// Trains, scores and tabulates; writes <out>/README.md. Returns its path.
std::string run_sweep(const SweepConfig& cfg);

}  // namespace facekeys
