// Picks the compute device and sets LibTorch's CPU threads.
#pragma once

#include <torch/torch.h>

#include <stdexcept>
#include <string>
#include <thread>

namespace facekeys {

inline torch::Device pick_device(const std::string& name) {
  // LibTorch defaults to one intra-op thread on some builds; use every core.
  static bool threads_set = false;
  if (!threads_set) {
    unsigned n = std::thread::hardware_concurrency();
    if (n > 0) at::set_num_threads(static_cast<int>(n));
    threads_set = true;
  }
  if (name == "cpu") return torch::kCPU;
  if (name == "cuda") {
    if (!torch::cuda::is_available()) throw std::runtime_error("--device cuda: no CUDA device is available to LibTorch");
    return torch::kCUDA;
  }
  if (name == "auto") return torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  throw std::invalid_argument("unknown device '" + name + "' (expected auto, cpu or cuda)");
}

inline void synchronize(const torch::Device& d) {
  if (d.is_cuda()) torch::cuda::synchronize();
}

}  // namespace facekeys
