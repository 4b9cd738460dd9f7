// Data-parallel training on torch.distributed (c10d): the process group and
// the gradient averaging of PyTorch's DistributedDataParallel, for a C++ loop.
//
// A run joins a process group when WORLD_SIZE > 1, from the variables of
// torchrun's env:// contract (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR,
// MASTER_PORT), so `torchrun --no_python ... facekeys train ...`, `srun` with
// those variables set, or a Kubernetes PyTorchJob all start it the same way.
// Communication is c10d's own: Gloo on the CPU, NCCL on CUDA where the
// LibTorch has it (docs/DISTRIBUTED.md). The gradients are averaged as PyTorch's
// DDP does: buckets of gradients are all-reduced from autograd hooks while the
// backward pass is still computing the rest.
//
// The c10d headers (and Gloo's) stay inside distributed.cpp; this header is
// LibTorch's alone. Where c10d's C++ API differs between LibTorch versions is
// written down there, in one place.
#pragma once

#include <torch/torch.h>

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace facekeys {

// A collective that failed: another rank stopped, crashed or did not answer
// in time.
struct CommunicationError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Where this process stands in a run, read from the environment.
struct DistEnv {
  int rank = 0, world_size = 1, local_rank = 0;
  std::string master_addr;
  int master_port = 0;
  // Started by torchrun, whose agent already serves the rendezvous store on
  // MASTER_PORT (TORCHELASTIC_USE_AGENT_STORE): every rank joins it as a
  // client, under a prefix of its restart attempt.
  bool agent_store = false;
  int restart_count = 0;  // TORCHELASTIC_RESTART_COUNT: > 0 after a torchrun --max-restarts restart
  // Started as a rank (RANK, MASTER_ADDR and MASTER_PORT set), of any world size.
  bool launched = false;
  bool distributed() const { return world_size > 1; }
  // Whether to join a process group: always with several ranks; a group of one
  // only when a backend is named (a smoke test of NCCL on one GPU, say).
  bool joins_group(const std::string& backend) const { return distributed() || (launched && backend != "auto"); }
};

// Reads RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT and torchrun's
// TORCHELASTIC_* variables. WORLD_SIZE unset or 1: a single process (launched
// when the others are set too). Throws naming the variable when one is
// malformed, or missing with WORLD_SIZE > 1.
DistEnv dist_env_from_environment();

// Whether this LibTorch has c10d (Debian's and pip's do) and NCCL.
bool distributed_available();
bool nccl_available();

// The process group of a run, and the collectives the trainer needs. All
// members are collectives: every rank calls them in the same order.
class ProcessGroup {
 public:
  // Joins the group of env (env.launched must hold) for tensors on
  // `device`: backend "auto" is NCCL on CUDA where built in, else Gloo;
  // "gloo" or "nccl" choose. A collective that waits longer than `timeout`
  // for another rank (hung, or stopped without closing its connections)
  // throws; a rank that exits makes the others' next collective throw at once.
  static std::unique_ptr<ProcessGroup> join(const DistEnv& env, const torch::Device& device,
                                            const std::string& backend, std::chrono::milliseconds timeout);
  ~ProcessGroup();

  int rank() const;
  int size() const;
  const std::string& backend() const;

  // Each throws CommunicationError when the collective fails.
  // Rank 0's values into every rank's tensors, in place (the model's weights
  // and buffers at the start of a run).
  void broadcast_from_rank0(std::vector<torch::Tensor> tensors);
  // The sum over ranks, in place, of a tensor on the group's device.
  void all_reduce_sum(torch::Tensor& tensor);
  // The sum over ranks of a few numbers (losses, counts): one small collective.
  std::vector<double> all_reduce_sum(const std::vector<double>& values);
  // Rank 0's decision, when all ranks must take the same branch.
  bool all_agree(bool rank0_value);
  void barrier();

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  explicit ProcessGroup(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Averages gradients across the group during backward, as DistributedDataParallel
// does (same bucket sizes: 1 MiB first, 25 MiB after). One per model for a run:
// call backward(loss) instead of loss.backward(): when it returns, every
// parameter's .grad holds the mean over ranks. Failures throw CommunicationError.
class GradientSync {
 public:
  GradientSync(ProcessGroup& group, const std::vector<torch::Tensor>& parameters, double bucket_mib = 25.0);
  ~GradientSync();
  void backward(const torch::Tensor& loss);
  // Bytes all-reduced per step (all parameters' gradients) and buckets.
  int64_t bytes_per_step() const { return bytes_; }
  int buckets() const { return buckets_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int64_t bytes_ = 0;
  int buckets_ = 0;
};

// The device of a rank: cuda:LOCAL_RANK for CUDA (one GPU a local rank), the
// CPU otherwise. `requested` is pick_device's choice for the process.
torch::Device device_for_rank(const torch::Device& requested, const DistEnv& env);

}  // namespace facekeys
