// Picks the compute device and sets LibTorch up for it (CPU threads; under 2.x, no oneDNN); the
// CUDA-only pieces (synchronize, bf16 autocast) that differ between LibTorch versions.
// (c10d's API, which also changed in 2.x, is kept apart in distributed.cpp, the
// one file that includes it.)
#pragma once

#include <torch/torch.h>

// at::autocast takes a device type from LibTorch 2.4 on (the pip 2.x builds on
// GPU machines); Debian's 1.13 has only the older CUDA-implied calls, and no
// CUDA anyway. torch/torch.h does not include this header.
#if defined(TORCH_VERSION_MAJOR) && (TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4))
#define FACEKEYS_HAS_AUTOCAST 1
#include <ATen/autocast_mode.h>
#else
#define FACEKEYS_HAS_AUTOCAST 0
#endif

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>

namespace facekeys {

// Where to compute: `auto` takes CUDA when LibTorch sees a device, else the CPU.
enum class DeviceChoice { Auto, Cpu, Cuda };

inline const char* device_choice_name(DeviceChoice d) {
  switch (d) {
    case DeviceChoice::Cpu: return "cpu";
    case DeviceChoice::Cuda: return "cuda";
    case DeviceChoice::Auto: break;
  }
  return "auto";
}

inline DeviceChoice device_choice_from_name(const std::string& name) {
  if (name == "auto") return DeviceChoice::Auto;
  if (name == "cpu") return DeviceChoice::Cpu;
  if (name == "cuda") return DeviceChoice::Cuda;
  throw std::invalid_argument("unknown device '" + name + "' (expected auto, cpu or cuda)");
}

inline torch::Device pick_device(DeviceChoice choice) {
  // LibTorch defaults to one intra-op thread on some builds; use every core,
  // unless OMP_NUM_THREADS says otherwise (torchrun sets it to 1 per rank, so
  // that ranks sharing a machine do not fight over its cores).
  static bool threads_set = false;
  if (!threads_set) {
    const char* omp = std::getenv("OMP_NUM_THREADS");
    unsigned n = omp && std::atoi(omp) > 0 ? static_cast<unsigned>(std::atoi(omp)) : std::thread::hardware_concurrency();
    if (n > 0) at::set_num_threads(static_cast<int>(n));
#if defined(TORCH_VERSION_MAJOR) && TORCH_VERSION_MAJOR >= 2
    // oneDNN off for LibTorch 2.x's CPU convolutions: Debian 13's 2.6 with oneDNN 3.7.2, on an AMD
    // EPYC with AVX-512 (2026-12-06), convolved SimpleModel's third layer (24 -> 32 channels at
    // 20x15) off by 0.33 against float64, at every ISA oneDNN was held to, and now and then into
    // NaN (training "diverged" at random: the SimpleModel NaN first reported under 2.6); LibTorch's
    // own convolutions give 6e-7 there (docs/BENCHMARKS.md). Debian 12's 1.13 is right with it.
    at::globalContext().setUserEnabledMkldnn(false);
#endif
    threads_set = true;
  }
  switch (choice) {
    case DeviceChoice::Cpu: return torch::kCPU;
    case DeviceChoice::Cuda:
      if (!torch::cuda::is_available()) throw std::runtime_error("CUDA was asked for, but no CUDA device is available to LibTorch");
      return torch::kCUDA;
    case DeviceChoice::Auto: break;
  }
  return torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
}

inline void synchronize(const torch::Device& d) {
  if (d.is_cuda()) torch::cuda::synchronize();
}

#if FACEKEYS_HAS_AUTOCAST
// bf16 autocast on CUDA for as long as it lives (one forward pass), switched
// off again however the pass ends, an exception included.
class CudaBf16Autocast {
 public:
  explicit CudaBf16Autocast(bool on) : on_(on) {
    if (!on_) return;
    at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
    at::autocast::set_autocast_enabled(at::kCUDA, true);
  }
  ~CudaBf16Autocast() {
    if (!on_) return;
    at::autocast::set_autocast_enabled(at::kCUDA, false);
    at::autocast::clear_cache();
  }
  CudaBf16Autocast(const CudaBf16Autocast&) = delete;
  CudaBf16Autocast& operator=(const CudaBf16Autocast&) = delete;

 private:
  bool on_;
};
#endif

}  // namespace facekeys
