// `facekeys bench`: end-to-end training throughput against the model's own
// ceiling (forward + backward + Adam on random data already on the device),
// measured in one run so the ratio is meaningful on a noisy machine.
#pragma once

#include <string>

#include "train/device.hpp"
#include "train/distributed.hpp"
#include "facekeys/json.hpp"

namespace facekeys {

struct BenchConfig {
  std::string model = "Baseline_7x7";
  std::string pack_path;  // empty: synthetic pack-sized data stands in for the dataset
  DeviceChoice device = DeviceChoice::Auto;
  int batch = 16;
  int warmup_steps = 10;
  int steps = 100;
  bool augment = true;
  bool bf16 = false;
  DistEnv dist;                       // a process group to measure in (WORLD_SIZE > 1)
  std::string dist_backend = "auto";
  double dist_timeout_s = 300;
};

// Returns {"device", "model", "batch", "model_only_img_s", "end_to_end_img_s", "ratio", ...}.
// In a process group the figures are per rank, and "distributed" adds each
// rank's img/s with gradients averaged and alone (no communication), their
// totals, the scaling efficiency (total with averaging / (world x one rank
// alone)), the all-reduce time and bytes per step.
Json benchmark_training(const BenchConfig& cfg);

}  // namespace facekeys
