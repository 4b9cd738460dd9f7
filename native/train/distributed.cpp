#include "train/distributed.hpp"

#include <cstdlib>
#include <mutex>
#include <stdexcept>

// c10d's C++ API as Debian's LibTorch 1.13 ships it (TCPStore, PrefixStore,
// ProcessGroupGloo). What changed in 2.x is marked FACEKEYS_C10D_BACKENDS
// below: from 2.0 a ProcessGroup is a front holding one Backend per device type,
// and ProcessGroupGloo/NCCL are such backends.
#ifdef FACEKEYS_WITH_C10D
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef FACEKEYS_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#if defined(TORCH_VERSION_MAJOR) && TORCH_VERSION_MAJOR >= 2
#define FACEKEYS_C10D_BACKENDS 1
#else
#define FACEKEYS_C10D_BACKENDS 0
#endif
#endif  // FACEKEYS_WITH_C10D

namespace facekeys {
namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

int env_int(const char* name, int fallback, int lo, int hi) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  if (*end != '\0' || x < lo || x > hi)
    throw std::runtime_error(std::string("environment variable ") + name + "='" + v + "' is not a whole number in [" +
                             std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return static_cast<int>(x);
}

}  // namespace

DistEnv dist_env_from_environment() {
  DistEnv e;
  e.world_size = env_int("WORLD_SIZE", 1, 1, 1 << 20);
  if (e.world_size == 1 && !(std::getenv("RANK") && std::getenv("MASTER_ADDR") && std::getenv("MASTER_PORT")))
    return e;
  if (!std::getenv("RANK"))
    throw std::runtime_error("WORLD_SIZE=" + std::to_string(e.world_size) +
                             " but RANK is not set (start the ranks with torchrun, or set RANK, WORLD_SIZE, "
                             "MASTER_ADDR and MASTER_PORT for each)");
  e.rank = env_int("RANK", 0, 0, e.world_size - 1);
  e.local_rank = env_int("LOCAL_RANK", e.rank, 0, e.world_size - 1);
  e.master_addr = env_or("MASTER_ADDR", "");
  if (e.master_addr.empty()) throw std::runtime_error("WORLD_SIZE > 1 but MASTER_ADDR (rank 0's host) is not set");
  if (!std::getenv("MASTER_PORT")) throw std::runtime_error("WORLD_SIZE > 1 but MASTER_PORT is not set");
  e.master_port = env_int("MASTER_PORT", 0, 1, 65535);
  e.agent_store = env_or("TORCHELASTIC_USE_AGENT_STORE", "") == "True";
  e.restart_count = env_int("TORCHELASTIC_RESTART_COUNT", 0, 0, 1 << 20);
  e.launched = true;
  return e;
}

torch::Device device_for_rank(const torch::Device& requested, const DistEnv& env) {
  if (!requested.is_cuda() || !env.launched) return requested;
  const int gpus = static_cast<int>(torch::cuda::device_count());
  if (env.local_rank >= gpus)
    throw std::runtime_error("LOCAL_RANK " + std::to_string(env.local_rank) + " but this machine has " +
                             std::to_string(gpus) + " CUDA device(s): start at most one rank per GPU");
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(env.local_rank));
}

#ifdef FACEKEYS_WITH_C10D

bool distributed_available() { return true; }

bool nccl_available() {
#ifdef FACEKEYS_WITH_NCCL
  return true;
#else
  return false;
#endif
}

struct ProcessGroup::Impl {
  c10::intrusive_ptr<c10d::ProcessGroup> pg;
  std::string backend;
  torch::Device device = torch::kCPU;
  int rank = 0, size = 1;

  void wait(const c10::intrusive_ptr<c10d::Work>& work) {
    try {
      work->wait();
    } catch (const std::exception& e) {
      throw CommunicationError(e.what());
    }
  }
};

