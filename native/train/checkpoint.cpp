#include "train/checkpoint.hpp"

#include <cstring>
#include <stdexcept>

#include "facekeys/safetensors.hpp"

namespace facekeys {
namespace {

constexpr const char* kFormat = "facekeys-checkpoint";
constexpr int kVersion = 1;

TensorRecord to_record(const std::string& name, const torch::Tensor& t) {
  auto c = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  TensorRecord r;
  r.name = name;
  r.dtype = DType::F32;
  r.shape.assign(c.sizes().begin(), c.sizes().end());
  r.bytes.resize(c.numel() * sizeof(float));
  if (c.numel() > 0) std::memcpy(r.bytes.data(), c.data_ptr<float>(), r.bytes.size());
  return r;
}

torch::Tensor from_record(const TensorRecord& r, const std::string& path) {
  if (r.dtype != DType::F32) throw std::runtime_error(path + ": tensor '" + r.name + "' is not F32");
  auto t = torch::empty(r.shape, torch::kFloat32);
  if (t.numel() > 0) std::memcpy(t.data_ptr<float>(), r.bytes.data(), r.bytes.size());
  return t;
}

int to_int(const std::map<std::string, std::string>& m, const std::string& key, const std::string& path) {
  auto it = m.find(key);
  if (it == m.end()) throw std::runtime_error(path + ": checkpoint metadata has no '" + key + "'");
  try {
    std::size_t used = 0;
    long long v = std::stoll(it->second, &used);
    if (used == it->second.size()) return static_cast<int>(v);
  } catch (const std::exception&) {
  }
  throw std::runtime_error(path + ": checkpoint metadata '" + key + "' is not an integer");
}

}  // namespace

void save_checkpoint(const std::string& path, const ModelSpec& spec, KeypointNet& model, const Adam* optimizer,
                     int epoch, const std::map<std::string, std::string>& extra,
                     const std::vector<std::pair<std::string, torch::Tensor>>& average) {
  SafeTensorsFile st;
  st.metadata = extra;
  st.metadata["format"] = kFormat;
  st.metadata["version"] = std::to_string(kVersion);
  st.metadata["arch"] = spec.arch;
  st.metadata["schema"] = spec.schema;
  st.metadata["input_w"] = std::to_string(spec.input_w);
  st.metadata["input_h"] = std::to_string(spec.input_h);
  st.metadata["channels"] = std::to_string(spec.channels);
  st.metadata["num_points"] = std::to_string(spec.num_points);
  st.metadata["output"] = output_kind_name(spec.output);
  st.metadata["epoch"] = std::to_string(epoch);
  for (const auto& [name, t] : named_tensors(model)) st.tensors.push_back(to_record(name, t));
  if (optimizer) {
    st.metadata["optimizer_step"] = std::to_string(optimizer->steps());
    for (const auto& s : optimizer->state()) st.tensors.push_back(to_record(s.first, s.second));
  }
  for (const auto& [name, t] : average) st.tensors.push_back(to_record("ema." + name, t));
  write_safetensors(path, st);
}

Checkpoint load_checkpoint(const std::string& path) {
  SafeTensorsFile st = read_safetensors(path);
  st.require_format(path, kFormat, kVersion, "checkpoint");
  Checkpoint ck;
  ck.metadata = st.metadata;
  const std::string arch = st.meta("arch", path);
  try {
    ck.spec = model_spec(arch);
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
  ck.spec.schema = st.meta("schema", path);
  ck.spec.input_w = to_int(st.metadata, "input_w", path);
  ck.spec.input_h = to_int(st.metadata, "input_h", path);
  ck.spec.channels = to_int(st.metadata, "channels", path);
  ck.spec.num_points = to_int(st.metadata, "num_points", path);
  const std::string output = st.meta("output", path);
  ck.epoch = to_int(st.metadata, "epoch", path);
  // The metadata must describe the architecture it names: a damaged field is
  // refused here rather than trained or scored on as if nothing happened.
  const ModelSpec& zoo = model_spec(arch);
  auto damaged = [&](const std::string& what) {
    throw std::runtime_error(path + ": checkpoint metadata is damaged: " + what);
  };
  if (output != output_kind_name(zoo.output))
    damaged("'output' is '" + output + "', but a " + arch + " outputs '" + output_kind_name(zoo.output) + "'");
  if (ck.spec.channels != zoo.channels)
    damaged("'channels' is " + std::to_string(ck.spec.channels) + ", a " + arch + " reads " +
            std::to_string(zoo.channels));
  if (ck.spec.input_w < 16 || ck.spec.input_w > 2048 || ck.spec.input_h < 16 || ck.spec.input_h > 2048)
    damaged("input size " + std::to_string(ck.spec.input_w) + "x" + std::to_string(ck.spec.input_h) +
            " is not within 16..2048");
  if (ck.spec.num_points < 1 || ck.spec.num_points > 1000)
    damaged("'num_points' is " + std::to_string(ck.spec.num_points));
  if (ck.epoch < 0) damaged("'epoch' is negative");
  ck.model = make_model(ck.spec);

  torch::NoGradGuard no_grad;
  auto load_into = [&](const std::string& name, torch::Tensor dst) {
    const TensorRecord* r = st.find(name);
    if (!r) throw std::runtime_error(path + ": checkpoint of " + arch + " lacks tensor '" + name + "'");
    auto src = from_record(*r, path);
    if (src.sizes() != dst.sizes())
      throw std::runtime_error(path + ": tensor '" + name + "' has shape " + c10::str(src.sizes()) + ", model " +
                               arch + " expects " + c10::str(dst.sizes()));
    dst.copy_(src);
  };
  for (auto& [name, t] : named_tensors(*ck.model)) load_into(name, t);

  if (st.metadata.count("optimizer_step")) {
    ck.optimizer_step = to_int(st.metadata, "optimizer_step", path);
    for (const auto& r : st.tensors)
      if (r.name.rfind("adam.", 0) == 0) ck.optimizer_state[r.name] = from_record(r, path);
  }
  for (const auto& r : st.tensors)
    if (r.name.rfind("ema.", 0) == 0) ck.average[r.name.substr(4)] = from_record(r, path);
  return ck;
}

std::vector<std::pair<std::string, torch::Tensor>> named_tensors(torch::nn::Module& model) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (auto& p : model.named_parameters()) out.emplace_back(p.key(), p.value());
  for (auto& b : model.named_buffers()) out.emplace_back(b.key(), b.value());
  return out;
}

int load_matching_weights(KeypointNet& model, const std::string& path, std::vector<std::string>* notes) {
  const SafeTensorsFile st = read_safetensors(path);
  auto note = [&](const std::string& s) {
    if (notes) notes->push_back(s);
  };
  std::map<std::string, torch::Tensor> targets;
  for (auto& [name, t] : named_tensors(model)) targets[name] = t;
  torch::NoGradGuard no_grad;
  int loaded = 0, narrowed = 0;
  for (const auto& r : st.tensors) {
    auto it = targets.find(r.name);
    if (it == targets.end()) {
      if (r.name.rfind("adam.", 0) != 0 && r.name.rfind("ema.", 0) != 0)
        note("'" + r.name + "' is not in the model: skipped");
      continue;
    }
    torch::ScalarType type;
    switch (r.dtype) {
      case DType::F64: type = torch::kFloat64; break;
      case DType::F32: type = torch::kFloat32; break;
      case DType::F16: type = torch::kFloat16; break;
      case DType::BF16: type = torch::kBFloat16; break;
      case DType::I64: type = torch::kInt64; break;
      case DType::I32: type = torch::kInt32; break;
      default:
        note("'" + r.name + "' has dtype " + dtype_name(r.dtype) + ": skipped");
        targets.erase(it);
        continue;
    }
    auto src = torch::empty(r.shape, torch::TensorOptions().dtype(type));
    if (src.numel() > 0) std::memcpy(src.data_ptr(), r.bytes.data(), r.bytes.size());
    torch::Tensor dst = it->second;
    if (src.dim() == 4 && dst.dim() == 4 && src.size(1) == 3 && dst.size(1) == 1 && src.size(0) == dst.size(0) &&
        src.size(2) == dst.size(2) && src.size(3) == dst.size(3)) {
      src = src.to(torch::kFloat32).sum(1, /*keepdim=*/true);
      note("'" + r.name + "': 3 input channels summed into 1");
    }
    if (src.sizes() != dst.sizes()) {
      if (torch::Tensor cut = model.narrowed(r.name, src, dst.sizes()); cut.defined()) {
        src = cut;
        ++narrowed;
      }
    }
    if (src.sizes() != dst.sizes()) {
      note("'" + r.name + "' has shape " + c10::str(src.sizes()) + ", the model's is " + c10::str(dst.sizes()) +
           ": skipped (kept its fresh initialisation)");
      targets.erase(it);
      continue;
    }
    dst.copy_(src.to(dst.dtype()));
    targets.erase(it);
    ++loaded;
  }
  // BatchNorm's num_batches_tracked only counts steps (no weights use it with the
  // default momentum); exported graphs do not carry it.
  const std::string counter = "num_batches_tracked";
  for (const auto& t : targets)
    if (t.first.size() < counter.size() || t.first.compare(t.first.size() - counter.size(), counter.size(), counter) != 0)
      note("'" + t.first + "' is not in the file: kept its fresh initialisation");
  if (narrowed > 0) note(std::to_string(narrowed) + " tensors of a wider model, cut to their first channels");
  if (loaded == 0) throw std::runtime_error(path + ": no tensor matches the model by name and shape");
  return loaded;
}

}  // namespace facekeys