ProcessGroup::ProcessGroup(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ProcessGroup::~ProcessGroup() = default;
int ProcessGroup::rank() const { return impl_->rank; }
int ProcessGroup::size() const { return impl_->size; }
const std::string& ProcessGroup::backend() const { return impl_->backend; }

std::unique_ptr<ProcessGroup> ProcessGroup::join(const DistEnv& env, const torch::Device& device,
                                                 const std::string& backend, std::chrono::milliseconds timeout) {
  if (!env.launched) throw std::logic_error("ProcessGroup::join: not started as a rank");
  std::string name = backend;
  if (name == "auto") name = device.is_cuda() && nccl_available() ? "nccl" : "gloo";
  if (name == "nccl" && !nccl_available())
    throw std::runtime_error("the NCCL backend is not in this build (LibTorch without c10d NCCL); use gloo");
  if (name == "nccl" && !device.is_cuda()) throw std::runtime_error("the NCCL backend needs CUDA tensors (--device cuda)");
  if (name != "gloo" && name != "nccl") throw std::runtime_error("unknown backend '" + name + "' (expected gloo or nccl)");

  // The rendezvous: a key-value store on rank 0's host. Under torchrun its agent
  // serves it already; otherwise rank 0 does.
  c10d::TCPStoreOptions store_options;
  store_options.port = static_cast<std::uint16_t>(env.master_port);
  store_options.isServer = env.rank == 0 && !env.agent_store;
  if (!env.agent_store) store_options.numWorkers = static_cast<std::size_t>(env.world_size);
  store_options.waitWorkers = !env.agent_store;
  store_options.timeout = timeout;
  c10::intrusive_ptr<c10d::Store> store;
  try {
    store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, store_options);
  } catch (const std::exception& e) {
    throw std::runtime_error("rank " + std::to_string(env.rank) + ": cannot reach the rendezvous at " +
                             env.master_addr + ":" + std::to_string(env.master_port) + " (MASTER_ADDR:MASTER_PORT): " +
                             e.what());
  }
  // torchrun keeps each restart's keys apart (as torch.distributed's env:// does).
  if (env.agent_store)
    store = c10::make_intrusive<c10d::PrefixStore>("/worker/attempt_" + std::to_string(env.restart_count), store);
  store = c10::make_intrusive<c10d::PrefixStore>("facekeys/", store);

  auto impl = std::make_unique<Impl>();
  impl->backend = name;
  impl->device = device;
  impl->rank = env.rank;
  impl->size = env.world_size;
  try {
    if (name == "gloo") {
      auto options = c10d::ProcessGroupGloo::Options::create(timeout);
      // As torch.distributed: GLOO_SOCKET_IFNAME picks the network interface;
      // otherwise the address this host's name resolves to (or loopback).
      const std::string ifname = env_or("GLOO_SOCKET_IFNAME", "");
      options->devices.push_back(ifname.empty() ? c10d::ProcessGroupGloo::createDefaultDevice()
                                                : c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
      options->threads = 2;
#if FACEKEYS_C10D_BACKENDS
      auto gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(store, env.rank, env.world_size, options);
      impl->pg = c10::make_intrusive<c10d::ProcessGroup>(store, env.rank, env.world_size);
      impl->pg->setDefaultBackend(c10d::ProcessGroup::BackendType::GLOO);
      impl->pg->setBackend(c10::DeviceType::CPU, c10d::ProcessGroup::BackendType::GLOO, gloo);
      if (device.is_cuda())
        impl->pg->setBackend(c10::DeviceType::CUDA, c10d::ProcessGroup::BackendType::GLOO, gloo);
#else
      impl->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(store, env.rank, env.world_size, options);
#endif
    } else {
#ifdef FACEKEYS_WITH_NCCL
      auto options = c10d::ProcessGroupNCCL::Options::create();
      options->timeout = timeout;
      auto nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, env.rank, env.world_size, options);
#if FACEKEYS_C10D_BACKENDS
      impl->pg = c10::make_intrusive<c10d::ProcessGroup>(store, env.rank, env.world_size);
      impl->pg->setDefaultBackend(c10d::ProcessGroup::BackendType::NCCL);
      impl->pg->setBackend(c10::DeviceType::CUDA, c10d::ProcessGroup::BackendType::NCCL, nccl);
#else
      impl->pg = nccl;
#endif
#endif
    }
  } catch (const std::exception& e) {
    throw std::runtime_error("rank " + std::to_string(env.rank) + ": cannot set up the " + name +
                             " process group of " + std::to_string(env.world_size) + " ranks: " + e.what());
  }
  return std::unique_ptr<ProcessGroup>(new ProcessGroup(std::move(impl)));
}

void ProcessGroup::broadcast_from_rank0(std::vector<torch::Tensor> tensors) {
  torch::NoGradGuard no_grad;
  for (auto& t : tensors) {
    // c10d takes contiguous tensors; parameters and buffers are.
    std::vector<at::Tensor> one{t.detach()};
    c10d::BroadcastOptions options;
    options.rootRank = 0;
    impl_->wait(impl_->pg->broadcast(one, options));
  }
}

void ProcessGroup::all_reduce_sum(torch::Tensor& tensor) {
  std::vector<at::Tensor> one{tensor};
  impl_->wait(impl_->pg->allreduce(one));
}

std::vector<double> ProcessGroup::all_reduce_sum(const std::vector<double>& values) {
  auto t = torch::tensor(values, torch::kFloat64).to(impl_->device);
  all_reduce_sum(t);
  t = t.cpu();
  return std::vector<double>(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
}

bool ProcessGroup::all_agree(bool rank0_value) {
  auto t = torch::tensor({rank0_value ? 1 : 0}, torch::kInt32).to(impl_->device);
  broadcast_from_rank0({t});
  return t.cpu().item<int>() != 0;
}

void ProcessGroup::barrier() { impl_->wait(impl_->pg->barrier()); }

// DDP's bucketed averaging (torch/nn/parallel/distributed.py and c10d's
// reducer, whose C++ header Debian's 1.13 ships without the headers it
// includes): gradients are copied into flat buckets as autograd computes them,
// and a bucket is all-reduced, asynchronously, as soon as it and every bucket
// before it are full, so the communication of the last layers overlaps the
// backward pass of the first. Buckets are launched in the same order on every
// rank, whatever order the hooks fire in, since c10d matches collectives by
// their order.
struct GradientSync::Impl {
  struct Bucket {
    torch::Tensor contents;            // flat, one dtype and device
    std::vector<std::size_t> members;  // parameter indices
    std::vector<torch::Tensor> views;  // of contents, shaped as the members
    std::size_t pending = 0;
    c10::intrusive_ptr<c10d::Work> work;
  };
  ProcessGroup* group = nullptr;
  std::vector<torch::Tensor> params;
  std::vector<std::pair<std::size_t, std::size_t>> where;  // parameter -> (bucket, view)
  std::vector<Bucket> buckets;
  std::vector<unsigned> hooks;
  std::size_t next = 0;  // the first bucket not launched yet
  bool armed = false;
  std::mutex mutex;
  double divisor = 1;

  void launch_ready() {
    while (next < buckets.size() && buckets[next].pending == 0) {
      std::vector<at::Tensor> one{buckets[next].contents};
      buckets[next].work = group->impl().pg->allreduce(one);
      ++next;
    }
  }

  void on_gradient(std::size_t index, const torch::Tensor& grad) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!armed) return;
    auto [b, v] = where[index];
    buckets[b].views[v].copy_(grad).div_(divisor);  // DDP divides first, so that the sum is the mean
    --buckets[b].pending;
    launch_ready();
  }
};

GradientSync::GradientSync(ProcessGroup& group, const std::vector<torch::Tensor>& parameters, double bucket_mib)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.group = &group;
  m.params = parameters;
  m.divisor = group.size();
  // Every rank must hold the same architecture: compare the tensor count and
  // sizes with rank 0's before anything is averaged.
  int64_t values = 0;
  for (const auto& p : parameters) values += p.numel();
  const auto here = std::vector<double>{static_cast<double>(parameters.size()), static_cast<double>(values)};
  auto rank0 = torch::tensor(here, torch::kFloat64).to(group.impl().device);
  group.broadcast_from_rank0({rank0});
  rank0 = rank0.cpu();
  if (rank0[0].item<double>() != here[0] || rank0[1].item<double>() != here[1])
    throw std::runtime_error("rank " + std::to_string(group.rank()) + "'s model has " + std::to_string(parameters.size()) +
                             " parameter tensors of " + std::to_string(values) + " values, rank 0's " +
                             std::to_string(static_cast<int64_t>(rank0[0].item<double>())) + " of " +
                             std::to_string(static_cast<int64_t>(rank0[1].item<double>())) +
                             ": every rank must train the same model");

  // Buckets in reverse parameter order (the backward pass computes the last
  // layers first): the first one small (1 MiB) so communication starts early.
  const auto cap = static_cast<int64_t>(bucket_mib * 1024 * 1024);
  m.where.resize(parameters.size());
  std::vector<std::size_t> current;
  int64_t current_bytes = 0;
  auto close_bucket = [&] {
    if (current.empty()) return;
    Impl::Bucket b;
    int64_t n = 0;
    for (auto i : current) n += parameters[i].numel();
    b.contents = torch::zeros({n}, parameters[current[0]].options().requires_grad(false));
    int64_t offset = 0;
    for (auto i : current) {
      m.where[i] = {m.buckets.size(), b.views.size()};
      b.views.push_back(b.contents.narrow(0, offset, parameters[i].numel()).view(parameters[i].sizes()));
      offset += parameters[i].numel();
    }
    b.members = current;
    m.buckets.push_back(std::move(b));
    current.clear();
    current_bytes = 0;
  };
  for (std::size_t k = parameters.size(); k-- > 0;) {
    const auto& p = parameters[k];
    if (!current.empty() && (p.scalar_type() != parameters[current[0]].scalar_type() ||
                             p.device() != parameters[current[0]].device()))
      close_bucket();
    current.push_back(k);
    current_bytes += p.numel() * static_cast<int64_t>(p.element_size());
    bytes_ += p.numel() * static_cast<int64_t>(p.element_size());
    if (current_bytes >= (m.buckets.empty() ? static_cast<int64_t>(1024 * 1024) : cap)) close_bucket();
  }
  close_bucket();
  buckets_ = static_cast<int>(m.buckets.size());
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    Impl* impl = impl_.get();
    m.hooks.push_back(m.params[i].register_hook([impl, i](torch::Tensor grad) { impl->on_gradient(i, grad); }));
  }
}

GradientSync::~GradientSync() {
  for (std::size_t i = 0; i < impl_->hooks.size(); ++i) impl_->params[i].remove_hook(impl_->hooks[i]);
}

void GradientSync::backward(const torch::Tensor& loss) {
  Impl& m = *impl_;
  {
    std::lock_guard<std::mutex> lock(m.mutex);
    for (auto& b : m.buckets) {
      b.pending = b.members.size();
      b.work.reset();
    }
    m.next = 0;
    m.armed = true;
  }
  try {
    loss.backward();  // the hooks fill the buckets and launch their all-reduces
    std::lock_guard<std::mutex> lock(m.mutex);
    m.armed = false;
    // A parameter without a gradient this step (none in facekeys' models)
    // counts as zero, so that every rank still launches every bucket.
    for (auto& b : m.buckets)
      for (std::size_t v = 0; v < b.members.size() && b.pending > 0; ++v)
        if (!m.params[b.members[v]].grad().defined()) {
          b.views[v].zero_();
          --b.pending;
        }
    m.launch_ready();
    if (m.next != m.buckets.size()) throw std::logic_error("a gradient bucket was not filled");
    for (auto& b : m.buckets) {
      m.group->impl().wait(b.work);
      for (std::size_t v = 0; v < b.members.size(); ++v) {
        auto grad = m.params[b.members[v]].mutable_grad();
        if (grad.defined())
          grad.copy_(b.views[v]);
        else
          m.params[b.members[v]].mutable_grad() = b.views[v].clone();
      }
    }
  } catch (const CommunicationError& e) {
    m.armed = false;
    throw CommunicationError(std::string("averaging gradients: ") + e.what());
  } catch (...) {
    m.armed = false;
    throw;
  }
}

#else  // no c10d in this build: everything runs as one process, and says so when asked for more

namespace {
[[noreturn]] void no_c10d() {
  throw std::runtime_error("WORLD_SIZE > 1, but this facekeys was built without torch.distributed (c10d or Gloo "
                           "headers were missing: on Debian install libgloo-dev and rebuild)");
}
}  // namespace

bool distributed_available() { return false; }
bool nccl_available() { return false; }
struct ProcessGroup::Impl {};
ProcessGroup::ProcessGroup(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ProcessGroup::~ProcessGroup() = default;
std::unique_ptr<ProcessGroup> ProcessGroup::join(const DistEnv&, const torch::Device&, const std::string&,
                                                 std::chrono::milliseconds) {
  no_c10d();
}
int ProcessGroup::rank() const { return 0; }
int ProcessGroup::size() const { return 1; }
const std::string& ProcessGroup::backend() const { no_c10d(); }
void ProcessGroup::broadcast_from_rank0(std::vector<torch::Tensor>) { no_c10d(); }
void ProcessGroup::all_reduce_sum(torch::Tensor&) { no_c10d(); }
std::vector<double> ProcessGroup::all_reduce_sum(const std::vector<double>&) { no_c10d(); }
bool ProcessGroup::all_agree(bool) { no_c10d(); }
void ProcessGroup::barrier() { no_c10d(); }
struct GradientSync::Impl {};
GradientSync::GradientSync(ProcessGroup&, const std::vector<torch::Tensor>&, double) { no_c10d(); }
GradientSync::~GradientSync() = default;
void GradientSync::backward(const torch::Tensor&) {}

#endif  // FACEKEYS_WITH_C10D

}  // namespace facekeys
